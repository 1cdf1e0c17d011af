/**
 * Upgrades that can roll back (upgrade-lib.sh, run by start.sh): the data on EFS records the runtime that last
 * wrote it; a newer runtime backs up before n8n migrates, an older one (a CloudFormation rollback) restores
 * the pre-upgrade set made for it or refuses, and a Qdrant jump over a minor version is refused. Runtimes of
 * other versions are copies of docker/ with their own versions.env; everything else is the stubbed host.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, RUNTIME_DIR } from './helpers/fake-host';

const fleet = new FakeFleet();
const CURRENT = fs.readFileSync(path.join(RUNTIME_DIR, 'versions.env'), 'utf8');
const CURRENT_VERSION = /^GM_RUNTIME_VERSION=(.+)$/m.exec(CURRENT)![1];
const DUMP = 'PGDMP\u0001pre-upgrade-archive';

/** versions.env with another runtime version (and optionally another Qdrant image). */
function versions(runtimeVersion: string, qdrantImage?: string): string {
  let text = CURRENT.replace(/^GM_RUNTIME_VERSION=.*$/m, `GM_RUNTIME_VERSION=${runtimeVersion}`);
  if (qdrantImage) text = text.replace(/^GM_QDRANT_IMAGE=.*$/m, `GM_QDRANT_IMAGE=${qdrantImage}`);
  return text;
}

/** A copy of docker/ whose versions.env is `text`. */
function runtime(host: FakeHost, text: string): string {
  const dir = path.join(host.root, `runtime-${crypto.createHash('sha1').update(text).digest('hex').slice(0, 8)}`);
  fs.cpSync(RUNTIME_DIR, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'versions.env'), text);
  return dir;
}

const record = (): string => path.join(fleet.efs.dir, '.geusemaker-data-version');
const backupDir = (): string => path.join(fleet.efs.dir, 'backups');
const sets = (): string[] => (fs.existsSync(backupDir()) ? fs.readdirSync(backupDir()).sort() : []);

/** EFS as a runtime left it: n8n's database initialised, the record of the versions that wrote it. */
function existingData(writtenBy: string): void {
  fs.mkdirSync(path.join(fleet.efs.dir, 'postgres', 'pgdata'), { recursive: true });
  fs.writeFileSync(path.join(fleet.efs.dir, 'postgres', 'pgdata', 'PG_VERSION'), '17\n');
  fs.mkdirSync(path.join(fleet.efs.dir, 'n8n'), { recursive: true });
  fs.writeFileSync(path.join(fleet.efs.dir, 'n8n', 'config'), 'n8n config');
  fs.writeFileSync(record(), writtenBy);
}

/** A backup set on EFS as backup-lib.sh writes it. */
function seedSet(name: string, dataVersions: string): void {
  const dir = path.join(backupDir(), name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'postgres.dump'), DUMP);
  fs.writeFileSync(path.join(dir, 'qdrant.snapshot'), 'vectors before the upgrade');
  fs.writeFileSync(path.join(dir, 'data-version.env'), dataVersions);
  const staging = path.join(fleet.efs.root, 'n8n-files');
  fs.mkdirSync(staging, { recursive: true });
  fs.writeFileSync(path.join(staging, 'config'), 'n8n config before the upgrade');
  execFileSync('tar', ['-czf', path.join(dir, 'n8n.tar.gz'), '-C', staging, '.']);
  const files = ['postgres.dump', 'qdrant.snapshot', 'n8n.tar.gz', 'data-version.env'].map((file) => {
    const bytes = fs.readFileSync(path.join(dir, file));
    return { name: file, bytes: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
  });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ format: 1, name, files }));
}

function newHost(): FakeHost {
  const host = fleet.host('a');
  host.answer('pg-dump', DUMP);
  return host;
}

test('fresh data: the runtime records itself as the one that writes it', async () => {
  const host = newHost();
  const result = await host.run('start.sh');
  expect(result.code).toBe(0);
  expect(fs.readFileSync(record(), 'utf8')).toBe(CURRENT);
  expect(sets()).toEqual([]);
});

