/**
 * Qdrant snapshots reach EFS however long Qdrant takes to make them, and never leave a copy behind: not on
 * the root volume (Qdrant's local snapshot directory), not as a partial file on EFS. Qdrant is faked with
 * state by the curl stub the way v1.19.0 answers (POST /snapshots?wait=false is 202, the snapshot appears in
 * GET /snapshots when complete, with its size and sha256); time is a fake clock moved only by `sleep`.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, waitFor } from './helpers/fake-host';

const fleet = new FakeFleet();
const START = 1_700_000_000;
const BODY = 'qdrant-full-snapshot-bytes';

async function runningHost(): Promise<FakeHost> {
  const host = fleet.host('a');
  expect((await host.run('start.sh')).code).toBe(0);
  host.fakeQdrantSnapshots(BODY);
  return host;
}

function efsSnapshots(): string[] {
  return fs.existsSync(fleet.efs.snapshotDir) ? fs.readdirSync(fleet.efs.snapshotDir).sort() : [];
}

test('a snapshot that takes far longer than any client timeout still reaches EFS, and no local copy is left', async () => {
  const host = await runningHost();
  host.fakeQdrantSnapshots(BODY, 4);

  const result = await host.run('qdrant-snapshot.sh', { ...host.fakeClock(START), GM_QDRANT_SNAPSHOT_POLL: '30' });

  expect(result.stderr).toContain('qdrant snapshot: saved');
  expect(result.code).toBe(0);
  // 4 polls of 30 s: 120 s of work, twice the old 60 s client limit.
  expect(host.clockNow() - START).toBeGreaterThanOrEqual(120);
  const saved = efsSnapshots();
  expect(saved).toHaveLength(1);
  expect(fs.readFileSync(path.join(fleet.efs.snapshotDir, saved[0]), 'utf8')).toBe(BODY);
  expect(host.localSnapshotFiles()).toEqual([]);
  // No request waited for the work itself: the create asks Qdrant to work in the background.
  const create = host.calls().find((c) => c.includes('/snapshots?wait=false'))!;
  expect(Number(/--max-time (\d+)/.exec(create)![1])).toBeLessThanOrEqual(60);
});

test('a snapshot Qdrant finished after an earlier run gave up is deleted, never taken for the new one', async () => {
  const host = await runningHost();
  fs.mkdirSync(path.join(host.qdrantSnapshotLocalDir, 'docs'), { recursive: true });
  const orphan = path.join(host.qdrantSnapshotLocalDir, 'full-snapshot-2024-12-31-23-59-59.snapshot');
  fs.writeFileSync(orphan, 'an old orphan');
  fs.writeFileSync(`${orphan}.checksum`, 'f'.repeat(64));
  // The collection snapshot a full snapshot is built from stays in Qdrant's snapshot directory too.
  fs.writeFileSync(path.join(host.qdrantSnapshotLocalDir, 'docs', 'docs-1-2025-03-01-12-00-00.snapshot'), 'collection');

  const result = await host.run('qdrant-snapshot.sh');

  expect(result.code).toBe(0);
  expect(result.stderr).toContain('deleted full-snapshot-2024-12-31-23-59-59.snapshot');
  const saved = efsSnapshots();
  expect(saved).toHaveLength(1);
  expect(fs.readFileSync(path.join(fleet.efs.snapshotDir, saved[0]), 'utf8')).toBe(BODY);
  expect(host.localSnapshotFiles()).toEqual([]);
});

test('a snapshot that never finishes is given up at the bound with one line; the next run deletes it when it lands', async () => {
  const host = await runningHost();
  host.fakeQdrantSnapshots(BODY, 0, true);

  const first = await host.run('qdrant-snapshot.sh', { ...host.fakeClock(START), GM_QDRANT_SNAPSHOT_MAX_SECONDS: '100', GM_QDRANT_SNAPSHOT_POLL: '30' });

  expect(first.code).toBe(1);
  expect(first.stderr).toContain('qdrant snapshot: Qdrant did not finish the snapshot in the time allowed');
  // The bound, plus the second a bounded request may overrun it by.
  expect(host.clockNow() - START).toBeLessThanOrEqual(101);
  expect(efsSnapshots()).toEqual([]);

  // Qdrant finishes it later: the next run finds it in the list first, deletes it and makes its own.
  host.fakeQdrantSnapshots(BODY);
  const second = await host.run('qdrant-snapshot.sh');
  expect(second.code).toBe(0);
  expect(second.stderr).toContain('deleted full-snapshot-2025-03-01-12-00-01.snapshot');
  expect(second.stderr).toContain('full-snapshot-2025-03-01-12-00-02.snapshot is ready');
  expect(efsSnapshots()).toHaveLength(1);
  expect(host.localSnapshotFiles()).toEqual([]);
});

test('a failed download leaves nothing: no partial file on EFS, no local copy', async () => {
  const host = await runningHost();
  host.curl('qdrant-download', 500, '{"status":{"error":"Service internal error"},"time":0.0}');

  const result = await host.run('qdrant-snapshot.sh');

  expect(result.code).toBe(1);
  expect(result.stderr).toContain('qdrant snapshot: download of full-snapshot-2025-03-01-12-00-01.snapshot failed');
  expect(efsSnapshots()).toEqual([]);
  expect(host.localSnapshotFiles()).toEqual([]);
});

test('a copy of the right size whose sha256 differs from Qdrant\'s is discarded', async () => {
  const host = await runningHost();
  host.curl('qdrant-download', 200, 'X'.repeat(BODY.length));

  const result = await host.run('qdrant-snapshot.sh');

  expect(result.code).toBe(1);
  expect(result.stderr).toContain('does not match the sha256 Qdrant announced');
  expect(efsSnapshots()).toEqual([]);
  expect(host.localSnapshotFiles()).toEqual([]);
});

test('a partial copy left on EFS by a host that died mid-copy is pruned', async () => {
  const host = await runningHost();
  fs.mkdirSync(fleet.efs.snapshotDir, { recursive: true });
  fs.writeFileSync(path.join(fleet.efs.snapshotDir, '.partial-qdrant-20250101T000000Z.snapshot'), 'half');

  const result = await host.run('qdrant-snapshot.sh');

  expect(result.code).toBe(0);
  expect(result.stderr).toContain('pruned the partial copy');
  expect(efsSnapshots().filter((f) => f.startsWith('.'))).toEqual([]);
  expect(efsSnapshots()).toHaveLength(1);
});

test('start.sh empties Qdrant\'s local snapshot directory before the stack starts', async () => {
  const host = fleet.host('a');
  fs.mkdirSync(host.qdrantSnapshotLocalDir, { recursive: true });
  fs.writeFileSync(path.join(host.qdrantSnapshotLocalDir, 'full-snapshot-2024-12-31-23-59-59.snapshot'), 'orphan');

  const result = await host.run('start.sh');

  expect(result.code).toBe(0);
  expect(host.localSnapshotFiles()).toEqual([]);
});

test('the timer skips (exit 0) while another snapshot, such as a backup set\'s, holds the lock', async () => {
  const host = await runningHost();
  const holder = spawn('flock', [path.join(host.runDir, 'qdrant-snapshot.lock'), 'sleep', '30'], { stdio: 'ignore', detached: true });
  try {
    await waitFor(() => {
      try {
        execFileSync('flock', ['--nonblock', path.join(host.runDir, 'qdrant-snapshot.lock'), 'true']);
        return false;
      } catch {
        return true;
      }
    }, 'the test to hold the snapshot lock');
    const result = await host.run('qdrant-snapshot.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('qdrant snapshot: skipped, another snapshot is running on this host');
    expect(host.calls().filter((c) => c.includes('/snapshots'))).toEqual([]);
  } finally {
    // The whole group: flock and the sleep that holds the lock with it.
    process.kill(-holder.pid!, 'SIGKILL');
  }
});
