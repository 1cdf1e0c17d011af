/**
 * docker/host/watchdog.sh run for real under bash on a fake host (stub docker and aws, an injected clock
 * through GM_NOW_CMD, the boot time through GM_UPTIME_FILE): restart after three consecutive failures,
 * replacement only when the restart did not help, never in the boot grace, at most once an hour.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, psTable } from './helpers/fake-host';

const fleet = new FakeFleet();
const START = 1_700_000_000;
const GRACE = 1800;

interface Watched {
  readonly host: FakeHost;
  /** One watchdog run, `minutes` after the previous one (the timer runs it once a minute). */
  check(minutes?: number): Promise<{ code: number | null; stderr: string }>;
  setUptime(seconds: number): void;
  restarts(): string[];
  replacements(): string[];
  lastAction(): string;
}

function watched(): Watched {
  const host = fleet.host('a', { GM_REGION: 'eu-west-1' });
  const clock = host.fakeClock(START);
  const uptimeFile = path.join(host.root, 'uptime');
  fs.writeFileSync(uptimeFile, `${GRACE + 600}.12 4000.00\n`);
  let first = true;
  return {
    host,
    async check(minutes = 1) {
      if (!first) {
        fs.writeFileSync(clock.STUB_CLOCK_FILE, `${host.clockNow() + minutes * 60}\n`);
        const uptime = Number(fs.readFileSync(uptimeFile, 'utf8').split(' ')[0]);
        fs.writeFileSync(uptimeFile, `${uptime + minutes * 60} 4000.00\n`);
      }
      first = false;
      return host.run('watchdog.sh', { ...clock, GM_UPTIME_FILE: uptimeFile, GM_WATCHDOG_GRACE_SECONDS: String(GRACE) });
    },
    setUptime(seconds) {
      fs.writeFileSync(uptimeFile, `${seconds}.50 100.00\n`);
    },
    restarts: () => host.dockerCalls().filter((c) => / restart /.test(c)),
    replacements: () => host.calls().filter((c) => c.startsWith('aws autoscaling set-instance-health')),
    lastAction: () => fs.readFileSync(path.join(host.runDir, 'watchdog', 'last-action'), 'utf8').trim(),
  };
}

async function checks(w: Watched, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) expect((await w.check()).code).toBe(0);
}

describe('watchdog.sh', () => {
  it('a healthy host: checks, never acts', async () => {
    const w = watched();
    await checks(w, 4);
    expect(w.restarts()).toEqual([]);
    expect(w.replacements()).toEqual([]);
  });

  it('restarts a service after its third consecutive failure, once, and says why', async () => {
    const w = watched();
    w.host.answer('ps', psTable({ qdrant: 'exited' }));
    await checks(w, 2);
    expect(w.restarts()).toEqual([]);
    const third = await w.check();
    expect(third.code).toBe(0);
    expect(w.restarts()).toHaveLength(1);
    expect(w.restarts()[0]).toMatch(/^docker compose .* restart qdrant$/);
    expect(third.stderr).toContain('watchdog: restart qdrant: 3 consecutive failed checks (exited/none)');
    expect(w.lastAction()).toBe(`${START + 120} restart qdrant 3 consecutive failed checks (exited/none)`);
    await checks(w, 1);
    expect(w.restarts()).toHaveLength(1);
  });

  it('failures that are not consecutive do not add up', async () => {
    const w = watched();
    w.host.answer('ps', psTable({ n8n: 'running unhealthy' }), 1);
    w.host.answer('ps', psTable({ n8n: 'running unhealthy' }), 2);
    w.host.answer('ps', psTable(), 3);
    w.host.answer('ps', psTable({ n8n: 'running unhealthy' }), 4);
    w.host.answer('ps', psTable({ n8n: 'running unhealthy' }), 5);
    await checks(w, 5);
    expect(w.restarts()).toEqual([]);
  });

  it('a restart that helped: no replacement', async () => {
    const w = watched();
    for (const n of [1, 2, 3]) w.host.answer('ps', psTable({ qdrant: 'exited' }), n);
    await checks(w, 8);
    expect(w.restarts()).toHaveLength(1);
    expect(w.replacements()).toEqual([]);
  });

  it('still failing three checks after its restart: the host is marked unhealthy, with the reason', async () => {
    const w = watched();
    w.host.answer('ps', psTable({ postgres: 'restarting' }));
    await checks(w, 5);
    expect(w.replacements()).toEqual([]);
    const sixth = await w.check();
    expect(sixth.code).toBe(0);
    expect(w.replacements()).toEqual(['aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0a --health-status Unhealthy --no-should-respect-grace-period']);
    expect(sixth.stderr).toContain('watchdog: replace-host postgres: still restarting/none after its restart (6 consecutive failed checks)');
    expect(w.lastAction()).toMatch(/^\d+ replace-host postgres still restarting\/none after its restart/);
  });

  it('never during the boot grace, whatever fails', async () => {
    const w = watched();
    w.setUptime(120);
    w.host.answer('ps', '', undefined);
    w.host.exitCode('ps', 1);
    for (let i = 0; i < 8; i += 1) {
      const result = await w.check();
      expect(result.code).toBe(0);
      if (i === 0) expect(result.stderr).toContain('watchdog: within the boot grace (120s of 1800s since boot): no action');
    }
    expect(w.restarts()).toEqual([]);
    expect(w.replacements()).toEqual([]);
  });

  it('marks the host unhealthy at most once an hour', async () => {
    const w = watched();
    w.host.answer('ps', psTable({ crawl4ai: 'exited' }));
    await checks(w, 6);
    expect(w.replacements()).toHaveLength(1);
    const again = await w.check(30);
    expect(again.stderr).toMatch(/watchdog: crawl4ai is still exited\/none after its restart \(7 consecutive failed checks\), but the host was marked unhealthy 1800s ago: not again within the hour/);
    expect(w.replacements()).toHaveLength(1);
    await w.check(31);
    expect(w.replacements()).toHaveLength(2);
  });

  it('docker compose not answering counts as a failure of every service', async () => {
    const w = watched();
    w.host.exitCode('ps', 1);
    await checks(w, 3);
    expect(w.restarts().map((c) => c.split(' ').at(-1))).toEqual(['postgres', 'ollama', 'qdrant', 'n8n', 'crawl4ai']);
  });
});
