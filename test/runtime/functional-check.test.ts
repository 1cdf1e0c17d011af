/**
 * docker/host/functional-check.sh run for real under bash, with the real curl, against local fake
 * servers that answer like n8n 2.36.9, Qdrant v1.19, Ollama 0.33 and Crawl4AI 0.9.x
 * (helpers/fake-services.ts), and a fake `docker` whose `compose exec postgres psql` answers like psql
 * against the postgres image's pg_hba.conf (helpers/functional/docker).
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FakeServices, N8nCredential } from './helpers/fake-services';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RUNTIME_DIR = path.join(REPO_ROOT, 'docker');
const SCRIPT = path.join(RUNTIME_DIR, 'host', 'functional-check.sh');
const STUBS_DIR = path.join(__dirname, 'helpers', 'functional');
const REAL_CURL = execFileSync('bash', ['-c', 'command -v curl']).toString().trim();

const OWNER_EMAIL = 'owner@geuse.test';
/** runtime.env of the deployment; quotes, backslashes and a dollar sign must reach each service intact. */
const SECRETS: Readonly<Record<string, string>> = {
  POSTGRES_PASSWORD: 'pg-Secret-1x',
  N8N_ENCRYPTION_KEY: 'enc-Secret-2x',
  N8N_USER_MANAGEMENT_JWT_SECRET: 'jwt-Secret-3x',
  QDRANT_API_KEY: 'qd"Key\\4$HOME',
  CRAWL4AI_API_TOKEN: 'crawl-Secret-5x',
  N8N_OWNER_PASSWORD: 'Owner"Pass\\6x',
};
const PRE_WIRED: N8nCredential[] = JSON.parse(fs.readFileSync(path.join(RUNTIME_DIR, 'n8n', 'credentials.json'), 'utf8')).map(
  (c: N8nCredential) => ({ id: c.id, name: c.name, type: c.type }),
);
const SERVICES = ['postgres', 'n8n', 'qdrant', 'ollama', 'crawl4ai'];

interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A temporary host: settings, secrets, log and run directories, the fake docker and the curl recorder. */
class CheckHost {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-functional-'));
  readonly bin = path.join(this.root, 'bin');
  readonly pgDir = path.join(this.root, 'postgres');
  readonly logDir = path.join(this.root, 'log');
  readonly runDir = path.join(this.root, 'run');
  readonly efs = path.join(this.root, 'efs');
  readonly hostEnvFile = path.join(this.root, 'etc', 'host.env');
  readonly envFile = path.join(this.root, 'etc', 'runtime.env');
  readonly curlLog = path.join(this.root, 'curl-argv.log');

