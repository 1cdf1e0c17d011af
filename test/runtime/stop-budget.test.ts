/**
 * The spot stop fits the two-minute notice as a whole: one deadline (GM_STOP_BUDGET, 100 s on a notice),
 * each step bounded by what is left, data first (n8n, PostgreSQL, then a Qdrant snapshot only if time is
 * left), and the fence released at the end whatever happened. Time is a fake clock moved only by the
 * sleep stub; a "hanging" stub blocks for real until stop.sh kills it, so nothing waits real minutes.
 */
import { FakeFleet, FakeHost } from './helpers/fake-host';

const fleet = new FakeFleet();
const START = 1_700_000_000;

async function runningHost(): Promise<FakeHost> {
  const host = fleet.host('a');
  expect((await host.run('start.sh')).code).toBe(0);
  host.fakeQdrantSnapshots('snap');
  return host;
}

test('worst case, every step hangs: the whole stop stays within its 100 s and the fence is still released', async () => {
  const host = await runningHost();
  for (const key of ['stop', 'curl-qdrant-create', 'docker-ps', 'docker-kill']) host.hang(key);

  const result = await host.run('stop.sh', { ...host.fakeClock(START), GM_STOP_BUDGET: '100' });

  expect(result.code).toBe(1);
  expect(host.clockNow() - START).toBeLessThanOrEqual(100);
  expect(fleet.efs.lockIsFree()).toBe(true);
  expect(result.stderr).toContain('fence: released');
  expect(result.stderr).toContain('stop: docker compose stop n8n failed or ran out of time');
  // PostgreSQL still got its own attempt after n8n's ran out of time.
  expect(result.stderr).toContain('stop: docker compose stop postgres (timeout');
}, 30000);

test('a hanging snapshot gets only the time left after n8n and PostgreSQL, then the rest still stops in time', async () => {
  const host = await runningHost();
  host.hang('curl-qdrant-create');

  const result = await host.run('stop.sh', { ...host.fakeClock(START), GM_STOP_BUDGET: '100' });

  expect(result.code).toBe(1);
  expect(host.clockNow() - START).toBeLessThanOrEqual(100);
  expect(result.stderr).toContain('qdrant snapshot: POST /snapshots failed');
  const calls = host.calls();
  const n8n = calls.findIndex((c) => /^docker compose .* stop --timeout \d+ n8n$/.test(c));
  const postgres = calls.findIndex((c) => /^docker compose .* stop --timeout \d+ postgres$/.test(c));
  const create = calls.findIndex((c) => c.includes('/snapshots?wait=false'));
  const rest = calls.findIndex((c) => /^docker compose .* stop --timeout \d+$/.test(c));
  expect(n8n).toBeGreaterThan(-1);
  expect(postgres).toBeGreaterThan(n8n);
  expect(create).toBeGreaterThan(postgres);
  expect(rest).toBeGreaterThan(create);
  // The request itself was given no more than what was left of the budget.
  const maxTime = Number(/--max-time (\d+)/.exec(calls[create])![1]);
  expect(maxTime).toBeGreaterThan(0);
  expect(maxTime).toBeLessThanOrEqual(100);
  expect(fleet.efs.lockIsFree()).toBe(true);
}, 30000);

test('no time left for a snapshot: it is skipped with a clear line, the stop still finishes', async () => {
  const host = await runningHost();
  const result = await host.run('stop.sh', { ...host.fakeClock(START), GM_STOP_BUDGET: '30' });
  expect(result.stderr).toContain('stop: no time left for a Qdrant snapshot; the newest earlier snapshot stays the one to restore');
  expect(host.calls().filter((c) => c.includes('/snapshots'))).toEqual([]);
  expect(host.clockNow() - START).toBeLessThanOrEqual(30);
  expect(fleet.efs.lockIsFree()).toBe(true);
});
