/**
 * `gm-ops status` shows the host watchdog's last action (docker/host/watchdog.sh keeps it in
 * /run/geusemaker/watchdog/last-action as "<epoch seconds> <action> <service> <reason>"), read in the same
 * SSM command as the containers. The fake clock is 2025-01-15T12:00:00Z.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HOST_PATHS } from '../src/contract';
import { parseWatchdog, watchdogScript } from '../src/status/watchdog';
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';

const NOW_SECONDS = Date.parse('2025-01-15T12:00:00Z') / 1000;

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-0abc' } });
});
afterEach(() => aws.restore());

/** The host answers with its containers and this watchdog line (after the marker and "watchdog "). */
function hostWithWatchdog(value: string): void {
  aws.hosts.set('i-0abc', (script) => {
    const token = tokenOf(script);
    return `${containerLines(token, ALL_RUNNING)}\n@@gm-ops:${token} watchdog ${value}\n`;
  });
}

it('a restart 5 minutes ago: what, when and why under About, in the one SSM command', async () => {
  hostWithWatchdog(`${NOW_SECONDS - 300} restart qdrant 3 consecutive failed checks (exited/none)`);
  const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
  expect(code).toBe(0);
  expect(stdout).toMatch(/Watchdog\s+restarted qdrant 5m ago \(2025-01-15 11:55:00Z\): 3 consecutive failed checks \(exited\/none\)\n/);
  expect(aws.scripts).toHaveLength(1);
  expect(aws.scripts[0].script).toContain(HOST_PATHS.watchdogLastAction);
});

it('a replacement is named as such', async () => {
  hostWithWatchdog(`${NOW_SECONDS - 7200} replace-host n8n still exited/none after its restart (6 consecutive failed checks)`);
  const { stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
  expect(stdout).toMatch(/Watchdog\s+marked the host unhealthy for replacement \(n8n\) 2h ago \(2025-01-15 10:00:00Z\): still exited\/none after its restart/);
});

it('no action since boot: "no action yet"', async () => {
  hostWithWatchdog('none');
  const { stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
  expect(stdout).toMatch(/Watchdog\s+no action yet\n/);
});

it('--json: the last action as a field', async () => {
  hostWithWatchdog(`${NOW_SECONDS - 300} restart qdrant 3 consecutive failed checks (exited/none)`);
  const { stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack', '--json');
  expect(JSON.parse(stdout).watchdog).toEqual({
    lastAction: { action: 'restart', service: 'qdrant', reason: '3 consecutive failed checks (exited/none)', at: '2025-01-15T11:55:00.000Z' },
  });
});

it('--json: null when the host did not report it (an older runtime)', async () => {
  aws.hosts.set('i-0abc', (script) => containerLines(tokenOf(script), ALL_RUNNING));
  const { stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack', '--json');
  expect(JSON.parse(stdout).watchdog).toBeNull();
});

describe('the host script, run for real under sh', () => {
  let root: string;
  let file: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-watchdog-'));
    file = path.join(root, 'watchdog', 'last-action');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const run = () => execFileSync('sh', ['-c', watchdogScript('abc123def').split(HOST_PATHS.watchdogLastAction).join(file)]).toString();

  it('reads the line watchdog.sh writes', () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // As record_action writes it: printf '%s\n' "$now $action $service $reason".
    fs.writeFileSync(file, '1700000120 restart qdrant 3 consecutive failed checks (exited/none)\n');
    expect(parseWatchdog(run(), 'abc123def')).toEqual({
      lastAction: { action: 'restart', service: 'qdrant', reason: '3 consecutive failed checks (exited/none)', at: new Date(1_700_000_120_000).toISOString() },
    });
  });

  it('no file (the watchdog has not acted since boot): no action yet', () => {
    fs.rmSync(file, { force: true });
    expect(parseWatchdog(run(), 'abc123def')).toEqual({ lastAction: null });
  });
});
