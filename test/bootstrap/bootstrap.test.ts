import { spawn } from 'child_process';
import { createHmac } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DERIVED_SECRET_PURPOSES, HOST_PATHS, SECRET_PURPOSES, STORED_SECRET_PURPOSES } from '../../ops/src/contract';
import { synthDeployment } from '../helpers/app';
import { renderUserData } from '../helpers/render-user-data';
import { unzipSync } from 'fflate';
import { zipDirectory } from '../helpers/zip';
import { psTable } from '../runtime/helpers/fake-host';

const REPO = path.resolve(__dirname, '..', '..');
const RUNTIME_STUBS = path.join(REPO, 'test', 'runtime', 'helpers', 'stubs');
const BOOTSTRAP_STUBS = path.join(__dirname, 'stubs');
/** Stand-ins for host scripts other helpers own (functional check, exposure), put into the runtime zip. */
const FAKE_RUNTIME = path.join(__dirname, 'fake-runtime');
const FILE_SYSTEM_ID = 'fs-0123456789abcdef0';
/** Strong enough for n8n (digit, upper case), with a quote, a backslash and a dollar that must reach JSON intact. */
const OWNER_PASSWORD = 'Own3r"Pa\\ss$word-1';
const OWNER_PURPOSE = 'n8n-owner-password';
/** What the aws stub answers for the encryption key, the root of every derived secret. */
const ENCRYPTION_KEY = 'value-of-n8n-encryption-key';
/** A derived secret as the host must compute it (contract: HMAC-SHA256 of `geusemaker/<purpose>`, first 48 hex digits). */
const derived = (purpose: string) => createHmac('sha256', ENCRYPTION_KEY).update(`geusemaker/${purpose}`).digest('hex').slice(0, 48);
/** The Compose plugin release assets and the sha256 docker publishes for them (v5.1.3, as docker-library/docker verifies). */
const COMPOSE_ASSETS = {
  x86_64: { url: 'https://github.com/docker/compose/releases/download/v5.1.3/docker-compose-linux-x86_64', sha256: 'a0298760c9772d2c06888fc8703a487c94c3c3b0134adeef830742a2fc7647b4' },
  aarch64: { url: 'https://github.com/docker/compose/releases/download/v5.1.3/docker-compose-linux-aarch64', sha256: 'e8105a3e687ea7e0b0f81abe4bf9269c8a2801fb72c2b498b5ff2472bc54145f' },
};

const temporaryDirs: string[] = [];
function temporaryDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temporaryDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** The runtime asset as CDK would upload it (a zip of docker/), with the stand-ins in host/. */
let runtimeZip: string;
let runtimeExtracted: string;
/** Where the fake n8n (stubs/curl) keeps what node parsed of a request body, for the next boot with the same body. */
let jsonCache: string;
let userData: { dev: string; automation: string; gpu: string };
const deployTimeValues = {
  region: 'eu-west-1',
  account: '123456789012',
  references: (name: string) => (name === 'FileSystemId' ? FILE_SYSTEM_ID : `ref-${name}`),
};

beforeAll(() => {
  const dir = temporaryDir('gm-asset-');
  const runtime = path.join(dir, 'docker');
  fs.cpSync(path.join(REPO, 'docker'), runtime, { recursive: true });
  for (const script of fs.readdirSync(FAKE_RUNTIME)) fs.copyFileSync(path.join(FAKE_RUNTIME, script), path.join(runtime, 'host', script));
  runtimeZip = path.join(dir, 'runtime.zip');
  zipDirectory(runtime, runtimeZip);
  // Extracted once, the way the unzip stub would, so each boot copies it instead of starting node (stubs/unzip).
  runtimeExtracted = path.join(dir, 'extracted');
  for (const [name, data] of Object.entries(unzipSync(fs.readFileSync(runtimeZip)))) {
    const file = path.join(runtimeExtracted, name);
    if (name.endsWith('/')) fs.mkdirSync(file, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, data);
    }
  }
  jsonCache = temporaryDir('gm-json-cache-');
  userData = {
    dev: synthesizedUserData('my-stack', { tier: 'dev' }),
    automation: synthesizedUserData('demo', { tier: 'automation' }),
    gpu: synthesizedUserData('lab', { tier: 'gpu' }),
  };
});

/** The user data of a deployment's host, resolved as CloudFormation would (the app's cdk.out is removed afterwards). */
function synthesizedUserData(name: string, settings: Record<string, unknown>): string {
  const deployment = synthDeployment(name, settings);
  temporaryDirs.push(deployment.app.outdir);
  return renderUserData(deployment.compute, deployTimeValues);
}

/** The user data with one host setting (a line of its host.env) set to `value`. */
function withHostSetting(script: string, key: string, value: string): string {
  const line = new RegExp(`^${key}=.*$`, 'm');
  const setting = `${key}='${value}'`;
  return line.test(script) ? script.replace(line, setting) : script.replace(/^GM_HOST_ENV$/m, `${setting}\nGM_HOST_ENV`);
}

interface Boot {
  readonly code: number | null;
  readonly root: string;
  readonly calls: string[];
  readonly log: string;
  readonly state: string;
}

interface BootOptions {
  /** Writes the stubs' answer files before the boot. */
  readonly prepare?: (state: string, root: string) => void;
  readonly env?: Record<string, string>;
  /** Commands the AMI lacks (default: docker, as on AL2023); `dnf install` provides them. */
  readonly missing?: string[];
}