test('a newer runtime on older data takes the pre-upgrade set before n8n starts, then records itself', async () => {
  const host = newHost();
  existingData(versions('2026.10.0'));
  fs.mkdirSync(fleet.efs.snapshotDir, { recursive: true });
  fs.writeFileSync(path.join(fleet.efs.snapshotDir, 'qdrant-20261001T000000Z.snapshot'), 'vectors of 2026.10.0');

  const result = await host.run('start.sh');

  expect(result.stderr).toContain(`upgrade: runtime ${CURRENT_VERSION} on data written by 2026.10.0: taking the pre-upgrade set first`);
  expect(result.code).toBe(0);
  const [set] = sets();
  expect(set).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-pre-upgrade-2026\\.10\\.0-${CURRENT_VERSION.replace(/\./g, '\\.')}$`));
  expect(fs.readFileSync(path.join(backupDir(), set, 'postgres.dump'), 'utf8')).toBe(DUMP);
  expect(fs.readFileSync(path.join(backupDir(), set, 'qdrant.snapshot'), 'utf8')).toBe('vectors of 2026.10.0');
  expect(fs.readFileSync(path.join(backupDir(), set, 'data-version.env'), 'utf8')).toBe(versions('2026.10.0'));
  expect(fs.readFileSync(record(), 'utf8')).toBe(CURRENT);
  // The dump ran with PostgreSQL alone, before the whole stack (n8n, which migrates) came up.
  const calls = host.dockerCalls();
  const dump = calls.findIndex((c) => c.includes('pg_dump'));
  expect(dump).toBeGreaterThan(calls.findIndex((c) => /up --detach --no-deps postgres$/.test(c)));
  expect(dump).toBeLessThan(calls.findIndex((c) => c.includes('up --detach --remove-orphans')));
});

test('a failed pre-upgrade backup stops the upgrade: nothing starts, the record stays', async () => {
  const host = newHost();
  existingData(versions('2026.10.0'));
  host.exitCode('pg-dump', 1);

  const result = await host.run('start.sh');

  expect(result.code).toBe(1);
  expect(result.stderr).toContain('start: the pre-upgrade backup failed; the data stays as runtime 2026.10.0 wrote it');
  expect(host.dockerCalls().some((c) => c.includes('--remove-orphans'))).toBe(false);
  expect(fs.readFileSync(record(), 'utf8')).toBe(versions('2026.10.0'));
});

test('a rollback onto data a newer runtime wrote restores the pre-upgrade set made for it', async () => {
  const host = newHost();
  existingData(versions('2026.12.0'));
  seedSet(`20261201T000000Z-pre-upgrade-${CURRENT_VERSION}-2026.12.0`, CURRENT);
  fs.mkdirSync(host.qdrantDir, { recursive: true });
  fs.writeFileSync(path.join(host.qdrantDir, 'migrated-by-newer-qdrant'), 'x');

  const result = await host.run('start.sh');

  expect(result.stderr).toContain(`upgrade: rolling back from runtime 2026.12.0 to ${CURRENT_VERSION}`);
  expect(result.code).toBe(0);
  expect(host.readState('pg-restore.in')).toBe(DUMP);
  expect(fs.readFileSync(path.join(fleet.efs.dir, 'n8n', 'config'), 'utf8')).toBe('n8n config before the upgrade');
  // Qdrant is restored from the set's snapshot, not started on storage the newer version migrated.
  const run = host.dockerCalls().find((c) => c.includes('--storage-snapshot'))!;
  const snapshot = /--volume (\S+):\/qdrant\/restore/.exec(run)![1];
  expect(fs.readFileSync(snapshot, 'utf8')).toBe('vectors before the upgrade');
  expect(fs.readFileSync(record(), 'utf8')).toBe(CURRENT);
});

test('a rollback without the pre-upgrade set refuses to start, in one line, touching nothing', async () => {
  const host = newHost();
  existingData(versions('2026.12.0'));
  seedSet(`20261101T000000Z-pre-upgrade-2026.10.0-${CURRENT_VERSION}`, versions('2026.10.0'));

  const result = await host.run('start.sh');

  expect(result.code).toBe(2);
  const errors = result.stderr.split('\n').filter((l) => l.includes(' ERROR ') && !l.includes('start: FAILED') && !l.includes('failed after taking the fence'));
  expect(errors).toEqual([expect.stringContaining(
    `start: the data was written by runtime 2026.12.0, newer than this runtime ${CURRENT_VERSION}, and no pre-upgrade-${CURRENT_VERSION}-2026.12.0 backup set exists to roll back to; refusing to start on it`,
  )]);
  expect(host.dockerCalls().filter((c) => / (up|exec) /.test(c))).toEqual([]);
  expect(fs.readFileSync(record(), 'utf8')).toBe(versions('2026.12.0'));
});

test('a Qdrant jump that skips a minor version is refused, naming the versions to go through', async () => {
  const host = newHost();
  existingData(versions('2026.10.0', 'qdrant/qdrant:v1.16.3'));

  const result = await host.run('start.sh');

  expect(result.code).toBe(2);
  expect(result.stderr).toContain(
    'start: refusing to upgrade Qdrant: v1.16.3 to v1.19.0 skips a minor version; go through v1.17 (its latest patch), then v1.18 (its latest patch) first',
  );
  expect(sets()).toEqual([]);
  expect(host.dockerCalls().filter((c) => / up /.test(c))).toEqual([]);
});

test('a Qdrant step of one minor version is an ordinary upgrade', async () => {
  const host = newHost();
  existingData(versions('2026.10.0', 'qdrant/qdrant:v1.18.2'));
  const result = await host.run('start.sh', { GM_RUNTIME_DIR: runtime(host, CURRENT) });
  expect(result.code).toBe(0);
  expect(sets()).toHaveLength(1);
});
