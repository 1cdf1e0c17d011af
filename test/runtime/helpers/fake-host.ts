/**
 * A fake host for running docker/host/*.sh for real. The stubs (./stubs/: docker, curl, sleep,
 * systemctl, mountpoint, chown) are small bash scripts put first on PATH; each appends its argv to
 * $STUB_LOG (and, with the host id, to $STUB_EVENTS, shared by the hosts of a test) and answers from
 * files in $STUB_STATE the test writes: `<key>.<n>` for the n-th call of that kind, else `<key>`,
 * exit codes from `<key>.exit[.<n>]`.
 *
 * Each fake host has its own bin dir of stubs, stub state, log, run,
 * Qdrant and systemd directories, and a directory standing in for EFS that several fake hosts of one
 * test can share (`FakeEfs`). Nothing here waits real time: `sleep` is a stub.
 */
import { spawn, execFileSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const RUNTIME_DIR = path.join(REPO_ROOT, 'docker');
export const HOST_SCRIPTS_DIR = path.join(RUNTIME_DIR, 'host');
const STUBS_DIR = path.join(__dirname, 'stubs');

export const SECRETS: Readonly<Record<string, string>> = {
  POSTGRES_PASSWORD: 'pg-secret-1',
  N8N_ENCRYPTION_KEY: 'enc-secret-2',
  N8N_USER_MANAGEMENT_JWT_SECRET: 'jwt-secret-3',
  // Quotes, a backslash and a dollar sign: written literally by the bootstrap, must reach JSON intact.
  QDRANT_API_KEY: 'qd"key\\4$HOME',
  CRAWL4AI_API_TOKEN: 'crawl-secret-5',
  N8N_OWNER_PASSWORD: 'owner-secret-6',
};

export const SERVICE_NAMES = ['postgres', 'ollama', 'qdrant', 'n8n', 'crawl4ai'] as const;

/** `docker compose ps --format '{{.Service}} {{.State}} {{.Health}}'` output. */
export function psTable(overrides: Record<string, string> = {}): string {
  return SERVICE_NAMES.filter((s) => overrides[s] !== 'absent')
    .map((s) => `${s} ${overrides[s] ?? 'running healthy'}`)
    .join('\n') + '\n';
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const REAL_SLEEP = execFileSync('bash', ['-c', 'command -v sleep']).toString().trim();
/**
 * After the stubs, the system's own directories, as on a host: not the developer's PATH, whose version managers'
 * shims (pyenv's python3 is a bash script starting a dozen processes) made each python3 of the scripts cost 80 ms.
 */
const HOST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class FakeEfs {
  readonly root: string;
  readonly dir: string;
  readonly events: string;

  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-runtime-'));
    this.dir = path.join(this.root, 'efs');
    this.events = path.join(this.root, 'events.log');
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(this.events, '');
  }

  get snapshotDir(): string {
    return path.join(this.dir, 'qdrant-snapshots');
  }

  get lockFile(): string {
    return path.join(this.dir, '.geusemaker.lock');
  }

  /** Lines "<host> <command line>" of every stub call of every host, in order. */
  eventLines(): string[] {
    return fs.readFileSync(this.events, 'utf8').split('\n').filter(Boolean);
  }

  /** Whether a process could take the fence's lock right now (i.e. nobody holds it). */
  lockIsFree(): boolean {
    fs.closeSync(fs.openSync(this.lockFile, 'a'));
    try {
      execFileSync('flock', ['--nonblock', this.lockFile, 'true']);
      return true;
    } catch {
      return false;
    }
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export class FakeHost {
  readonly root: string;
  readonly bin: string;
  readonly state: string;
  readonly stubLog: string;
  readonly logDir: string;
  readonly runDir: string;
  readonly qdrantDir: string;
  readonly qdrantSnapshotLocalDir: string;
  readonly systemdDir: string;
  readonly hostEnvFile: string;
  readonly envFile: string;
  private readonly children: ChildProcess[] = [];

  constructor(
    readonly id: string,
    readonly efs: FakeEfs,
    settings: Record<string, string> = {},
  ) {
    this.root = path.join(efs.root, `host-${id}`);
    this.bin = path.join(this.root, 'bin');
    this.state = path.join(this.root, 'stub-state');
    this.stubLog = path.join(this.root, 'calls.log');
    this.logDir = path.join(this.root, 'log');
    this.runDir = path.join(this.root, 'run');
    this.qdrantDir = path.join(this.root, 'var', 'qdrant');
    this.qdrantSnapshotLocalDir = path.join(this.root, 'var', 'qdrant-snapshots');
    this.systemdDir = path.join(this.root, 'systemd');
    this.hostEnvFile = path.join(this.root, 'etc', 'host.env');
    this.envFile = path.join(this.root, 'etc', 'runtime.env');
    for (const dir of [this.bin, this.state, path.dirname(this.hostEnvFile)]) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(this.stubLog, '');

    for (const name of fs.readdirSync(STUBS_DIR)) {
      fs.copyFileSync(path.join(STUBS_DIR, name), path.join(this.bin, name));
      fs.chmodSync(path.join(this.bin, name), 0o755);
    }
    // Default answers: a healthy stack, a successful credential import.
    this.answer('ps', psTable());
    this.answer('import', 'Successfully imported 3 credentials.\n');
    this.answer('inspect', 'running healthy\n');
    this.answer('ollama-list', 'NAME    ID    SIZE    MODIFIED\n');

    const hostSettings = {
      GM_DEPLOYMENT: 'my-stack',
      GM_TIER: 'dev',
      GM_MODELS: 'llama3.2:1b',
      GM_QDRANT_SNAPSHOT_MINUTES: '15',
      GM_N8N_PUBLIC_URL: '',
      GM_N8N_BIND: '127.0.0.1',
      ...settings,
    };
    // The bootstrap's formats: host.env as KEY='value', runtime.env as KEY=value (literal, mode 600).
    fs.writeFileSync(this.hostEnvFile, Object.entries(hostSettings).map(([k, v]) => `${k}='${v}'\n`).join(''));
    fs.writeFileSync(this.envFile, Object.entries(SECRETS).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  }

  /** The answer of the n-th (or every) call of a stub key, e.g. answer('ps', table, 2). */
  answer(key: string, content: string, n?: number): void {
    fs.writeFileSync(path.join(this.state, n === undefined ? key : `${key}.${n}`), content);
  }

  exitCode(key: string, code: number, n?: number): void {
    fs.writeFileSync(path.join(this.state, n === undefined ? `${key}.exit` : `${key}.exit.${n}`), `${code}\n`);
  }

  /** A curl answer: HTTP status and body for a route (imds-token, spot, lifecycle, qdrant-create...). */
  curl(key: string, status: number | '000', body = '', n?: number): void {
    this.answer(`curl.${key}`, `${status}\n${body}`, n);
  }

  /**
   * Qdrant's full snapshots faked with state by the curl stub (see stubs/curl): a POST answers 202 and the
   * snapshot (holding `body`) appears in GET /snapshots after `readyAfterPolls` more list calls, as a file in
   * this host's local snapshot directory; `neverFinishes` keeps it from ever appearing.
   */
  fakeQdrantSnapshots(body: string, readyAfterPolls = 0, neverFinishes = false): void {
    this.answer('qdrant-fake', '');
    this.answer('qdrant-snapshot-body', body);
    this.answer('qdrant-ready-after', `${readyAfterPolls}\n`);
    const never = this.stateFile('qdrant-never-finishes');
    if (neverFinishes) fs.writeFileSync(never, '');
    else fs.rmSync(never, { force: true });
  }

  /** The files left in this host's local Qdrant snapshot directory (what the container sees as /qdrant/snapshots). */
  localSnapshotFiles(): string[] {
    if (!fs.existsSync(this.qdrantSnapshotLocalDir)) return [];
    return (fs.readdirSync(this.qdrantSnapshotLocalDir, { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(this.qdrantSnapshotLocalDir, f)).isFile())
      .sort();
  }

  stateFile(name: string): string {
    return path.join(this.state, name);
  }

  readState(name: string): string {
    return fs.readFileSync(this.stateFile(name), 'utf8');
  }

  /**
   * A fake clock for GM_NOW_CMD, starting at `start` (epoch seconds): only the sleep stub moves it, so a
   * script's deadlines run in fake time. Returns the env to pass to run()/start().
   */
  fakeClock(start = 1_700_000_000): Record<string, string> {
    const file = path.join(this.root, 'clock');
    fs.writeFileSync(file, `${start}\n`);
    return { STUB_CLOCK_FILE: file, GM_NOW_CMD: path.join(this.bin, 'fake-clock') };
  }

  /** The fake clock's time now (see fakeClock). */
  clockNow(): number {
    return Number(fs.readFileSync(path.join(this.root, 'clock'), 'utf8').trim());
  }

  /** Makes every later call of a stub key block until the script kills it ("stop", "curl-qdrant-create"...). */
  hang(key: string): void {
    fs.writeFileSync(path.join(this.state, `${key}.hang`), '');
  }

  /** Every stub call of this host, in order ("docker compose ...", "sleep 10", ...). */
  calls(): string[] {
    return fs.readFileSync(this.stubLog, 'utf8').split('\n').filter(Boolean);
  }

  dockerCalls(): string[] {
    return this.calls().filter((c) => c.startsWith('docker '));
  }

  /** The compose subcommands called, e.g. ["version", "up", "ps", "exec"]. */
  composeSubcommands(): string[] {
    return this.dockerCalls()
      .filter((c) => c.startsWith('docker compose '))
      .map((c) => {
        const words = c.split(' ').slice(2);
        for (let i = 0; i < words.length; i++) {
          const w = words[i];
          if (['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file'].includes(w)) i++;
          else if (!w.startsWith('-')) return w;
        }
        return '';
      });
  }

  sleeps(): string[] {
    return this.calls().filter((c) => c.startsWith('sleep '));
  }

  log(script: string): string {
    const file = path.join(this.logDir, `${script}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${this.bin}:${HOST_PATH}`,
      HOME: this.root,
      LANG: 'C.UTF-8',
      GM_RUNTIME_DIR: RUNTIME_DIR,
      GM_EFS_MOUNT: this.efs.dir,
      GM_HOST_ENV_FILE: this.hostEnvFile,
      GM_ENV_FILE: this.envFile,
      GM_LOG_DIR: this.logDir,
      GM_RUN_DIR: this.runDir,
      GM_QDRANT_LOCAL_DIR: this.qdrantDir,
      GM_QDRANT_SNAPSHOT_LOCAL_DIR: this.qdrantSnapshotLocalDir,
      GM_SYSTEMD_DIR: this.systemdDir,
      GM_INSTANCE_ID: `i-0${this.id}`,
      STUB_STATE: this.state,
      STUB_LOG: this.stubLog,
      STUB_EVENTS: this.efs.events,
      STUB_HOST: this.id,
      STUB_REAL_SLEEP: REAL_SLEEP,
      // A stub sleep that returns at once makes every polling loop (gm_run_bounded) spin on the CPU; a few
      // milliseconds keep the loops honest and the machine free for the scripts under test.
      STUB_SLEEP_REAL: '0.005',
      ...extra,
    };
  }

  /** Starts `bash docker/host/<script>` without waiting for it. */
  start(script: string, extra: Record<string, string> = {}, args: readonly string[] = []): { child: ChildProcess; done: Promise<RunResult> } {
    const child = spawn('bash', [path.join(HOST_SCRIPTS_DIR, script), ...args], {
      env: this.env(extra),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<RunResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    return { child, done };
  }

  run(script: string, extra: Record<string, string> = {}, args: readonly string[] = []): Promise<RunResult> {
    return this.start(script, extra, args).done;
  }

  /** The pid of this host's live fence holder, if any. */
  fenceHolderPid(): number | undefined {
    const file = path.join(this.runDir, 'fence.pid');
    if (!fs.existsSync(file)) return undefined;
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return isAlive(pid) ? pid : undefined;
  }

  /** Ends what a test left running (fence holders, scripts). */
  cleanup(): void {
    const pid = this.fenceHolderPid();
    if (pid) process.kill(pid, 'SIGKILL');
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls (real time, short) until `predicate` holds; for waiting on a concurrently running script. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 15000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fresh fake EFS for each test and the fake hosts made on it, all removed after the test. Call at the top of a test file. */
export class FakeFleet {
  private current?: { efs: FakeEfs; hosts: FakeHost[] };

  constructor() {
    beforeEach(() => {
      this.current = { efs: new FakeEfs(), hosts: [] };
    });
    afterEach(() => {
      for (const host of this.state.hosts) host.cleanup();
      this.state.efs.remove();
      this.current = undefined;
    });
  }

  get efs(): FakeEfs {
    return this.state.efs;
  }

  host(id = 'a', settings: Record<string, string> = {}): FakeHost {
    const host = new FakeHost(id, this.state.efs, settings);
    this.state.hosts.push(host);
    return host;
  }

  private get state(): { efs: FakeEfs; hosts: FakeHost[] } {
    if (!this.current) throw new Error('FakeFleet: used outside a test');
    return this.current;
  }
}
