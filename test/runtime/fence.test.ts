/**
 * The single-writer fence: two fake hosts, each with its own stubs and local directories, run
 * start.sh at the same time as real processes against one directory standing in for EFS. The lock is
 * a real flock on that directory's .geusemaker.lock, as on EFS.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, waitFor } from './helpers/fake-host';

const fleet = new FakeFleet();

function twoHosts(): [FakeHost, FakeHost] {
  const a = fleet.host('a');
  const b = fleet.host('b');
  return [a, b];
}

/** The hosts that ran `docker compose up`, from the shared event log. */
function hostsThatRanUp(): string[] {
  return fleet.efs
    .eventLines()
    .filter((line) => / docker compose .* up /.test(line))
    .map((line) => line.split(' ')[0]);
}

describe('single-writer fence', () => {
  test('two concurrent starts against the same EFS never both run the services', async () => {
    const [a, b] = twoHosts();
    // Whoever takes the fence first keeps it (its stack runs); the other must never reach compose up.
    // Real 20 ms naps between attempts keep the two runs overlapping.
    const env = { GM_FENCE_ATTEMPTS: '3', GM_FENCE_INTERVAL: '5', STUB_SLEEP_REAL: '0.02' };
    for (const h of [a, b]) h.answer('ps', 'n8n running starting\n', 1);

    const [ra, rb] = await Promise.all([a.run('start.sh', env), b.run('start.sh', env)]);

    const results = { a: ra, b: rb };
    const winners = Object.entries(results).filter(([, r]) => r.code === 0).map(([id]) => id);
    const losers = Object.entries(results).filter(([, r]) => r.code !== 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const [loserId, loser] = losers[0];
    // The loser waited (bounded, logged) and failed clearly with exit 3, naming who holds the fence.
    expect(loser.code).toBe(3);
    expect(loser.stderr).toContain(`fence: waiting for ${fleet.efs.lockFile}, held by instance=i-0${winners[0]} `);
    expect(loser.stderr).toContain('(attempt 2/3)');
    expect(loser.stderr).toContain(`still held by another host after 3 attempts, giving up (holder: instance=i-0${winners[0]} `);
    // Only the winner ever ran docker compose up; the loser touched nothing (no up, no stop).
    expect(hostsThatRanUp()).toEqual(winners);
    const loserHost = loserId === 'a' ? a : b;
    expect(loserHost.composeSubcommands()).toEqual(['version']);
    expect(loserHost.fenceHolderPid()).toBeUndefined();
    // The winner still holds the fence.
    expect(fleet.efs.lockIsFree()).toBe(false);
  });

  test('a second host waits until the first has let go, then starts', async () => {
    const [a, b] = twoHosts();
    expect((await a.run('start.sh')).code).toBe(0);
    expect(fleet.efs.lockIsFree()).toBe(false);

    // Host b waits on the fence: many attempts, each a real 20 ms nap, so it is really waiting.
    const waiting = b.start('start.sh', { GM_FENCE_ATTEMPTS: '500', GM_FENCE_INTERVAL: '5', STUB_SLEEP_REAL: '0.02' });
    await waitFor(() => b.log('start').includes('fence: waiting for'), 'host b to wait for the fence');
    expect(hostsThatRanUp()).toEqual(['a']);

    // Host a stops (Qdrant snapshot, compose stop), releasing the fence.
    a.fakeQdrantSnapshots('x');
    const stopped = await a.run('stop.sh');
    expect(stopped.code).toBe(0);

    const rb = await waiting.done;
    expect(rb.stderr).toContain('start: done, every service is healthy');
    expect(rb.code).toBe(0);
    expect(rb.stderr).toMatch(/fence: acquired .* \(holder pid \d+, attempt \d+\)/);
    // Order on the shared timeline: a up, a stop, then b up.
    const events = fleet.efs.eventLines();
    const aStop = events.findIndex((e) => /^a docker compose .* stop /.test(e));
    const bUp = events.findIndex((e) => /^b docker compose .* up /.test(e));
    expect(aStop).toBeGreaterThan(-1);
    expect(bUp).toBeGreaterThan(aStop);
    expect(hostsThatRanUp()).toEqual(['a', 'b']);
    expect(fs.readFileSync(path.join(fleet.efs.dir, '.geusemaker.lock.owner'), 'utf8')).toMatch(/^instance=i-0b /);
  });

  test('a host that died without stop.sh (holder killed) no longer blocks the next one', async () => {
    const [a, b] = twoHosts();
    expect((await a.run('start.sh')).code).toBe(0);
    // The host vanishes: its holder dies, as when EFS ends the lease of a dead client.
    process.kill(a.fenceHolderPid()!, 'SIGKILL');
    await waitFor(() => fleet.efs.lockIsFree(), 'the lock to be free');

    const rb = await b.run('start.sh', { GM_FENCE_ATTEMPTS: '2' });
    expect(rb.code).toBe(0);
    // a's stale owner record is replaced by b's.
    expect(fs.readFileSync(path.join(fleet.efs.dir, '.geusemaker.lock.owner'), 'utf8')).toMatch(/^instance=i-0b /);
  });

  test('stop.sh releases only its own host\'s fence', async () => {
    const [a, b] = twoHosts();
    expect((await a.run('start.sh')).code).toBe(0);
    const rb = await b.run('stop.sh');
    expect({ code: rb.code, stderr: rb.stderr }).toMatchObject({ code: 0 });
    expect(rb.stderr).toContain('fence: not held by this host, nothing to release');
    expect(fleet.efs.lockIsFree()).toBe(false);
    expect(a.fenceHolderPid()).toBeDefined();
  });
});
