/**
 * A real round trip of n8n's database through a backup set's dump: two PostgreSQL servers from Debian's
 * packages (started here on a temporary directory, as the postgres user when run as root, since postgres
 * refuses to run as root), rows in the first, backup-lib.sh's gm_backup_dump_postgres dumping it and
 * gm_backup_restore_postgres restoring it into the second, empty one, through `docker compose exec
 * postgres` stubbed to run the real pg_dump/pg_restore. Executed, not mocked. Run by `npm run test:system`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const HOST_DIR = path.join(REPO_ROOT, 'docker', 'host');
const STUBS = path.join(__dirname, 'stubs');
const AS_ROOT = process.getuid?.() === 0;

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => path.join(root, v, 'bin')).find((b) => fs.existsSync(path.join(b, 'initdb')));
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install -y postgresql (Debian) provides /usr/lib/postgresql/<version>/bin');
  return bin;
}

const BIN = postgresBin();
let root: string;
const socketDir = (): string => path.join(root, 'sockets');

/** Runs a server-side command as the postgres user when the test runs as root. */
function asPostgres(command: string, args: string[]): string {
  const full = path.join(BIN, command);
  return (AS_ROOT ? execFileSync('runuser', ['-u', 'postgres', '--', full, ...args]) : execFileSync(full, args)).toString();
}

class Server {
  readonly dir: string;
  readonly port: number;

  constructor(readonly name: string, port: number) {
    this.dir = path.join(root, name);
    this.port = port;
  }

  start(): void {
    fs.mkdirSync(this.dir, { mode: 0o700 });
    if (AS_ROOT) execFileSync('chown', ['postgres:', this.dir]);
    asPostgres('initdb', ['--pgdata', this.dir, '--username=n8n', '--auth=trust', '--encoding=UTF8', '--locale=C']);
    asPostgres('pg_ctl', ['--pgdata', this.dir, '--log', path.join(this.dir, 'server.log'), '--wait', 'start',
      '--options', `-p ${this.port} -k ${socketDir()} -c listen_addresses=''`]);
    // The postgres image makes n8n's database at its first start (POSTGRES_DB=n8n): an empty one.
    this.psql('postgres', 'CREATE DATABASE n8n');
  }

  stop(): void {
    if (fs.existsSync(path.join(this.dir, 'postmaster.pid'))) asPostgres('pg_ctl', ['--pgdata', this.dir, '--mode=immediate', 'stop']);
  }

  env(): Record<string, string> {
    return { PGHOST: socketDir(), PGPORT: String(this.port) };
  }

  psql(database: string, sql: string): string {
    return execFileSync(path.join(BIN, 'psql'), ['--no-psqlrc', '--quiet', '--tuples-only', '--no-align', '-v', 'ON_ERROR_STOP=1',
      '--username=n8n', `--dbname=${database}`, '--command', sql], { env: { ...process.env, ...this.env() } }).toString();
  }
}

/** Runs one function of backup-lib.sh the way the host scripts do (lib.sh's settings, docker through PATH). */
function backupLib(fn: string, file: string, server: Server): void {
  execFileSync('bash', ['-c', `set -euo pipefail; source "${HOST_DIR}/lib.sh"; source "${HOST_DIR}/backup-lib.sh"; gm_init system-test; ${fn} "$1"`, 'bash', file], {
    env: {
      PATH: `${STUBS}:${BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: root,
      GM_PREFIX: path.join(root, 'host'),
      GM_RUNTIME_DIR: path.join(REPO_ROOT, 'docker'),
      ...server.env(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const port = 20000 + Math.floor(Math.random() * 20000);
let source: Server;
let target: Server;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-system-'));
  fs.chmodSync(root, 0o755);
  fs.mkdirSync(socketDir(), { mode: 0o755 });
  if (AS_ROOT) execFileSync('chown', ['postgres:', socketDir()]);
  source = new Server('source', port);
  target = new Server('target', port + 1);
  source.start();
  target.start();
});

afterAll(() => {
  for (const server of [source, target]) {
    try {
      server?.stop();
    } catch {
      // already stopped
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

const ROWS_QUERY = `SELECT id, name, nodes::text, encode(sha256(blob), 'hex') FROM workflow_entity ORDER BY id`;

test('a database dumped by the backup script and restored by the restore script into an empty server has the same rows', () => {
  source.psql('n8n', `
    CREATE TABLE workflow_entity (id varchar(36) PRIMARY KEY, name text NOT NULL, nodes json NOT NULL, blob bytea);
    INSERT INTO workflow_entity
      SELECT 'wf-' || i, 'Workflow ' || i || ' – ünïcødé ✓', json_build_object('node', i, 'tags', json_build_array('a', 'b')),
             decode(md5(i::text), 'hex')
      FROM generate_series(1, 2000) AS i;
    CREATE TABLE settings (key text PRIMARY KEY, value text);
    INSERT INTO settings VALUES ('userManagement.isInstanceOwnerSetUp', 'true');`);
  const dump = path.join(root, 'postgres.dump');

  backupLib('gm_backup_dump_postgres', dump, source);
  expect(fs.readFileSync(dump).subarray(0, 5).toString()).toBe('PGDMP');
  expect(target.psql('n8n', `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).trim()).toBe('0');
  backupLib('gm_backup_restore_postgres', dump, target);

  const restored = target.psql('n8n', ROWS_QUERY);
  expect(restored.trim().split('\n')).toHaveLength(2000);
  expect(restored).toBe(source.psql('n8n', ROWS_QUERY));
  expect(target.psql('n8n', 'SELECT key, value FROM settings')).toBe(source.psql('n8n', 'SELECT key, value FROM settings'));
});

test('restoring the set again undoes what came after it: new rows and a table a newer n8n migration added', () => {
  const dump = path.join(root, 'postgres.dump');
  target.psql('n8n', `INSERT INTO workflow_entity VALUES ('wf-new', 'made after the backup', '{}', NULL);
    CREATE TABLE added_by_a_newer_migration (id int)`);
  backupLib('gm_backup_restore_postgres', dump, target);
  expect(target.psql('n8n', ROWS_QUERY)).toBe(source.psql('n8n', ROWS_QUERY));
  expect(target.psql('n8n', `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`).trim().split('\n')).toEqual(['settings', 'workflow_entity']);
});

test('an archive pg_restore cannot read leaves n8n\'s database as it was', () => {
  const broken = path.join(root, 'broken.dump');
  fs.writeFileSync(broken, 'PGDMP this is not an archive');
  expect(() => backupLib('gm_backup_restore_postgres', broken, target)).toThrow(/restore: pg_restore failed, n8n's database is unchanged/);
  expect(target.psql('n8n', ROWS_QUERY)).toBe(source.psql('n8n', ROWS_QUERY));
  expect(target.psql('postgres', `SELECT datname FROM pg_database WHERE datname LIKE 'n8n%' ORDER BY 1`).trim()).toBe('n8n');
});