/** A bin dir linking every stub (bootstrap stubs win), except the commands the AMI lacks. */
function stubBin(root: string, missing: string[]): string {
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  for (const dir of [BOOTSTRAP_STUBS, RUNTIME_STUBS]) {
    for (const name of fs.readdirSync(dir)) {
      const link = path.join(bin, name);
      if (missing.includes(name) || fs.existsSync(link)) continue;
      fs.symlinkSync(path.join(dir, name), link);
    }
  }
  return bin;
}

/** Runs the rendered user data under bash, in a temp dir standing in for the host, with stubs first on PATH. */
function boot(script: string, options: BootOptions = {}): Promise<Boot> {
  const root = temporaryDir('gm-host-');
  const state = path.join(root, 'stub-state');
  fs.mkdirSync(state);
  // A healthy stack unless the test says otherwise (the runtime stubs' answer files).
  fs.writeFileSync(path.join(state, 'ps'), psTable());
  fs.writeFileSync(path.join(state, 'inspect'), 'running healthy\n');
  fs.writeFileSync(path.join(state, 'import'), 'Successfully imported 3 credentials.\n');
  fs.writeFileSync(path.join(state, 'curl.imds-token'), '200\ntoken-1');
  fs.writeFileSync(path.join(state, 'curl.instance-id'), '200\ni-0abc');
  fs.writeFileSync(path.join(state, `secret.${OWNER_PURPOSE}`), `${OWNER_PASSWORD}\n`);
  // A deployment made with the stored/derived layout: the derived purposes have no secret of their own.
  fs.writeFileSync(path.join(state, 'secrets-missing'), DERIVED_SECRET_PURPOSES.map(({ purpose }) => `${purpose}\n`).join(''));
  // The Compose plugin is already there unless a test says otherwise (then it is downloaded for uname -m).
  fs.writeFileSync(path.join(state, 'compose-preinstalled'), 'Docker Compose version v5.1.3\n');
  options.prepare?.(state, root);
  const stubLog = path.join(root, 'calls.log');
  fs.writeFileSync(stubLog, '');
  const scriptFile = path.join(root, 'user-data.sh');
  fs.writeFileSync(scriptFile, script);
  const bin = stubBin(root, options.missing ?? ['docker']);
  return new Promise((resolve) => {
    const child = spawn('bash', [scriptFile], {
      detached: true,
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        HOME: root,
        GM_PREFIX: root,
        STUB_STATE: state,
        STUB_LOG: stubLog,
        STUB_COMMON: path.join(RUNTIME_STUBS, '_stub_common.sh'),
        STUB_BIN: bin,
        STUB_NODE: process.execPath,
        RUNTIME_STUBS,
        BOOTSTRAP_STUBS,
        RUNTIME_ZIP: runtimeZip,
        RUNTIME_EXTRACTED: runtimeExtracted,
        STUB_JSON_CACHE: jsonCache,
        GM_MOUNT_ATTEMPTS: '3',
        GM_HEALTH_ATTEMPTS: '3',
        GM_OWNER_ATTEMPTS: '3',
        GM_FENCE_ATTEMPTS: '2',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (code) => {
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* the group is gone */ }
      const logFile = path.join(root, HOST_PATHS.bootstrapLog);
      resolve({
        code,
        root,
        state,
        calls: fs.readFileSync(stubLog, 'utf8').split('\n').filter(Boolean),
        log: (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '') + output,
      });
    });
  });
}

/** One boot shared by the tests that only read the same boot (each boot costs about 200 processes). */
function sharedBoot(script: () => string, options: BootOptions = {}): () => Promise<Boot> {
  let result: Promise<Boot> | undefined;
  return () => (result ??= boot(script(), options));
}
const plainDevBoot = sharedBoot(() => userData.dev);
const plainAutomationBoot = sharedBoot(() => userData.automation);
/** A dev host whose `docker compose up` fails. */
const failedComposeUpBoot = sharedBoot(() => userData.dev, { prepare: (state) => write(state, 'up.exit', '1') });

const write = (state: string, file: string, content: string) => fs.writeFileSync(path.join(state, file), content);
const signals = (calls: string[]) => calls.filter((c) => c.startsWith('cfn-signal') || c.startsWith('aws cloudformation signal-resource'));
const indexOf = (calls: string[], pattern: RegExp) => calls.findIndex((c) => pattern.test(c));
const steps = (log: string) => [...log.matchAll(/step ([a-z0-9-]+): (ok|FAILED)/g)].map((m) => `${m[1]} ${m[2]}`);
/** Calls made while the bootstrap ran step `name` (the n8n curl stub and the stand-ins record it). */
const duringStep = (calls: string[], name: string) => calls.filter((c) => c.endsWith(` (step ${name})`));
const released = (calls: string[]) => calls.some((c) => c.startsWith('aws autoscaling complete-lifecycle-action'));
/** The bootstrap's own expose-n8n step ran (start.sh may call the same script on later boots). */
const exposedByBootstrap = (calls: string[]) => calls.some((c) => c === 'expose-n8n  (step expose-n8n)');
const markedUnhealthy = (calls: string[]) => calls.includes('aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0abc --health-status Unhealthy --no-should-respect-grace-period');
const failureReason = (calls: string[]) => /--reason (.*) --stack /.exec(signals(calls)[0] ?? '')?.[1];
const ownerClaimedBy = (email: string, password: string) => JSON.stringify({ email, firstName: 'Someone', lastName: 'Else', password });