  constructor(settings: Record<string, string>, secrets: Record<string, string> = SECRETS) {
    for (const dir of [this.bin, this.pgDir, this.efs, path.dirname(this.hostEnvFile)]) fs.mkdirSync(dir, { recursive: true });
    for (const name of ['docker', 'curl']) {
      fs.copyFileSync(path.join(STUBS_DIR, name), path.join(this.bin, name));
      fs.chmodSync(path.join(this.bin, name), 0o755);
    }
    fs.writeFileSync(path.join(this.pgDir, 'password'), SECRETS.POSTGRES_PASSWORD);
    this.postgres('ok');
    fs.writeFileSync(this.curlLog, '');
    const hostSettings = { GM_DEPLOYMENT: 'my-stack', GM_TIER: 'dev', GM_N8N_OWNER_EMAIL: OWNER_EMAIL, ...settings };
    fs.writeFileSync(this.hostEnvFile, Object.entries(hostSettings).map(([k, v]) => `${k}='${v}'\n`).join(''));
    fs.writeFileSync(this.envFile, Object.entries(secrets).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  }

  /** The fake PostgreSQL's state: ok, trust, no-migrations, down or not-running. */
  postgres(mode: string): void {
    fs.writeFileSync(path.join(this.pgDir, 'mode'), mode);
  }

  run(args: string[] = [], extra: Record<string, string> = {}): Promise<RunResult> {
    const child = spawn('bash', [SCRIPT, ...args], {
      env: {
        PATH: `${this.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: this.root,
        LANG: 'C.UTF-8',
        GM_RUNTIME_DIR: RUNTIME_DIR,
        GM_HOST_ENV_FILE: this.hostEnvFile,
        GM_ENV_FILE: this.envFile,
        GM_LOG_DIR: this.logDir,
        GM_RUN_DIR: this.runDir,
        GM_EFS_MOUNT: this.efs,
        FAKE_PG_DIR: this.pgDir,
        FAKE_CURL_LOG: this.curlLog,
        REAL_CURL,
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  log(): string {
    const file = path.join(this.logDir, 'functional-check.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  curlCalls(): string[] {
    return fs.readFileSync(this.curlLog, 'utf8').split('\n').filter(Boolean);
  }

  dockerCalls(): string[] {
    const file = path.join(this.pgDir, 'docker-argv.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  /** Leftovers of the check in its run directory (its private temp directory must be gone). */
  runDirEntries(): string[] {
    return fs.existsSync(this.runDir) ? fs.readdirSync(this.runDir) : [];
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

let fakes: FakeServices;
let host: CheckHost;

beforeEach(async () => {
  fakes = new FakeServices(
    { ownerEmail: OWNER_EMAIL, ownerPassword: SECRETS.N8N_OWNER_PASSWORD, qdrantApiKey: SECRETS.QDRANT_API_KEY, crawl4aiToken: SECRETS.CRAWL4AI_API_TOKEN },
    PRE_WIRED,
  );
  await fakes.start();
  host = new CheckHost(fakes.settings());
});

afterEach(async () => {
  await fakes.close();
  host.remove();
});

function lines(result: RunResult): string[] {
  return result.stdout.split('\n').filter(Boolean);
}

function lineOf(result: RunResult, service: string): string {
  return lines(result).find((l) => l.startsWith(`${service} `)) ?? `(no line for ${service})`;
}

/** Every issued n8n session cookie value, read back from the fake's answers. */
function issuedSessions(): string[] {
  return fakes.n8n.requests
    .map((r) => /n8n-auth=([^;]+)/.exec(r.headers.cookie ?? '')?.[1])
    .filter((s): s is string => Boolean(s));
}

/** No secret value (nor the n8n session) in stdout, stderr, the log, or any argv of curl or docker. */
function expectNoSecrets(result: RunResult): void {
  const places = {
    stdout: result.stdout,
    stderr: result.stderr,
    log: host.log(),
    curlArgv: host.curlCalls().join('\n'),
    dockerArgv: host.dockerCalls().join('\n'),
  };
  for (const secret of [...Object.values(SECRETS), ...issuedSessions()]) {
    for (const [where, content] of Object.entries(places)) {
      if (content.includes(secret)) throw new Error(`a secret appears in ${where}`);
    }
  }
}

/** The run failed only because of SERVICE: exit 1, its FAIL line matches REASON, the others ok. */
function expectOnlyFailure(result: RunResult, service: string, reason: RegExp): void {
  expect(result.code).toBe(1);
  expect(lineOf(result, service)).toMatch(new RegExp(`^${service} FAIL `));
  expect(lineOf(result, service)).toMatch(reason);
  for (const other of SERVICES.filter((s) => s !== service)) expect(lineOf(result, other)).toMatch(new RegExp(`^${other} ok `));
  expect(host.log()).toContain(`${service} FAIL`);
  expectNoSecrets(result);
}

describe('functional-check.sh: everything works', () => {
  it('checks the five services in order, one ok line each, exit 0', async () => {
    const result = await host.run();
    expect(result.code).toBe(0);
    expect(lines(result).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(SERVICES.map((s) => `${s} ok`));
    expectNoSecrets(result);
    expect(host.runDirEntries().filter((e) => e.startsWith('functional-check.'))).toEqual([]);
  });

  it('--json prints one object per service with ok, ms and detail', async () => {
    const result = await host.run(['--json']);
    expect(result.code).toBe(0);
    const objects = lines(result).map((l) => JSON.parse(l));
    expect(objects.map((o) => o.service)).toEqual(SERVICES);
    for (const o of objects) {
      expect(Object.keys(o).sort()).toEqual(['detail', 'ms', 'ok', 'service']);
      expect(o.ok).toBe(true);
      expect(Number.isInteger(o.ms) && o.ms >= 0).toBe(true);
      expect(typeof o.detail).toBe('string');
    }
  });

  it('--service checks only the named services, in the canonical order', async () => {
    const result = await host.run(['--service', 'ollama', '--service', 'qdrant']);
    expect(result.code).toBe(0);
    expect(lines(result).map((l) => l.split(' ')[0])).toEqual(['qdrant', 'ollama']);
    expect(fakes.n8n.requests).toHaveLength(0);
    expect(fakes.crawl4ai.requests).toHaveLength(0);
    expect(host.dockerCalls()).toHaveLength(0);
  });

  it('bounds every HTTP request with --max-time', async () => {
    await host.run();
    const calls = host.curlCalls();
    expect(calls.length).toBeGreaterThanOrEqual(10);
    for (const call of calls) expect(call).toMatch(/--max-time [1-9][0-9]*/);
  });
});

describe('functional-check.sh on the scale tier\'s AI host (GM_ROLE=ai-services)', () => {
  const AI_ROLE = { GM_ROLE: 'ai-services', GM_TIER: 'scale' };

  it('checks qdrant, ollama and crawl4ai doing their real jobs, never n8n or its database (they run on ECS and RDS)', async () => {
    host.remove();
    host = new CheckHost({ ...fakes.settings(), ...AI_ROLE });
    const result = await host.run();
    expect(result.code).toBe(0);
    expect(lines(result).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['qdrant ok', 'ollama ok', 'crawl4ai ok']);
    expect(fakes.n8n.requests).toHaveLength(0);
    expect(host.dockerCalls()).toHaveLength(0);
    // The real jobs: a vector stored and found, a page rendered by the browser.
    expect(lineOf(result, 'qdrant')).toContain('vector upserted and found');
    expect(lineOf(result, 'crawl4ai')).toContain('rendered by the browser');
    expectNoSecrets(result);
  });

  it('a failing AI service still fails the check', async () => {
    host.remove();
    host = new CheckHost({ ...fakes.settings(), ...AI_ROLE, GM_OLLAMA_URL: 'http://127.0.0.1:9' });
    const result = await host.run();
    expect(result.code).toBe(1);
    expect(lineOf(result, 'ollama')).toMatch(/^ollama FAIL GET \/api\/tags: no answer from/);
  });

  it('asking for postgres there is a usage error (exit 2), nothing is checked', async () => {
    host.remove();
    host = new CheckHost({ ...fakes.settings(), ...AI_ROLE });
    const result = await host.run(['--service', 'postgres']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('postgres does not run on this host (GM_ROLE=ai-services runs: ollama qdrant crawl4ai;');
    expect(host.curlCalls()).toHaveLength(0);
  });

  it('--service n8n logs the owner in through the load balancer (GM_N8N_CHECK_URL) and finds the credentials the host imported', async () => {
    host.remove();
    const { GM_N8N_LOCAL_URL: n8nUrl, ...settings } = fakes.settings();
    host = new CheckHost({ ...settings, ...AI_ROLE, GM_N8N_CHECK_URL: `${n8nUrl}/` });
    const result = await host.run(['--service', 'n8n', '--service', 'qdrant']);
    expect(result.code).toBe(0);
    expect(lines(result).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['n8n ok', 'qdrant ok']);
    expect(lineOf(result, 'n8n')).toContain(`owner ${OWNER_EMAIL} logged in and sees the ${PRE_WIRED.length} pre-wired credentials`);
    expect(fakes.n8n.loginRequests).toHaveLength(1);
    expect(host.curlCalls().filter((c) => c.includes(`${n8nUrl}/rest/`))).toHaveLength(3);
    expectNoSecrets(result);
  });

  it('--service n8n fails in one line when the import did not reach the database (a credential missing)', async () => {
    host.remove();
    const { GM_N8N_LOCAL_URL: n8nUrl, ...settings } = fakes.settings();
    host = new CheckHost({ ...settings, ...AI_ROLE, GM_N8N_CHECK_URL: n8nUrl });
    fakes.n8n.credentials = [];
    const result = await host.run(['--service', 'n8n']);
    expect(result.code).toBe(1);
    expect(lineOf(result, 'n8n')).toMatch(/^n8n FAIL credentials missing for the owner: /);
  });

  it('--service n8n without GM_N8N_CHECK_URL is a configuration error (exit 2), and n8n is never in the default set', async () => {
    host.remove();
    host = new CheckHost({ ...fakes.settings(), ...AI_ROLE });
    const refused = await host.run(['--service', 'n8n']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('GM_N8N_CHECK_URL is not set');
    expect(host.curlCalls()).toHaveLength(0);
    host.remove();
    host = new CheckHost({ ...fakes.settings(), ...AI_ROLE, GM_N8N_CHECK_URL: fakes.settings().GM_N8N_LOCAL_URL });
    const byDefault = await host.run();
    expect(byDefault.code).toBe(0);
    expect(lines(byDefault).map((l) => l.split(' ')[0])).toEqual(['qdrant', 'ollama', 'crawl4ai']);
    expect(fakes.n8n.requests).toHaveLength(0);
  });
});

describe('functional-check.sh: usage and configuration (exit 2)', () => {
  it('refuses an unknown service, naming the allowed ones, and checks nothing', async () => {
    const result = await host.run(['--service', 'redis']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/unknown service 'redis' \(allowed: postgres n8n qdrant ollama crawl4ai\)/);
    expect(host.curlCalls()).toHaveLength(0);
  });

  it('refuses an unknown argument', async () => {
    const result = await host.run(['--deep']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown argument '--deep'/);
  });

  it('names a secret missing for a selected service', async () => {
    host.remove();
    host = new CheckHost(fakes.settings(), { ...SECRETS, QDRANT_API_KEY: '' });
    const result = await host.run();
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/missing secret\(s\) QDRANT_API_KEY \(for qdrant\)/);
  });

  it('refuses a GM_N8N_TLS other than off or self-signed', async () => {
    const result = await host.run([], { GM_N8N_TLS: 'on' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/GM_N8N_TLS must be off or self-signed \(got 'on'\)/);
  });
});

describe('functional-check.sh: postgres', () => {
  it('fails when the server rejects n8n\'s password', async () => {
    fs.writeFileSync(path.join(host.pgDir, 'password'), 'another-password');
    const result = await host.run();
    expectOnlyFailure(result, 'postgres', /password authentication failed for user "n8n"/);
  });

  it('fails when the server lets n8n in without asking for the password', async () => {
    host.postgres('trust');
    const result = await host.run();
    expectOnlyFailure(result, 'postgres', /authentication method requirement "scram-sha-256" failed/);
  });

  it('fails when n8n\'s migrations table is missing', async () => {
    host.postgres('no-migrations');
    const result = await host.run();
    expectOnlyFailure(result, 'postgres', /relation "public\.migrations" does not exist/);
  });

  it('hands the password to psql through docker\'s environment, not its argv', async () => {
    const result = await host.run(['--service', 'postgres']);
    expect(result.code).toBe(0);
    expect(host.dockerCalls()).toHaveLength(1);
    expect(host.dockerCalls()[0]).toMatch(/ exec -T -e PGPASSWORD postgres psql /);
    expectNoSecrets(result);
  });
});

describe('functional-check.sh: n8n', () => {
  it('fails with n8n\'s 401 when the owner password is wrong, naming the secret it must match', async () => {
    fakes.n8n.ownerPassword = 'Changed-by-someone-9';
    const result = await host.run();
    expectOnlyFailure(result, 'n8n', /cannot log in \(401\): Wrong username or password.*secret geusemaker\/my-stack\/n8n-owner-password\)$/);
  });

  it('fails naming a pre-wired credential the owner cannot see', async () => {
    fakes.n8n.credentials = fakes.n8n.credentials.filter((c) => c.type !== 'qdrantApi');
    const result = await host.run();
    expectOnlyFailure(result, 'n8n', /credentials missing for the owner: Qdrant \(GeuseMaker\) \(qdrantApi\)$/);
  });

  it('logs in once per run and ends the session', async () => {
    const result = await host.run(['--service', 'n8n']);
    expect(result.code).toBe(0);
    expect(fakes.n8n.loginRequests).toHaveLength(1);
    expect(fakes.n8n.openSessions).toBe(0);
    expectNoSecrets(result);
  });

  it('trusts only the deployment\'s own certificate when GM_N8N_TLS=self-signed', async () => {
    const cert = path.join(host.efs, 'tls', 'n8n.crt');
    fs.mkdirSync(path.dirname(cert), { recursive: true });
    fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\n');
    const result = await host.run(['--service', 'n8n'], { GM_N8N_TLS: 'self-signed' });
    expect(result.code).toBe(0);
    const n8nCalls = host.curlCalls().filter((c) => c.includes(fakes.n8n.url));
    expect(n8nCalls).toHaveLength(3);
    for (const call of n8nCalls) expect(call).toContain(`--cacert ${cert}`);
  });

  it('fails naming the certificate when GM_N8N_TLS=self-signed and it is missing', async () => {
    const result = await host.run(['--service', 'n8n'], { GM_N8N_TLS: 'self-signed', GM_N8N_LOCAL_URL: 'https://127.0.0.1:5678' });
    expect(result.code).toBe(1);
    expect(lineOf(result, 'n8n')).toBe(`n8n FAIL GM_N8N_TLS=self-signed but the certificate ${host.efs}/tls/n8n.crt is missing`);
  });
});

describe('functional-check.sh: qdrant', () => {
  it('fails when the vector just upserted is not found, and still deletes the scratch collection', async () => {
    fakes.qdrant.searchFindsNothing = true;
    const result = await host.run();
    expectOnlyFailure(result, 'qdrant', /did not find it/);
    expect(fakes.qdrant.created).toHaveLength(1);
    expect(fakes.qdrant.collections.size).toBe(0);
    expect(fakes.qdrant.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('fails when the API answers without the API key', async () => {
    fakes.qdrant.authOff = true;
    const result = await host.run();
    expectOnlyFailure(result, 'qdrant', /answered 200 to a request without the API key/);
    expect(fakes.qdrant.collections.size).toBe(0);
  });

  it('fails with Qdrant\'s 401 when the deployment\'s API key is not the one Qdrant runs with', async () => {
    fakes.qdrant.apiKey = 'rotated-key-7';
    const result = await host.run();
    expectOnlyFailure(result, 'qdrant', /creating scratch collection \S+ answered 401: Invalid API key or JWT/);
    expect(fakes.qdrant.created).toHaveLength(0);
  });

  it('deletes the scratch collection after a successful check', async () => {
    const result = await host.run(['--service', 'qdrant']);
    expect(result.code).toBe(0);
    expect(fakes.qdrant.created).toHaveLength(1);
    expect(fakes.qdrant.collections.size).toBe(0);
  });
});

describe('functional-check.sh: ollama', () => {
  it('fails with Ollama\'s error when the model list answers 500', async () => {
    fakes.ollama.failWith = { status: 500, error: 'model list cache unavailable' };
    const result = await host.run();
    expectOnlyFailure(result, 'ollama', /GET \/api\/tags answered 500: model list cache unavailable/);
  });

  it('--json keeps a long failure on one whole object of at most 400 characters (what gm-ops reads)', async () => {
    fakes.ollama.failWith = { status: 500, error: '"oom" \\ '.repeat(40) };
    const result = await host.run(['--json']);
    expect(result.code).toBe(1);
    for (const line of lines(result)) expect(line.length).toBeLessThanOrEqual(400);
    const ollama = lines(result).map((l) => JSON.parse(l)).find((o) => o.service === 'ollama');
    expect(ollama).toMatchObject({ ok: false, detail: expect.stringMatching(/^GET \/api\/tags answered 500: "oom" \\ "oom"/) });
  });

  it('fails when nothing listens', async () => {
    await fakes.ollama.close();
    const result = await host.run();
    expectOnlyFailure(result, 'ollama', /no answer from http:\/\/127\.0\.0\.1:\d+\/api\/tags/);
  });
});

describe('functional-check.sh: crawl4ai', () => {
  it('fails when the crawl itself fails (500 "Crawl request failed")', async () => {
    fakes.crawl4ai.crawlFails = true;
    const result = await host.run();
    expectOnlyFailure(result, 'crawl4ai', /crawl answered 500: Crawl request failed: Wait condition failed/);
  });

  it('fails on a build that answers 500 to every real request', async () => {
    fakes.crawl4ai.broken = true;
    const result = await host.run();
    expectOnlyFailure(result, 'crawl4ai', /crawl answered 500: Internal Server Error/);
  });

  it('fails when a crawl without the token is accepted', async () => {
    fakes.crawl4ai.authOff = true;
    const result = await host.run();
    expectOnlyFailure(result, 'crawl4ai', /answered 200 to a crawl without the token/);
  });

  it('fails when the page comes back without being rendered by a browser', async () => {
    fakes.crawl4ai.noBrowser = true;
    const result = await host.run();
    expectOnlyFailure(result, 'crawl4ai', /not rendered by a browser/);
  });
});
