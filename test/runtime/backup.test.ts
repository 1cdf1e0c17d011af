/**
 * Backup sets (backup.sh) and their restore (restore-backup.sh), run for real under bash with stubs: docker
 * answers pg_dump/pg_restore from the stub state, Qdrant is the stateful fake of the curl stub. The real
 * PostgreSQL round trip of the same functions is test/system/postgres-roundtrip.test.ts.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, RUNTIME_DIR } from './helpers/fake-host';

const fleet = new FakeFleet();
const DUMP = 'PGDMP\u0001custom-archive-bytes';
const SNAPSHOT = 'qdrant-full-snapshot-bytes';

async function runningHost(settings: Record<string, string> = {}): Promise<FakeHost> {
  const host = fleet.host('a', settings);
  expect((await host.run('start.sh')).code).toBe(0);
  host.fakeQdrantSnapshots(SNAPSHOT);
  host.answer('pg-dump', DUMP);
  const n8nDir = path.join(fleet.efs.dir, 'n8n');
  fs.mkdirSync(path.join(n8nDir, '.cache'), { recursive: true });
  fs.writeFileSync(path.join(n8nDir, 'config'), '{"encryptionKey":"kept-in-secrets-manager"}');
  fs.writeFileSync(path.join(n8nDir, '.cache', 'big'), 'rebuilt by n8n');
  return host;
}

const backupDir = (): string => path.join(fleet.efs.dir, 'backups');
const sets = (): string[] => (fs.existsSync(backupDir()) ? fs.readdirSync(backupDir()).sort() : []);
const sha256 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface Manifest {
  name: string;
  tag: string;
  runtimeVersion: string;
  versions: Record<string, string>;
  files: { name: string; bytes: number; sha256: string }[];
}

describe('backup.sh', () => {
  test('writes one whole set: dump, Qdrant snapshot, n8n files without caches, and a manifest with checksums', async () => {
    const host = await runningHost();

    const result = await host.run('backup.sh');

    expect(result.stderr).toContain('backup: set');
    expect(result.code).toBe(0);
    const name = result.stdout.trim();
    expect(name).toMatch(/^\d{8}T\d{6}Z$/);
    expect(sets()).toEqual([name]);
    const dir = path.join(backupDir(), name);
    expect(fs.readdirSync(dir).sort()).toEqual(['data-version.env', 'manifest.json', 'n8n.tar.gz', 'postgres.dump', 'qdrant.snapshot']);
    expect(fs.readFileSync(path.join(dir, 'postgres.dump'), 'utf8')).toBe(DUMP);
    expect(fs.readFileSync(path.join(dir, 'qdrant.snapshot'), 'utf8')).toBe(SNAPSHOT);
    const listed = execFileSync('tar', ['-tzf', path.join(dir, 'n8n.tar.gz')]).toString();
    expect(listed).toContain('./config');
    expect(listed).not.toContain('.cache');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.name).toBe(name);
    expect(manifest.versions.GM_QDRANT_IMAGE).toBe('qdrant/qdrant:v1.19.0');
    for (const file of manifest.files) {
      expect(file.sha256).toBe(sha256(path.join(dir, file.name)));
      expect(file.bytes).toBe(fs.statSync(path.join(dir, file.name)).size);
    }
    // pg_dump ran inside the postgres container as n8n, in custom format.
    expect(host.dockerCalls().some((c) => /exec -T postgres pg_dump --username=n8n --dbname=n8n --format=custom$/.test(c))).toBe(true);
    expect(host.localSnapshotFiles()).toEqual([]);
  });

  test('a failed dump keeps nothing: no set, no temporary directory', async () => {
    const host = await runningHost();
    host.exitCode('pg-dump', 1);

    const result = await host.run('backup.sh');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('backup: pg_dump failed');
    expect(sets()).toEqual([]);
  });

  test('keeps the newest GM_BACKUP_KEEP sets and removes unfinished ones of a dead run', async () => {
    const host = await runningHost({ GM_BACKUP_KEEP: '2' });
    for (const old of ['20200101T000000Z', '20200102T000000Z', '20200103T000000Z', '.tmp-20200104T000000Z']) {
      fs.mkdirSync(path.join(backupDir(), old), { recursive: true });
      fs.writeFileSync(path.join(backupDir(), old, 'manifest.json'), `{"files":[{"name":"postgres.dump","bytes":1,"sha256":"${'0'.repeat(64)}"}]}`);
    }

    const result = await host.run('backup.sh');

    expect(result.code).toBe(0);
    expect(sets()).toEqual(['20200103T000000Z', result.stdout.trim()]);
  });

  test('does nothing on a host that does not hold the fence', async () => {
    const host = fleet.host('a');
    const result = await host.run('backup.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('backup: skipped, this host does not hold the fence');
    expect(sets()).toEqual([]);
  });
});

describe('restore-backup.sh', () => {
  /** A copy of the runtime whose functional check is a stub answering from the host's stub state. */
  function runtimeWithStubCheck(host: FakeHost): string {
    const dir = path.join(host.root, 'runtime');
    fs.cpSync(RUNTIME_DIR, dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'host', 'functional-check.sh'),
      '#!/usr/bin/env bash\nprintf "functional-check\\n" >>"$STUB_LOG"\ncat "$STUB_STATE/check" 2>/dev/null\nexit "$(cat "$STUB_STATE/check.exit" 2>/dev/null || echo 0)"\n',
    );
    return dir;
  }

  async function hostWithSet(): Promise<{ host: FakeHost; name: string; runtime: string }> {
    const host = await runningHost();
    const result = await host.run('backup.sh');
    expect(result.code).toBe(0);
    fs.writeFileSync(path.join(fleet.efs.dir, 'n8n', 'config'), 'changed after the backup');
    fs.mkdirSync(host.qdrantDir, { recursive: true });
    fs.writeFileSync(path.join(host.qdrantDir, 'newer-vectors'), 'x');
    return { host, name: result.stdout.trim(), runtime: runtimeWithStubCheck(host) };
  }

  test('restores the database, n8n files and vectors in order, then passes only with the functional check', async () => {
    const { host, name, runtime } = await hostWithSet();
    host.answer('check', 'postgres ok\nn8n ok\nqdrant ok\nollama ok\ncrawl4ai ok\n');
    const before = host.calls().length;

    const result = await host.run('restore-backup.sh', { GM_RUNTIME_DIR: runtime }, [name]);

    expect(result.stderr).toContain(`restore: ${name} restored and the functional check passed`);
    expect(result.code).toBe(0);
    expect(host.readState('pg-restore.in')).toBe(DUMP);
    const calls = host.calls().slice(before);
    const stop = calls.findIndex((c) => /compose .* stop --timeout \d+ n8n qdrant$/.test(c));
    const restore = calls.findIndex((c) => /exec -T postgres pg_restore --username=n8n --dbname=n8n_restore --no-owner --single-transaction --exit-on-error$/.test(c));
    // Restored into a new database that then takes the place of n8n's.
    expect(host.readState('psql.in')).toMatch(/CREATE DATABASE n8n_restore OWNER n8n;[\s\S]*ALTER DATABASE n8n_restore RENAME TO n8n;/);
    const qdrantRestore = calls.findIndex((c) => c.includes('--storage-snapshot'));
    const check = calls.indexOf('functional-check');
    expect(stop).toBeGreaterThan(-1);
    expect(restore).toBeGreaterThan(stop);
    expect(qdrantRestore).toBeGreaterThan(restore);
    expect(check).toBeGreaterThan(qdrantRestore);
    expect(fs.readFileSync(path.join(fleet.efs.dir, 'n8n', 'config'), 'utf8')).toBe('{"encryptionKey":"kept-in-secrets-manager"}');
    // The set's snapshot is the newest on EFS, the one start.sh restored.
    const snapshots = fs.readdirSync(fleet.efs.snapshotDir).filter((f) => !f.startsWith('.')).sort();
    expect(fs.readFileSync(path.join(fleet.efs.snapshotDir, snapshots[snapshots.length - 1]), 'utf8')).toBe(SNAPSHOT);
  }, 30000);

  test('a failing functional check fails the restore', async () => {
    const { host, runtime } = await hostWithSet();
    host.answer('check', 'n8n FAIL owner login refused\n');
    host.answer('check.exit', '1\n');

    const result = await host.run('restore-backup.sh', { GM_RUNTIME_DIR: runtime }, ['latest']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('restore: the functional check failed after restoring');
  }, 30000);

  test('a file that does not match its checksum: one line, nothing touched', async () => {
    const { host, name, runtime } = await hostWithSet();
    fs.appendFileSync(path.join(backupDir(), name, 'postgres.dump'), 'X');
    const before = host.calls().length;

    const result = await host.run('restore-backup.sh', { GM_RUNTIME_DIR: runtime }, [name]);

    expect(result.code).toBe(2);
    const errors = result.stderr.split('\n').filter((l) => l.includes(' ERROR '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`restore: backup set ${name} is damaged: postgres.dump has`);
    expect(errors[0]).toContain('nothing was touched');
    expect(host.calls().slice(before).filter((c) => c.startsWith('docker '))).toEqual([]);
    expect(fs.readFileSync(path.join(fleet.efs.dir, 'n8n', 'config'), 'utf8')).toBe('changed after the backup');
  });

  test('a manifest that lists no files is no set to restore: one line, nothing touched', async () => {
    const { host, name, runtime } = await hostWithSet();
    fs.writeFileSync(path.join(backupDir(), name, 'manifest.json'), `{"format":1,"name":"${name}","files":[]}\n`);
    const before = host.calls().length;

    const result = await host.run('restore-backup.sh', { GM_RUNTIME_DIR: runtime }, [name]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`restore: backup set ${name} is damaged: manifest.json does not list postgres.dump; nothing was touched`);
    expect(host.calls().slice(before).filter((c) => c.startsWith('docker '))).toEqual([]);
  });

  test('no backup set at all: one line naming where it looked', async () => {
    const host = fleet.host('a');
    const result = await host.run('restore-backup.sh', {}, ['latest']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`restore: there is no backup set in ${backupDir()}`);
  });
});