describe('the rendered bootstrap, executed under bash', () => {
  test('success: every step in order, then exactly one success signal, after the health wait', async () => {
    const result = await plainDevBoot();
    expect(steps(result.log)).toEqual([
      'install-packages ok', 'mount-efs ok', 'write-secrets ok', 'start-runtime ok', 'setup-owner ok',
      'functional-check ok', 'expose-n8n ok', 'enable-services ok', 'release-host ok',
    ]);
    expect(signals(result.calls)).toEqual([
      expect.stringMatching(/^cfn-signal --exit-code 0 .*--stack GeuseDev-my-stack --resource HostASG[0-9A-F]+ --region eu-west-1$/),
    ]);
    const lastHealthRead = result.calls.map((c, i) => (/docker compose .*ps/.test(c) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    expect(lastHealthRead).toBeGreaterThan(-1);
    expect(indexOf(result.calls, /^cfn-signal/)).toBeGreaterThan(lastHealthRead);
    expect(result.code).toBe(0);
  });

  test('models are pulled only after the success signal, in the background; a failed boot pulls none', async () => {
    const [ok, failed] = await Promise.all([plainDevBoot(), failedComposeUpBoot()]);
    const models = 'systemctl start --no-block geusemaker-models.service';
    expect(ok.calls.filter((c) => c === models)).toHaveLength(1);
    expect(ok.calls.indexOf(models)).toBeGreaterThan(indexOf(ok.calls, /^cfn-signal --exit-code 0 /));
    expect(failed.calls).not.toContain(models);
  });

  test('the functional check runs after the owner exists, and n8n is exposed only after it passed', async () => {
    const result = await plainAutomationBoot();
    const owner = indexOf(result.calls, /\/rest\/owner\/setup/);
    const check = indexOf(result.calls, /^functional-check .*\(step functional-check\)$/);
    const expose = indexOf(result.calls, /^expose-n8n .*\(step expose-n8n\)$/);
    expect(owner).toBeGreaterThan(-1);
    expect(check).toBeGreaterThan(owner);
    expect(expose).toBeGreaterThan(check);
    expect(indexOf(result.calls, /^aws autoscaling complete-lifecycle-action/)).toBeGreaterThan(expose);
  });

  test('EFS is mounted with TLS and IAM and recorded in fstab', async () => {
    const result = await plainDevBoot();
    expect(result.calls).toContain(`mount -t efs -o tls,iam ${FILE_SYSTEM_ID}:/ ${result.root}/mnt/efs`);
    expect(fs.readFileSync(path.join(result.root, 'etc', 'fstab'), 'utf8')).toContain(`${FILE_SYSTEM_ID}:/ ${result.root}/mnt/efs efs _netdev,tls,iam,nofail 0 0`);
  });

  test('the Docker daemon may download 10 layers at a time (default 3), so the five images come in side by side', async () => {
    const result = await plainDevBoot();
    const daemonJson = path.join(result.root, 'etc', 'docker', 'daemon.json');
    expect(JSON.parse(fs.readFileSync(daemonJson, 'utf8'))).toEqual({ 'max-concurrent-downloads': 10 });
    expect(fs.statSync(daemonJson).mode & 0o777).toBe(0o644);
  });

  test('Docker is installed but never enabled at boot; it is started after EFS is mounted', async () => {
    const result = await plainDevBoot();
    expect(result.calls).toContain("dnf install -y docker-25.0.*");
    expect(result.calls.some((c) => /^systemctl enable\b.*\bdocker(\.service)?( |$)/.test(c))).toBe(false);
    const start = indexOf(result.calls, /^systemctl start docker(\.service)?$/);
    expect(start).toBeGreaterThan(indexOf(result.calls, /^mount -t efs/));
    expect(start).toBeLessThan(indexOf(result.calls, /^docker compose .* up/));
  });

  test('the env file is root-only (600) and holds all six secrets: the stored ones read, the others derived', async () => {
    const result = await plainDevBoot();
    const envFile = path.join(result.root, HOST_PATHS.envFile);
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(envFile, 'utf8').trim().split('\n').sort();
    const stored = (purpose: string) => (purpose === OWNER_PURPOSE ? OWNER_PASSWORD : `value-of-${purpose}`);
    expect(lines).toEqual(SECRET_PURPOSES.map(({ purpose, envVar, source }) => `${envVar}=${source === 'stored' ? stored(purpose) : derived(purpose)}`).sort());
    // Every name is asked for: the stored secrets, and the legacy names of the derived ones (which do not exist here).
    for (const { purpose } of SECRET_PURPOSES) {
      expect(result.calls).toContain(`aws secretsmanager get-secret-value --region eu-west-1 --secret-id geusemaker/my-stack/${purpose} --query SecretString --output text`);
    }
    expect(result.log).not.toContain('value-of-');
    expect(result.log).not.toContain(OWNER_PASSWORD);
  });

  test('the synthesized user data passes the stored secrets in GM_SECRETS and the derived ones (legacy names) in GM_DERIVED_SECRETS', () => {
    const setting = (key: string) => new RegExp(`^${key}='([^']*)'$`, 'm').exec(userData.dev)?.[1];
    expect(setting('GM_SECRETS')).toBe(STORED_SECRET_PURPOSES.map(({ purpose, envVar }) => `${envVar}=geusemaker/my-stack/${purpose}`).join(','));
    expect(setting('GM_DERIVED_SECRETS')).toBe(DERIVED_SECRET_PURPOSES.map(({ purpose, envVar }) => `${envVar}=geusemaker/my-stack/${purpose}`).join(','));
  });

  test('derived secrets differ per purpose and never appear in the log or on a command line', async () => {
    const result = await plainDevBoot();
    const values = DERIVED_SECRET_PURPOSES.map(({ purpose }) => derived(purpose));
    expect(new Set(values).size).toBe(DERIVED_SECRET_PURPOSES.length);
    for (const value of [...values, ENCRYPTION_KEY]) {
      expect(result.log).not.toContain(value);
      expect(result.calls.join('\n')).not.toContain(value);
    }
    expect(result.log).toContain('QDRANT_API_KEY: no secret geusemaker/my-stack/qdrant-api-key (a deployment made after the derivation): derived from the encryption key');
  });

  test('derived values are stable across boots, and a secret retained from before the derivation wins over its derived value', async () => {
    const [first, second] = await Promise.all([
      plainDevBoot(),
      boot(userData.dev, { prepare: (state) => write(state, 'secrets-missing', 'postgres-password\nn8n-jwt-secret\ncrawl4ai-api-token\n') }),
    ]);
    const env = (b: Boot) => fs.readFileSync(path.join(b.root, HOST_PATHS.envFile), 'utf8').trim().split('\n').sort();
    expect(env(second)).toContain('QDRANT_API_KEY=value-of-qdrant-api-key');
    expect(env(second).filter((l) => !l.startsWith('QDRANT_API_KEY='))).toEqual(env(first).filter((l) => !l.startsWith('QDRANT_API_KEY=')));
    expect(second.log).toContain('QDRANT_API_KEY: kept the value of the retained secret geusemaker/my-stack/qdrant-api-key');
    expect(signals(second.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('an error other than ResourceNotFoundException on a legacy name fails write-secrets in one line and writes no env file', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'secret.qdrant-api-key.error', 'ThrottlingException') });
    expect(failureReason(result.calls)).toBe('bootstrap step write-secrets failed: could not read the secret for QDRANT_API_KEY (geusemaker/my-stack/qdrant-api-key): ThrottlingException');
    expect(fs.existsSync(path.join(result.root, HOST_PATHS.envFile))).toBe(false);
  });

  test('a stored secret that does not exist fails write-secrets: the encryption key is never made up', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'secrets-missing', 'n8n-encryption-key\n') });
    expect(failureReason(result.calls)).toBe('bootstrap step write-secrets failed: could not read the secret for N8N_ENCRYPTION_KEY (geusemaker/my-stack/n8n-encryption-key): ResourceNotFoundException');
    expect(fs.existsSync(path.join(result.root, HOST_PATHS.envFile))).toBe(false);
  });

  test('n8n\'s owner is set up on localhost with the owner password as valid JSON (a quote and a backslash in it) on stdin, not argv', async () => {
    const result = await plainDevBoot();
    const owner = JSON.parse(fs.readFileSync(path.join(result.state, 'owner-setup.json'), 'utf8'));
    expect(owner).toEqual({ email: 'owner@example.com', firstName: 'GeuseMaker', lastName: 'Owner', password: OWNER_PASSWORD });
    expect(result.calls.join('\n')).not.toContain('Own3r');
    expect(result.calls.find((c) => c.includes('/rest/owner/setup'))).toContain('http://127.0.0.1:5678/rest/owner/setup');
  });

  test('after the setup the owner logs in with its password (on stdin), and only then the step passes', async () => {
    const result = await plainDevBoot();
    const owner = duringStep(result.calls, 'setup-owner');
    const setup = indexOf(owner, /\/rest\/owner\/setup /);
    const confirm = owner.findIndex((c, i) => i > setup && c.includes('http://127.0.0.1:5678/rest/settings '));
    const login = indexOf(owner, /-X POST .*http:\/\/127\.0\.0\.1:5678\/rest\/login /);
    expect(confirm).toBeGreaterThan(setup);
    expect(login).toBeGreaterThan(confirm);
    expect(owner[login]).not.toContain('Own3r');
    expect(result.log).toContain('n8n owner owner@example.com set up and able to log in');
  });

  test('an existing owner is left alone', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'n8n-owner.json', ownerClaimedBy('owner@example.com', OWNER_PASSWORD)) });
    expect(result.calls.some((c) => c.includes('/rest/owner/setup'))).toBe(false);
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('while n8n is still starting (refused, text page, 404 page) the owner setup asks again, then sets the owner up', async () => {
    const result = await boot(userData.dev, {
      prepare: (state) => {
        write(state, 'n8n-phase.1', 'starting');
        write(state, 'n8n-phase.2', 'not-found');
      },
      env: { GM_OWNER_ATTEMPTS: '4' },
    });
    const owner = duringStep(result.calls, 'setup-owner');
    const setup = indexOf(owner, /\/rest\/owner\/setup /);
    expect(owner.slice(0, setup).filter((c) => c.includes('/rest/settings '))).toHaveLength(3);
    expect(result.calls.filter((c) => c.startsWith('sleep '))).not.toHaveLength(0);
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('an n8n that never says whether it has an owner is never exposed: the step fails', async () => {
    const result = await boot(userData.automation, { prepare: (state) => write(state, 'n8n-phase', 'refused') });
    expect(duringStep(result.calls, 'setup-owner').filter((c) => c.includes('/rest/settings '))).toHaveLength(3);
    expect(result.calls.some((c) => c.includes('/rest/owner/setup'))).toBe(false);
    expect(released(result.calls)).toBe(false);
    expect(exposedByBootstrap(result.calls)).toBe(false);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/--exit-code 1 --reason bootstrap step setup-owner failed: n8n never said whether it has an owner/)]);
  });

  test('a password n8n refuses fails the step with n8n\'s message (never the password): no release, no exposure', async () => {
    const weak = 'weakpassword1';
    const result = await boot(userData.automation, { prepare: (state) => write(state, `secret.${OWNER_PURPOSE}`, `${weak}\n`) });
    expect(failureReason(result.calls)).toBe('bootstrap step setup-owner failed: n8n refused the owner: Password must contain at least 1 uppercase letter.');
    expect(signals(result.calls)).toHaveLength(1);
    expect(result.log).toContain('step setup-owner: FAILED');
    expect(result.log).not.toContain('set up and able to log in');
    expect(result.log).not.toContain(weak);
    expect(released(result.calls)).toBe(false);
    expect(exposedByBootstrap(result.calls)).toBe(false);
    expect(markedUnhealthy(result.calls)).toBe(true);
    expect(result.code).not.toBe(0);
  });

  test('an n8n error (HTTP 500) on the owner setup fails the step', async () => {
    const result = await boot(userData.automation, { prepare: (state) => write(state, 'n8n-owner-setup', '500') });
    expect(failureReason(result.calls)).toBe('bootstrap step setup-owner failed: n8n failed to set up the owner: HTTP 500 (Internal server error)');
    expect(released(result.calls)).toBe(false);
    expect(exposedByBootstrap(result.calls)).toBe(false);
  });

  test('a connection dropped during the owner setup fails the step', async () => {
    const result = await boot(userData.automation, { prepare: (state) => write(state, 'n8n-owner-setup', 'drop') });
    expect(failureReason(result.calls)).toBe('bootstrap step setup-owner failed: no answer from n8n to the owner setup (curl exit 52)');
    expect(released(result.calls)).toBe(false);
  });

  test('an owner setup answered 200 that n8n does not keep fails: success needs the settings to show the owner', async () => {
    const result = await boot(userData.automation, { prepare: (state) => write(state, 'n8n-owner-setup', 'forget') });
    expect(failureReason(result.calls)).toMatch(/^bootstrap step setup-owner failed: n8n still shows no owner after the owner setup/);
    expect(released(result.calls)).toBe(false);
  });

  test('"Instance owner already setup" is accepted when the settings confirm the owner and the owner is ours (it logs in)', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'n8n-claim-first', ownerClaimedBy('owner@example.com', OWNER_PASSWORD)) });
    expect(steps(result.log)).toContain('setup-owner ok');
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('"Instance owner already setup" by an owner who is not ours fails: our owner cannot log in', async () => {
    const result = await boot(userData.automation, { prepare: (state) => write(state, 'n8n-claim-first', ownerClaimedBy('someone@example.org', 'Th3irOwnPassword')) });
    expect(failureReason(result.calls)).toBe('bootstrap step setup-owner failed: the owner cannot log in to n8n: HTTP 401 (Wrong username or password. Do you have caps lock on?)');
    expect(released(result.calls)).toBe(false);
    expect(exposedByBootstrap(result.calls)).toBe(false);
  });

  test('with GM_N8N_TLS=self-signed the owner is set up over https, trusting n8n\'s own certificate on EFS', async () => {
    const script = withHostSetting(userData.dev, 'GM_N8N_TLS', 'self-signed');
    const result = await boot(script, {
      prepare: (state, root) => {
        write(state, 'n8n-tls', '');
        fs.mkdirSync(path.join(root, 'mnt', 'efs', 'tls'), { recursive: true });
        fs.writeFileSync(path.join(root, 'mnt', 'efs', 'tls', 'n8n.crt'), '-----BEGIN CERTIFICATE-----\n');
      },
    });
    const n8nCalls = duringStep(result.calls, 'setup-owner');
    expect(n8nCalls.length).toBeGreaterThanOrEqual(4);
    for (const call of n8nCalls) {
      expect(call).toContain(`--cacert ${result.root}/mnt/efs/tls/n8n.crt`);
      expect(call).toMatch(/ https:\/\/127\.0\.0\.1:5678\/rest\//);
    }
    expect(steps(result.log)).toContain('setup-owner ok');
  });

  test('a failing functional check signals failure naming each failing service, and the host is neither exposed nor released', async () => {
    const result = await boot(userData.automation, {
      prepare: (state) => {
        write(state, 'functional-check', 'postgres ok answered\nn8n FAIL owner login refused (HTTP 401)\nqdrant ok answered\nollama ok answered\ncrawl4ai FAIL crawl returned no content\n');
        write(state, 'functional-check.exit', '1');
      },
    });
    expect(failureReason(result.calls)).toBe('bootstrap step functional-check failed: n8n FAIL owner login refused (HTTP 401); crawl4ai FAIL crawl returned no content');
    expect(result.log).toContain('step functional-check: FAILED');
    expect(exposedByBootstrap(result.calls)).toBe(false);
    expect(released(result.calls)).toBe(false);
    expect(markedUnhealthy(result.calls)).toBe(true);
  });

  test('a secret that a failing check prints never reaches the signal', async () => {
    const result = await boot(userData.dev, {
      prepare: (state) => {
        write(state, 'functional-check', `qdrant FAIL refused key ${derived('qdrant-api-key')}\n`);
        write(state, 'functional-check.exit', '1');
      },
    });
    expect(failureReason(result.calls)).toBe('bootstrap step functional-check failed: qdrant FAIL refused key ***');
  });

  test('a long list of failures is cut to a reason of bounded length', async () => {
    const result = await boot(userData.dev, {
      prepare: (state) => {
        write(state, 'functional-check', Array.from({ length: 5 }, (_, i) => `svc${i} FAIL ${'x'.repeat(150)}`).join('\n'));
        write(state, 'functional-check.exit', '1');
      },
    });
    const reason = failureReason(result.calls)!;
    expect(reason).toMatch(/^bootstrap step functional-check failed: svc0 FAIL x+/);
    expect(reason).toMatch(/\.\.\.$/);
    expect(reason.length).toBeLessThanOrEqual(450);
  });

  test('an exposure that fails signals failure and the host is not released', async () => {
    const result = await boot(userData.automation, {
      prepare: (state) => {
        write(state, 'expose', 'expose-n8n: n8n has no owner: not publishing it beyond the host\n');
        write(state, 'expose.exit', '1');
      },
    });
    expect(failureReason(result.calls)).toBe('bootstrap step expose-n8n failed: expose-n8n: n8n has no owner: not publishing it beyond the host');
    expect(released(result.calls)).toBe(false);
  });

  test('a failed bootstrap marks its host unhealthy, so a replacement host that fails is itself replaced', async () => {
    const result = await failedComposeUpBoot();
    expect(markedUnhealthy(result.calls)).toBe(true);
    expect(indexOf(result.calls, /^aws autoscaling set-instance-health/)).toBeGreaterThan(indexOf(result.calls, /^cfn-signal --exit-code 1/));
  });

  test('a setting with a quote in it is written so that bash reads it back intact', async () => {
    const quoted = synthesizedUserData('my-stack', { tier: 'dev', n8nOwnerEmail: "o'brien@example.com" });
    const result = await boot(quoted);
    expect(JSON.parse(fs.readFileSync(path.join(result.state, 'owner-setup.json'), 'utf8')).email).toBe("o'brien@example.com");
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('a mount that never succeeds is retried, then signals failure and logs the step', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'mount.exit', '32') });
    expect(result.calls.filter((c) => c.startsWith('mount ')).length).toBe(3);
    expect(failureReason(result.calls)).toBe(`bootstrap step mount-efs failed: EFS ${FILE_SYSTEM_ID} did not mount after 3 attempts`);
    expect(result.log).toContain('step mount-efs: FAILED');
    expect(result.calls.some((c) => c.startsWith('docker compose') && c.includes(' up'))).toBe(false);
    expect(result.code).not.toBe(0);
  });

  test('a mount target that resolves late: mounted on a later attempt', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'mount.exit.1', '32') });
    expect(result.calls.filter((c) => c.startsWith('mount ')).length).toBe(2);
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('a failing install of amazon-efs-utils fails install-packages naming the package (not "EFS did not mount" later)', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'dnf-fail', 'amazon-efs-utils\n') });
    expect(failureReason(result.calls)).toBe('bootstrap step install-packages failed: could not install amazon-efs-utils (dnf exit 1)');
    expect(result.calls.some((c) => c.startsWith('mount '))).toBe(false);
  });

  test('a failing Docker install fails install-packages naming docker', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'dnf-fail', 'docker-25.0.*\n') });
    expect(failureReason(result.calls)).toBe('bootstrap step install-packages failed: could not install docker (docker-25.0.*, dnf exit 1)');
    expect(result.calls.some((c) => c.startsWith('mount '))).toBe(false);
  });

  test('Docker that does not start fails start-runtime naming Docker, before anything runs', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'systemctl-fail', 'start docker\nstart docker.service\n') });
    expect(failureReason(result.calls)).toMatch(/^bootstrap step start-runtime failed: .*docker/i);
    expect(result.calls.some((c) => c.startsWith('docker compose') && c.includes(' up'))).toBe(false);
  });

  test('a failing compose up signals failure and logs the step', async () => {
    const result = await failedComposeUpBoot();
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 1 --reason bootstrap step start-runtime failed: /)]);
    expect(result.log).toContain('step start-runtime: FAILED');
  });

  test('a service that never gets healthy signals failure naming it', async () => {
    const never = 'postgres running healthy\nollama running healthy\nqdrant running healthy\nn8n running starting\ncrawl4ai running healthy\n';
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'ps', never) });
    expect(failureReason(result.calls)).toMatch(/^bootstrap step start-runtime failed: .*n8n\(running\/starting\)/);
    expect(result.log).toContain('step start-runtime: FAILED');
  });

  test('an unreadable secret signals failure and leaves no env file', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 'secret.exit', '1') });
    expect(signals(result.calls)).toEqual([expect.stringMatching(/--exit-code 1 --reason bootstrap step write-secrets failed: could not read the secret for /)]);
    expect(fs.existsSync(path.join(result.root, HOST_PATHS.envFile))).toBe(false);
  });

  test('a runtime that cannot be downloaded signals failure from user data itself', async () => {
    const result = await boot(userData.dev, { prepare: (state) => write(state, 's3.exit', '1') });
    expect(result.calls.filter((c) => c.startsWith('aws s3 cp')).length).toBe(5);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/--exit-code 1 --reason bootstrap step download-runtime failed/)]);
    expect(result.log).toContain('step download-runtime: FAILED');
    expect(markedUnhealthy(result.calls)).toBe(true);
  });

  test('behind a load balancer: the host is released to it after the owner exists and before the success signal', async () => {
    const result = await plainAutomationBoot();
    const owner = indexOf(result.calls, /\/rest\/owner\/setup/);
    const release = indexOf(result.calls, /^aws autoscaling complete-lifecycle-action/);
    const signal = indexOf(result.calls, /^cfn-signal --exit-code 0/);
    expect(owner).toBeGreaterThan(-1);
    expect(release).toBeGreaterThan(owner);
    expect(signal).toBeGreaterThan(release);
    expect(result.calls[release]).toContain('--lifecycle-hook-name geusemaker-bootstrap --auto-scaling-group-name geusemaker-demo');
    expect(result.calls[release]).toContain('--lifecycle-action-result CONTINUE');
  });

  test('the scale tier\'s AI host (GM_ROLE=ai-services): no owner setup and no exposure, its name registered before the signal', async () => {
    const dbSecret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:GeuseScaleDataDatabaseSecret-AbCdEf';
    let script = userData.dev;
    for (const [key, value] of Object.entries({
      GM_TIER: 'scale', GM_ROLE: 'ai-services', GM_AI_SERVICES_BIND: '0.0.0.0', GM_AI_HOST_NAME: 'ai.my-stack.geusemaker.internal',
      GM_AI_HOST_ZONE_ID: 'Z0123456789ABCDEFGHIJ', GM_SCALE_DATABASE_HOST: 'db.example.internal', GM_SCALE_DATABASE_PORT: '5432',
      GM_SCALE_DATABASE_SECRET: dbSecret,
    })) script = withHostSetting(script, key, value);
    const result = await boot(script, {
      prepare: (state) => {
        write(state, 'ps', 'ollama running healthy\nqdrant running healthy\ncrawl4ai running healthy\n');
        write(state, 'curl.local-ipv4', '200\n10.0.1.23');
        write(state, 'route53', '/change/C2682N5HXP0BZ4\n');
        write(state, `secret.${dbSecret}`, '{"username":"n8nadmin","password":"rds-pass"}\n');
      },
    });
    expect(steps(result.log)).toEqual([
      'install-packages ok', 'mount-efs ok', 'write-secrets ok', 'start-runtime ok', 'setup-owner ok',
      'functional-check ok', 'expose-n8n ok', 'enable-services ok', 'release-host ok',
    ]);
    expect(result.log).toContain('the AI host runs no n8n: its owner is set up by the n8n main on ECS');
    expect(result.calls.filter((c) => /\/rest\/(owner|login|settings)/.test(c))).toEqual([]);
    expect(exposedByBootstrap(result.calls)).toBe(false);
    expect(duringStep(result.calls, 'functional-check')).toEqual(['functional-check  (step functional-check)']);
    const upsert = indexOf(result.calls, /^aws route53 change-resource-record-sets .*"Action":"UPSERT"/);
    expect(upsert).toBeGreaterThan(-1);
    expect(result.calls[upsert]).toContain('"Name":"ai.my-stack.geusemaker.internal","Type":"A","TTL":30,"ResourceRecords":[{"Value":"10.0.1.23"}]');
    expect(indexOf(result.calls, /^cfn-signal --exit-code 0 /)).toBeGreaterThan(upsert);
    expect(result.code).toBe(0);
  });

  describe('the Compose plugin for this host\'s architecture (uname -m)', () => {
    const pluginFile = (root: string) => path.join(root, 'usr', 'local', 'lib', 'docker', 'cli-plugins', 'docker-compose');
    const downloads = (calls: string[]) => calls.filter((c) => c.startsWith('curl ') && c.includes('github.com/docker/compose'));
    const checks = (calls: string[]) => calls.filter((c) => c.startsWith('sha256sum --check'));
    const withoutCompose = (arch: string, also: (state: string) => void = () => undefined) => (state: string) => {
      fs.rmSync(path.join(state, 'compose-preinstalled'));
      write(state, 'uname-m', `${arch}\n`);
      also(state);
    };

    test.each(['aarch64', 'x86_64'] as const)('a %s host downloads its own binary, checks its published sha256 and installs it', async (arch) => {
      const result = await boot(userData.dev, { prepare: withoutCompose(arch) });
      expect(downloads(result.calls)).toEqual([expect.stringContaining(` ${COMPOSE_ASSETS[arch].url}`)]);
      expect(checks(result.calls)).toEqual([`sha256sum --check --status: ${COMPOSE_ASSETS[arch].sha256}`]);
      expect(fs.statSync(pluginFile(result.root)).mode & 0o777).toBe(0o755);
      expect(fs.readFileSync(pluginFile(result.root), 'utf8')).toContain(`docker-compose-linux-${arch}`);
      expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 0 /)]);
    });

    test('a download that does not match the published sha256 is not installed and fails install-packages', async () => {
      const result = await boot(userData.dev, { prepare: withoutCompose('aarch64', (state) => write(state, 'compose-asset-tampered', '')) });
      expect(checks(result.calls)).toEqual([`sha256sum --check --status: ${COMPOSE_ASSETS.aarch64.sha256}`]);
      expect(failureReason(result.calls)).toBe('bootstrap step install-packages failed: docker compose 5.1.3: checksum mismatch, refusing to install');
      expect(fs.existsSync(pluginFile(result.root))).toBe(false);
      expect(result.calls.some((c) => c.startsWith('mount '))).toBe(false);
    });

    test('any other architecture fails install-packages in one line, before any download', async () => {
      const result = await boot(userData.dev, { prepare: withoutCompose('armv7l') });
      expect(failureReason(result.calls)).toBe('bootstrap step install-packages failed: this host is armv7l: docker compose 5.1.3 is verified for x86_64 and aarch64 only');
      expect(downloads(result.calls)).toEqual([]);
    });
  });

  test('user data stays under 16 KB', () => {
    for (const script of Object.values(userData)) expect(Buffer.byteLength(script)).toBeLessThan(16 * 1024);
  });
});

