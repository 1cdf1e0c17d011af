/** `gm-ops logs --follow` through the CLI: tail 10, new lines, a replaced host, Ctrl-C. */
import { FakeAws } from './helpers/fake-aws';
import { Harness } from './helpers/harness';
import { StubHost, ts } from './helpers/stub-host';

const BASE = Date.parse('2025-01-15T10:00:00Z');
let aws: FakeAws;
let host: StubHost;

beforeEach(() => {
  aws = new FakeAws();
  host = new StubHost({
    containers: { n8n: 'c-n8n' },
    logs: { 'c-n8n': Array.from({ length: 30 }, (_, i) => `${ts(BASE + i * 1000)} old ${i}`) },
  });
});
afterEach(() => {
  aws.restore();
  host.cleanup();
});

describe('gm-ops logs -f', () => {
  it('shows the last 10 lines, then new lines as they come; Ctrl-C ends with exit 0', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-1' } });
    aws.hosts.set('i-1', (script) => host.run(script));
    let appended = false;
    const harness = new Harness({
      clients: aws.clients(),
      onSleep: (_ms, h) => {
        if (aws.scripts.length === 2 && !appended) {
          appended = true;
          host.state.logs!['c-n8n'].push(`${ts(BASE + 60_000)} new A`, `${ts(BASE + 60_000)} new B`);
        }
        if (aws.scripts.length >= 4) h.abort();
      },
    });
    const result = await harness.run('logs', 'my-stack', '-f', '--service', 'n8n', '--timestamps');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `n8n | ${ts(BASE + (20 + i) * 1000)} old ${20 + i}`));
    expect(lines.slice(10)).toEqual([`n8n | ${ts(BASE + 60_000)} new A`, `n8n | ${ts(BASE + 60_000)} new B`]);
    // One SSM command per poll; the later polls start at the cursor, skipping what was printed.
    expect(aws.scripts[0].script).toContain('--tail 10');
    expect(aws.scripts[2].script).toContain(`--since '${ts(BASE + 60_000)}'`);
    expect(aws.scripts[2].script).toContain('tail -n +3');
  });

  it('waits for a replaced host and goes on reading from the new one', async () => {
    const { group } = aws.addDeployment({ name: 'my-stack', host: { id: 'i-old' } });
    aws.hosts.set('i-old', (script) => host.run(script));
    aws.hosts.set('i-new', (script) => host.run(script));
    let replaced = false;
    const harness = new Harness({
      clients: aws.clients(),
      onSleep: (_ms, h) => {
        if (aws.scripts.length === 2 && !replaced) {
          // Spot interruption: the old host goes away, the group launches a new one.
          replaced = true;
          aws.agents.set('i-old', 'ConnectionLost');
          aws.instances.set('i-new', { ...aws.instances.get('i-old')!, InstanceId: 'i-new' });
          aws.groups.get(group)!.Instances = [{ ...aws.groups.get(group)!.Instances![0], InstanceId: 'i-new' }];
          aws.agents.set('i-new', 'Online');
          host.state.logs!['c-n8n'].push(`${ts(BASE + 90_000)} on the new host`);
        }
        if (aws.scripts.filter((s) => s.instanceIds[0] === 'i-new').length >= 2) h.abort();
      },
    });
    const result = await harness.run('logs', 'my-stack', '-f', '-s', 'n8n', '--tail', '1');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('n8n | old 29\nn8n | on the new host\n');
    expect(result.stderr).toContain('host i-old is not reachable through SSM: its SSM agent lost the connection (PingStatus ConnectionLost); waiting for the host or its replacement');
    expect(result.stderr).toContain('the host was replaced: now reading i-new');
  });

  it('without --follow an offline agent is an error (exit 1), not a wait', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-1', agent: 'ConnectionLost' } });
    const result = await new Harness({ clients: aws.clients() }).run('logs', 'my-stack');
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });
});
