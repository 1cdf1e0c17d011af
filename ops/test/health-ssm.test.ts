/** `gm-ops health` through SSM: one command per batch of hosts, the real probe script under sh. */
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { StubHost, type StubState, healthyHost } from './helpers/stub-host';

let aws: FakeAws;
const hosts: StubHost[] = [];
function stub(instanceId: string, state: StubState): StubHost {
  const host = new StubHost(state);
  hosts.push(host);
  aws.hosts.set(instanceId, (script) => host.run(script));
  return host;
}

beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => {
  aws.restore();
  while (hosts.length) hosts.pop()!.cleanup();
});

const row = (stdout: string, deployment: string, service: string) =>
  stdout.split('\n').find((l) => new RegExp(`^${deployment}\\s+${service}\\s`).test(l)) ?? '';

describe('gm-ops health (through SSM)', () => {
  it('probes every service of a healthy host on the host itself: exit 0', async () => {
    aws.addDeployment({ name: 'good', host: { id: 'i-good' } });
    stub('i-good', healthyHost());
    const result = await runWith({ clients: aws.clients() }, 'health', 'good');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(row(result.stdout, 'good', 'n8n')).toMatch(/http \/healthz\/readiness\s+OK\s+12 ms\s+HTTP 200 \/healthz\/readiness · docker healthy/);
    expect(row(result.stdout, 'good', 'postgres')).toMatch(/pg_isready\s+OK\s+\d+ ms\s+accepting connections · docker healthy/);
    expect(row(result.stdout, 'good', 'ollama')).toMatch(/http \/api\/version\s+OK\s+4 ms\s+HTTP 200 \/api\/version · no healthcheck configured/);
    expect(row(result.stdout, 'good', 'qdrant')).toMatch(/http \/readyz\s+OK/);
    expect(row(result.stdout, 'good', 'crawl4ai')).toMatch(/http \/health\s+OK\s+20 ms/);
    expect(aws.scripts).toHaveLength(1);
  });

  it('one SendCommand for all hosts; failures, slowness, offline agents and stopped hosts each reported', async () => {
    aws.addDeployment({ name: 'good', host: { id: 'i-good' } });
    aws.addDeployment({ name: 'bad', host: { id: 'i-bad' } });
    aws.addDeployment({ name: 'slow', host: { id: 'i-slow' } });
    aws.addDeployment({ name: 'lost', host: { id: 'i-lost', agent: 'ConnectionLost' } });
    aws.addDeployment({ name: 'off', host: { id: 'i-off', state: 'stopped' } });
    stub('i-good', healthyHost());
    const bad = healthyHost();
    bad.inspect!['c-qdrant'].status = 'exited';
    bad.inspect!['c-crawl4ai'].health = 'unhealthy';
    bad.curl!['http://127.0.0.1:5678/healthz/readiness'] = { code: 0, time: 8.0, exit: 28, error: 'curl: (28) Operation timed out after 8001 milliseconds' };
    bad.pg = { exit: 1 };
    stub('i-bad', bad);
    const slow = healthyHost();
    slow.curl!['http://127.0.0.1:5678/healthz/readiness'] = { code: 200, time: 2.5 };
    slow.curl!['http://127.0.0.1:11434/api/version'] = { code: 200, time: 6.1 };
    stub('i-slow', slow);

    const result = await runWith({ clients: aws.clients() }, 'health');
    expect(result.code).toBe(1);
    const sends = aws.ssm.commandCalls(SendCommandCommand);
    expect(sends).toHaveLength(1);
    expect(sends[0].args[0].input.InstanceIds).toEqual(['i-bad', 'i-good', 'i-slow']);
    const out = result.stdout;
    expect(row(out, 'good', 'n8n')).toMatch(/OK/);
    expect(row(out, 'bad', 'n8n')).toMatch(/FAIL\s+8\.00 s\s+no response within the probe timeout/);
    expect(row(out, 'bad', 'postgres')).toMatch(/FAIL\s+\d+ ms\s+server is rejecting connections/);
    expect(row(out, 'bad', 'qdrant')).toMatch(/FAIL\s+.*container exited/);
    expect(row(out, 'bad', 'crawl4ai')).toMatch(/WARN\s+20 ms\s+HTTP 200 \/health · docker unhealthy \(Docker reports the container unhealthy\)/);
    expect(row(out, 'slow', 'n8n')).toMatch(/WARN\s+2\.50 s/);
    expect(row(out, 'slow', 'ollama')).toMatch(/CRITICAL\s+6\.10 s/);
    // No evidence either way about its services: unknown, still not healthy.
    expect(row(out, 'lost', 'host')).toMatch(/ssm\s+UNKNOWN\s+-\s+host i-lost is not reachable through SSM: its SSM agent lost the connection/);
    expect(row(out, 'off', 'host')).toMatch(/ec2\s+FAIL\s+-\s+i-off is stopped/);
  });

  it('a deployment whose compute stack is gone has no host: FAIL, exit 1 (issue 13 defect 2)', async () => {
    aws.addStack(require('./helpers/fake-aws').stackOf('GeuseData-parked', 'CREATE_COMPLETE'));
    const result = await runWith({ clients: aws.clients() }, 'health', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).services).toEqual([
      expect.objectContaining({
        deployment: 'parked',
        service: 'deployment',
        state: 'FAIL',
        detail: 'no compute stack: the deployment has no host (data stack only; `gm-ops restore parked` redeploys it)',
      }),
    ]);
  });

  it('no deployments at all: says so, exit 0', async () => {
    const result = await runWith({ clients: aws.clients() }, 'health');
    expect(result).toMatchObject({ code: 0, stdout: 'no deployments\n' });
  });
});