describe('the GPU tier on the Deep Learning AMI, which may lack Docker and cfn-signal', () => {
  test('an AMI without Docker gets it from the AL2023 repository', async () => {
    const result = await boot(userData.gpu, { missing: ['docker'] });
    expect(result.calls).toContain('dnf install -y docker-25.0.*');
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 0 /)]);
  });

  test('an AMI that ships Docker keeps it, with its own daemon.json (the NVIDIA runtime)', async () => {
    const nvidia = '{\n  "runtimes": { "nvidia": { "path": "nvidia-container-runtime", "runtimeArgs": [] } }\n}\n';
    const result = await boot(userData.gpu, {
      missing: [],
      prepare: (_state, root) => {
        fs.mkdirSync(path.join(root, 'etc', 'docker'), { recursive: true });
        fs.writeFileSync(path.join(root, 'etc', 'docker', 'daemon.json'), nvidia);
      },
    });
    expect(fs.readFileSync(path.join(result.root, 'etc', 'docker', 'daemon.json'), 'utf8')).toBe(nvidia);
    expect(result.calls.some((c) => c.startsWith('dnf install -y docker'))).toBe(false);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 0 /)]);
  });

  test('an AMI without cfn-signal gets aws-cfn-bootstrap before anything can signal; an early failure is then signalled', async () => {
    const result = await boot(userData.gpu, { missing: ['docker', 'cfn-signal'], prepare: (state) => write(state, 's3.exit', '1') });
    const install = result.calls.indexOf('dnf install -y aws-cfn-bootstrap');
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(indexOf(result.calls, /^aws s3 cp/));
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 1 --reason bootstrap step download-runtime failed/)]);
  });

  test('an AMI without cfn-signal signals success through the installed cfn-signal', async () => {
    const result = await boot(userData.gpu, { missing: ['docker', 'cfn-signal'] });
    expect(result.calls.filter((c) => c === 'dnf install -y aws-cfn-bootstrap')).toHaveLength(1);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 0 /)]);
  });

  test('where cfn-signal cannot be installed, an early failure is signalled through the AWS CLI and the host marks itself unhealthy', async () => {
    const result = await boot(userData.gpu, {
      missing: ['docker', 'cfn-signal'],
      prepare: (state) => {
        write(state, 'dnf-fail', 'aws-cfn-bootstrap\n');
        write(state, 's3.exit', '1');
      },
    });
    expect(signals(result.calls)).toEqual([
      expect.stringMatching(/^aws cloudformation signal-resource --region eu-west-1 --stack-name GeuseGpu-lab --logical-resource-id HostASG[0-9A-F]+ --unique-id i-0abc --status FAILURE$/),
    ]);
    expect(markedUnhealthy(result.calls)).toBe(true);
  });

  test('where cfn-signal cannot be installed, install-packages fails and says so through the AWS CLI', async () => {
    const result = await boot(userData.gpu, { missing: ['docker', 'cfn-signal'], prepare: (state) => write(state, 'dnf-fail', 'aws-cfn-bootstrap\n') });
    expect(result.log).toContain('step install-packages: FAILED: cfn-signal is missing and aws-cfn-bootstrap could not be installed (dnf exit 1)');
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^aws cloudformation signal-resource .*--status FAILURE$/)]);
    expect(markedUnhealthy(result.calls)).toBe(true);
  });

  test('an AMI without the NVIDIA container toolkit fails install-packages: Ollama would get no GPU', async () => {
    const result = await boot(userData.gpu, { missing: ['docker', 'nvidia-container-runtime-hook'] });
    expect(failureReason(result.calls)).toMatch(/^bootstrap step install-packages failed: nvidia-container-runtime-hook not found/);
  });
});
