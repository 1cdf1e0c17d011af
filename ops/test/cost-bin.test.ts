/** `gm-ops cost <name>` through the real entry point, AWS (and the Price List) mocked in the child by a preload. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ec2Product, productDocument, regionProducts } from './helpers/fake-pricing';
import { bareEnv, gmOps, gmOpsWithFakeAws } from './helpers/spawn-bin';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-bin-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const products = [
  ec2Product('eu-west-1', 'm6i.large', '0.107'),
  ...regionProducts('eu-west-1', {
    gp3: '0.0880000000', efsStandard: '0.3300000000', efsRead: '0.0330000000', efsWrite: '0.0660000000', ipv4: '0.0050000000', alb: '0.0252000000',
    lcu: '0.0080000000', secret: '0.4000000000', secretApiPerRequest: '0.0000050000', natHour: '0.0480000000', natGb: '0.0480000000',
  }),
].map((spec) => ({ serviceCode: spec.serviceCode, family: spec.family, attributes: spec.attributes, json: productDocument(spec) }));

const fixture = {
  stacks: [
    { name: 'GeuseDev-web', status: 'CREATE_COMPLETE', outputs: { AutoScalingGroupName: 'asg-web', Tier: 'dev' }, tags: { 'geuse:deployment': 'web' } },
    {
      name: 'GeuseData-web',
      status: 'CREATE_COMPLETE',
      outputs: { FileSystemId: 'fs-0123456789abcdef0', HostSecurityGroupId: 'sg-host', SecretArns: 'postgres-password=arn:1,n8n-encryption-key=arn:2' },
      tags: { 'geuse:deployment': 'web' },
    },
  ],
  stackResources: { 'GeuseDev-web': [], 'GeuseData-web': [] },
  groups: { 'asg-web': { instances: [{ id: 'i-0abc' }] } },
  instances: { 'i-0abc': { state: 'running', spot: true, az: 'eu-west-1c', type: 'm6i.large', publicIp: '203.0.113.9' } },
  volumes: [{ id: 'vol-1', instanceId: 'i-0abc', size: 50, type: 'gp3' }],
  networkInterfaces: [{ groupId: 'sg-host', publicIp: '203.0.113.9', instanceId: 'i-0abc' }],
  fileSystems: [{ id: 'fs-0123456789abcdef0', deployment: 'web', sizeBytes: 2 * 1024 ** 3 }],
  spot: [{ type: 'm6i.large', az: 'eu-west-1c', price: '0.0412', at: '2025-01-15T08:00:00Z' }],
  products,
};

describe('gm-ops cost (real entry point)', () => {
  it('--help: usage and examples', async () => {
    const result = await gmOps(['cost', '--help'], { env: bareEnv(tmp), cwd: tmp });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('$ gm-ops cost [name]');
    expect(result.stdout).toMatch(/-t,--template <file>\s+A synthesized template/);
    expect(result.stdout).toContain('Examples');
  });

  it('cost <name> --json: live prices, the spot price in the host AZ, totals', async () => {
    const result = await gmOpsWithFakeAws(tmp, fixture, ['cost', 'web', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    // 0.0412 x 730 + 50 x 0.088 + 0.005 x 730 + 2 GB x 0.33 + 2 x 0.40
    expect(doc).toMatchObject({ deployment: 'web', region: 'eu-west-1', source: 'live', totalMonthlyCost: '39.586', monthlySavings: '48.034' });
    expect(doc.resources[0].costComponents[0]).toMatchObject({ name: 'Instance usage (Linux, spot, m6i.large)', price: '0.0412', note: 'spot price now in eu-west-1c' });
  });

  it('cost <name> again: the cache answers, and the output says so', async () => {
    const again = await gmOpsWithFakeAws(tmp, fixture, ['cost', 'web']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Cost of web in eu-west-1 \(cached prices\)/);
    expect(again.stdout).toMatch(/Prices\s+cached: \d+ of \d+ prices from the local price cache/);
  });
});
