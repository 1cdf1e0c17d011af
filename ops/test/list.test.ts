import { FakeAws, stackOf } from './helpers/fake-aws';
import { runWith } from './helpers/harness';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

describe('gm-ops list', () => {
  it('prints one row per deployment with tier, status, host, market, AZ and entry URL', async () => {
    aws.addDeployment({ name: 'alpha', tier: 'dev', host: { id: 'i-alpha', spot: true, az: 'eu-west-1a', publicIp: '198.51.100.4', openCidrs: ['192.0.2.0/24'] } });
    aws.addDeployment({ name: 'aleph', tier: 'dev', host: { id: 'i-aleph', spot: true, az: 'eu-west-1a', publicIp: '198.51.100.5' } });
    aws.addDeployment({
      name: 'beta',
      tier: 'automation',
      outputs: { EntryUrl: 'https://beta.example.com' },
      host: { id: 'i-beta', spot: false, az: 'eu-west-1c' },
    });
    aws.addDeployment({ name: 'gamma', tier: 'gpu', status: 'ROLLBACK_COMPLETE', host: null });
    aws.addStack(stackOf('GeuseData-delta', 'CREATE_COMPLETE'));

    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'list');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+TIER\s+STACK STATUS\s+HOST\s+MARKET\s+AZ\s+ENTRY$/);
    expect(lines.find((l) => l.startsWith('alpha'))).toMatch(/alpha\s+dev\s+CREATE_COMPLETE\s+running\s+spot\s+eu-west-1a\s+http:\/\/198\.51\.100\.4:5678/);
    expect(lines.find((l) => l.startsWith('aleph'))).toMatch(/aleph\s+dev\s+CREATE_COMPLETE\s+running\s+spot\s+eu-west-1a\s+http:\/\/localhost:5678 \(port forward\)$/);
    expect(lines.find((l) => l.startsWith('beta'))).toMatch(/beta\s+automation\s+CREATE_COMPLETE\s+running\s+on-demand\s+eu-west-1c\s+https:\/\/beta\.example\.com/);
    expect(lines.find((l) => l.startsWith('gamma'))).toMatch(/gamma\s+gpu\s+ROLLBACK_COMPLETE\s+scaled to 0/);
    expect(lines.find((l) => l.startsWith('delta'))).toMatch(/delta\s+-\s+data only: CREATE_COMPLETE\s+none/);
    expect(stdout).toContain('GeuseGpu-gamma is stuck in ROLLBACK_COMPLETE: run `gm-ops status gamma`');
  });

  it('--json prints one document, across DescribeStacks pages', async () => {
    aws.stacksPageSize = 3;
    for (let i = 0; i < 12; i += 1) aws.addDeployment({ name: `d${i}`, host: { id: `i-${i}`, spot: i % 2 === 0 } });
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'list', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.region).toBe('eu-west-1');
    expect(doc.deployments).toHaveLength(12);
    expect(doc.deployments.find((d: { name: string }) => d.name === 'd3')).toMatchObject({
      tier: 'dev',
      stack: { name: 'GeuseDev-d3', status: 'CREATE_COMPLETE' },
      dataStack: { name: 'GeuseData-d3' },
      host: { instanceId: 'i-3', market: 'on-demand', availabilityZone: 'eu-west-1a' },
      condition: 'ok',
    });
  });

  it('says so when the region has no deployment', async () => {
    aws.addStack(stackOf('CDKToolkit', 'CREATE_COMPLETE'));
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'list');
    expect(code).toBe(0);
    expect(stdout).toBe('No GeuseMaker deployments in eu-west-1 (deploy one with `npx cdk deploy GeuseDev-my-stack`).\n');
  });
});
