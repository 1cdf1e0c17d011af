import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HOST_PATHS, SECRET_PURPOSES } from '../../ops/src/contract';
import { synthDeployment } from '../helpers/app';
import { renderUserData } from '../helpers/render-user-data';
import { psTable } from '../runtime/helpers/fake-host';

const REPO = path.resolve(__dirname, '..', '..');
const RUNTIME_STUBS = path.join(REPO, 'test', 'runtime', 'helpers', 'stubs');
const BOOTSTRAP_STUBS = path.join(__dirname, 'stubs');
const FILE_SYSTEM_ID = 'fs-0123456789abcdef0';

/** The runtime asset as CDK would upload it: a zip of docker/. */
let runtimeZip: string;
let userData: { dev: string; automation: string };

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-asset-'));
  runtimeZip = path.join(dir, 'runtime.zip');
  execFileSync('zip', ['-q', '-r', runtimeZip, '.'], { cwd: path.join(REPO, 'docker') });
  const values = {
    region: 'eu-west-1',
    account: '123456789012',
    references: (name: string) => (name === 'FileSystemId' ? FILE_SYSTEM_ID : `ref-${name}`),
  };
  userData = {
    dev: renderUserData(synthDeployment('my-stack', { tier: 'dev' }).compute, values),
    automation: renderUserData(synthDeployment('demo', { tier: 'automation' }).compute, values),
  };
});

interface Boot {
  readonly code: number | null;
  readonly root: string;
  readonly calls: string[];
  readonly log: string;
  readonly state: string;
}

/** Runs the rendered user data under bash, in a temp dir standing in for the host, with stubs first on PATH. */
function boot(script: string, prepare: (state: string) => void = () => undefined, env: Record<string, string> = {}): Promise<Boot> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-host-'));
  const state = path.join(root, 'stub-state');
  fs.mkdirSync(state);
  // A healthy stack unless the test says otherwise (the runtime stubs' answer files).
  fs.writeFileSync(path.join(state, 'ps'), psTable());
  fs.writeFileSync(path.join(state, 'inspect'), 'running healthy\n');
  fs.writeFileSync(path.join(state, 'import'), 'Successfully imported 3 credentials.\n');
  fs.writeFileSync(path.join(state, 'curl.imds-token'), '200\ntoken-1');
  fs.writeFileSync(path.join(state, 'curl.instance-id'), '200\ni-0abc');
  prepare(state);
  const stubLog = path.join(root, 'calls.log');
  fs.writeFileSync(stubLog, '');
  const scriptFile = path.join(root, 'user-data.sh');
  fs.writeFileSync(scriptFile, script);
  return new Promise((resolve) => {
    const child = spawn('bash', [scriptFile], {
      detached: true,
      env: {
        PATH: `${BOOTSTRAP_STUBS}:${RUNTIME_STUBS}:/usr/bin:/bin`,
        HOME: root,
        GM_PREFIX: root,
        STUB_STATE: state,
        STUB_LOG: stubLog,
        STUB_COMMON: path.join(RUNTIME_STUBS, '_stub_common.sh'),
        RUNTIME_STUBS,
        RUNTIME_ZIP: runtimeZip,
        GM_MOUNT_ATTEMPTS: '3',
        GM_HEALTH_ATTEMPTS: '3',
        GM_OWNER_ATTEMPTS: '3',
        GM_FENCE_ATTEMPTS: '2',
        ...env,
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

const signals = (calls: string[]) => calls.filter((c) => c.startsWith('cfn-signal'));
const indexOf = (calls: string[], pattern: RegExp) => calls.findIndex((c) => pattern.test(c));
const steps = (log: string) => [...log.matchAll(/step ([a-z-]+): (ok|FAILED)/g)].map((m) => `${m[1]} ${m[2]}`);

describe('the rendered bootstrap, executed under bash', () => {
  test('success: every step in order, then exactly one success signal, after the health wait', async () => {
    const result = await boot(userData.dev);
    expect(steps(result.log)).toEqual([
      'install-packages ok', 'mount-efs ok', 'write-secrets ok', 'start-runtime ok', 'setup-owner ok', 'enable-services ok', 'release-host ok',
    ]);
    expect(signals(result.calls)).toEqual([
      expect.stringMatching(/^cfn-signal --exit-code 0 .*--stack GeuseDev-my-stack --resource HostASG[0-9A-F]+ --region eu-west-1$/),
    ]);
    const lastHealthRead = result.calls.map((c, i) => (/docker compose .*ps/.test(c) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    expect(lastHealthRead).toBeGreaterThan(-1);
    expect(indexOf(result.calls, /^cfn-signal/)).toBeGreaterThan(lastHealthRead);
    expect(result.code).toBe(0);
  });

  test('EFS is mounted with TLS and IAM and recorded in fstab', async () => {
    const result = await boot(userData.dev);
    expect(result.calls).toContain(`mount -t efs -o tls,iam ${FILE_SYSTEM_ID}:/ ${result.root}/mnt/efs`);
    expect(fs.readFileSync(path.join(result.root, 'etc', 'fstab'), 'utf8')).toContain(`${FILE_SYSTEM_ID}:/ ${result.root}/mnt/efs efs _netdev,tls,iam,nofail 0 0`);
  });

  test('the env file is root-only (600) and holds every secret, read by name', async () => {
    const result = await boot(userData.dev);
    const envFile = path.join(result.root, HOST_PATHS.envFile);
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    const lines = fs.readFileSync(envFile, 'utf8').trim().split('\n');
    expect(lines).toEqual(SECRET_PURPOSES.map(({ purpose, envVar }) => `${envVar}=value-of-${purpose}`));
    for (const { purpose } of SECRET_PURPOSES) {
      expect(result.calls).toContain(`aws secretsmanager get-secret-value --region eu-west-1 --secret-id geusemaker/my-stack/${purpose} --query SecretString --output text`);
    }
    expect(result.log).not.toContain('value-of-');
  });

  test('n8n\'s owner is set up on localhost with the owner password, passed on stdin, not argv', async () => {
    const result = await boot(userData.dev);
    const owner = JSON.parse(fs.readFileSync(path.join(result.state, 'owner-setup.json'), 'utf8'));
    expect(owner).toEqual({ email: 'owner@example.com', firstName: 'GeuseMaker', lastName: 'Owner', password: 'value-of-n8n-owner-password' });
    expect(result.calls.join('\n')).not.toContain('value-of-n8n-owner-password');
    expect(result.calls.find((c) => c.includes('/rest/owner/setup'))).toContain('http://127.0.0.1:5678/rest/owner/setup');
  });

  test('an existing owner is left alone', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'n8n-settings'), '{"data":{"userManagement":{"showSetupOnFirstLoad":false}}}'));
    expect(result.calls.some((c) => c.includes('/rest/owner/setup'))).toBe(false);
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('while n8n is still starting (no JSON settings yet) the owner setup asks again, then sets the owner up', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'n8n-settings.1'), 'n8n is starting up. Please wait'));
    expect(result.calls.filter((c) => c.includes('/rest/settings'))).toHaveLength(2);
    expect(fs.existsSync(path.join(result.state, 'owner-setup.json'))).toBe(true);
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('an n8n that never says whether it has an owner is never exposed: the step fails', async () => {
    const result = await boot(userData.automation, (state) => fs.writeFileSync(path.join(state, 'n8n-settings'), 'n8n is starting up. Please wait'));
    expect(result.calls.filter((c) => c.includes('/rest/settings'))).toHaveLength(3);
    expect(result.calls.some((c) => c.includes('/rest/owner/setup'))).toBe(false);
    expect(result.calls.some((c) => c.startsWith('aws autoscaling complete-lifecycle-action'))).toBe(false);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/--exit-code 1 --reason bootstrap step setup-owner failed/)]);
  });

  test('a failed bootstrap marks its host unhealthy, so a replacement host that fails is itself replaced', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'up.exit'), '1'));
    expect(result.calls).toContain('aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0abc --health-status Unhealthy --no-should-respect-grace-period');
    expect(indexOf(result.calls, /^aws autoscaling set-instance-health/)).toBeGreaterThan(indexOf(result.calls, /^cfn-signal --exit-code 1/));
  });

  test('a setting with a quote in it is written so that bash reads it back intact', async () => {
    const quoted = renderUserData(synthDeployment('my-stack', { tier: 'dev', n8nOwnerEmail: "o'brien@example.com" }).compute, {
      region: 'eu-west-1', account: '123456789012', references: (name: string) => (name === 'FileSystemId' ? FILE_SYSTEM_ID : `ref-${name}`),
    });
    const result = await boot(quoted);
    expect(JSON.parse(fs.readFileSync(path.join(result.state, 'owner-setup.json'), 'utf8')).email).toBe("o'brien@example.com");
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('a mount that never succeeds is retried, then signals failure and logs the step', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'mount.exit'), '32'));
    expect(result.calls.filter((c) => c.startsWith('mount ')).length).toBe(3);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 1 --reason bootstrap step mount-efs failed/)]);
    expect(result.log).toContain('step mount-efs: FAILED');
    expect(result.calls.some((c) => c.startsWith('docker compose') && c.includes(' up'))).toBe(false);
    expect(result.code).not.toBe(0);
  });

  test('a mount target that resolves late: mounted on a later attempt', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'mount.exit.1'), '32'));
    expect(result.calls.filter((c) => c.startsWith('mount ')).length).toBe(2);
    expect(signals(result.calls)[0]).toMatch(/--exit-code 0/);
  });

  test('a failing compose up signals failure and logs the step', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'up.exit'), '1'));
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 1 --reason bootstrap step start-runtime failed/)]);
    expect(result.log).toContain('step start-runtime: FAILED');
  });

  test('a service that never gets healthy signals failure and logs the step', async () => {
    const never = 'postgres running healthy\nollama running healthy\nqdrant running healthy\nn8n running starting\ncrawl4ai running healthy\n';
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'ps'), never));
    expect(signals(result.calls)).toEqual([expect.stringMatching(/^cfn-signal --exit-code 1 --reason bootstrap step start-runtime failed/)]);
    expect(result.log).toContain('step start-runtime: FAILED');
    expect(result.log).toMatch(/n8n/);
  });

  test('an unreadable secret signals failure and leaves no env file', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 'secret.exit'), '1'));
    expect(signals(result.calls)).toEqual([expect.stringMatching(/--exit-code 1 --reason bootstrap step write-secrets failed/)]);
    expect(fs.existsSync(path.join(result.root, HOST_PATHS.envFile))).toBe(false);
  });

  test('a runtime that cannot be downloaded signals failure from user data itself', async () => {
    const result = await boot(userData.dev, (state) => fs.writeFileSync(path.join(state, 's3.exit'), '1'));
    expect(result.calls.filter((c) => c.startsWith('aws s3 cp')).length).toBe(5);
    expect(signals(result.calls)).toEqual([expect.stringMatching(/--exit-code 1 --reason bootstrap step download-runtime failed/)]);
    expect(result.log).toContain('step download-runtime: FAILED');
  });

  test('behind a load balancer: the host is released to it after the owner exists and before the success signal', async () => {
    const result = await boot(userData.automation);
    const owner = indexOf(result.calls, /\/rest\/owner\/setup/);
    const release = indexOf(result.calls, /^aws autoscaling complete-lifecycle-action/);
    const signal = indexOf(result.calls, /^cfn-signal --exit-code 0/);
    expect(owner).toBeGreaterThan(-1);
    expect(release).toBeGreaterThan(owner);
    expect(signal).toBeGreaterThan(release);
    expect(result.calls[release]).toContain('--lifecycle-hook-name geusemaker-bootstrap --auto-scaling-group-name geusemaker-demo');
    expect(result.calls[release]).toContain('--lifecycle-action-result CONTINUE');
  });

  test('user data stays under 16 KB', () => {
    expect(Buffer.byteLength(userData.dev)).toBeLessThan(16 * 1024);
    expect(Buffer.byteLength(userData.automation)).toBeLessThan(16 * 1024);
  });
});
