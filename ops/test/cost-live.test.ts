/**
 * `gm-ops cost <name>` on a running deployment (AWS mocked): the host at the spot price now in its AZ,
 * its volume, the public IPv4 addresses of the host and the load balancer, the EFS metered size, a NAT
 * gateway, the secrets; totals, savings against on-demand, the host's cost since launch from the spot
 * history; live, cached and offline sources each labelled.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeAws, awsError } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf } from './helpers/fake-aws-data';
import { EU_WEST_1_PRICES, FakePricing, ec2Product, regionProducts } from './helpers/fake-pricing';
import { runWith } from './helpers/harness';

const EU = EU_WEST_1_PRICES;

let aws: FakeAws;
let data: FakeAwsData;
let pricing: FakePricing;
let cacheDir: string;

function setOutputs(stackName: string, outputs: Record<string, string>): void {
  const stack = aws.stacks.find((s) => s.StackName === stackName)!;
  stack.Outputs = [...(stack.Outputs ?? []), ...Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }))];
}

function deployment(spot = true): void {
  aws.addDeployment({ name: 'web', tier: 'automation', host: { id: 'i-0abc', spot, az: 'eu-west-1b', type: 'm6i.large', publicIp: '203.0.113.9' } });
  setOutputs('GeuseData-web', {
    HostSecurityGroupId: 'sg-host',
    VpcId: 'vpc-web',
    SecretArns: ['postgres-password', 'n8n-encryption-key', 'n8n-jwt-secret', 'qdrant-api-key', 'crawl4ai-api-token', 'n8n-owner-password']
      .map((p) => `${p}=arn:aws:secretsmanager:eu-west-1:123456789012:secret:geusemaker/web/${p}-AbCdEf`)
      .join(','),
  });
  data.stackResources.set('GeuseAutomation-web', [
    { LogicalResourceId: 'EntrySecurityGroupACDCC4C2', PhysicalResourceId: 'sg-alb', ResourceType: 'AWS::EC2::SecurityGroup', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
    {
      LogicalResourceId: 'EntryB9FBB0A8',
      PhysicalResourceId: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/GeuseA-Entry-abc/50dc6c495c0c9188',
      ResourceType: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      ResourceStatus: 'CREATE_COMPLETE',
      LastUpdatedTimestamp: new Date(),
    },
  ]);
  data.stackResources.set('GeuseData-web', [
    { LogicalResourceId: 'FileSystem8A8E25C0', PhysicalResourceId: 'fs-web', ResourceType: 'AWS::EFS::FileSystem', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
  ]);
  data.fileSystems.push(fileSystemOf('fs-web', { deployment: 'web', sizeBytes: 3 * 1024 ** 3 }));
  data.volumes.push({
    VolumeId: 'vol-0root',
    Size: 50,
    VolumeType: 'gp3',
    Iops: 3000,
    Throughput: 125,
    Attachments: [{ InstanceId: 'i-0abc', Device: '/dev/xvda', State: 'attached' }],
  });
  data.networkInterfaces.push(
    { NetworkInterfaceId: 'eni-host', Groups: [{ GroupId: 'sg-host' }], Attachment: { InstanceId: 'i-0abc' }, Association: { PublicIp: '203.0.113.9' }, PrivateIpAddresses: [{ Association: { PublicIp: '203.0.113.9' } }] },
    { NetworkInterfaceId: 'eni-alb-a', Groups: [{ GroupId: 'sg-alb' }], Description: 'ELB app/GeuseA-Entry-abc/50dc6c495c0c9188', Association: { PublicIp: '198.51.100.1' } },
    { NetworkInterfaceId: 'eni-alb-b', Groups: [{ GroupId: 'sg-alb' }], Description: 'ELB app/GeuseA-Entry-abc/50dc6c495c0c9188', Association: { PublicIp: '198.51.100.2' } },
  );
  data.natGateways.push({ NatGatewayId: 'nat-0123', VpcId: 'vpc-web', State: 'available', NatGatewayAddresses: [{ PublicIp: '198.51.100.9' }] });
  pricing.add(ec2Product('eu-west-1', 'm6i.large', '0.107'), ...regionProducts('eu-west-1', EU));
  pricing.spot.push(
    { type: 'm6i.large', az: 'eu-west-1b', price: '0.0400', at: '2025-01-15T08:30:00Z' },
    { type: 'm6i.large', az: 'eu-west-1b', price: '0.0500', at: '2025-01-15T10:30:00Z' },
    { type: 'm6i.large', az: 'eu-west-1a', price: '0.0300', at: '2025-01-15T10:00:00Z' },
  );
}

beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  pricing = new FakePricing(aws.ec2);
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-cache-'));
});
afterEach(() => {
  pricing.restore();
  data.restore();
  aws.restore();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

const run = (...args: string[]) => runWith({ clients: aws.clients(), env: { GM_OPS_CACHE_DIR: cacheDir } }, 'cost', ...args);
const row = (stdout: string, name: string) => stdout.split('\n').find((l) => l.includes(name)) ?? '';

describe('gm-ops cost <name>', () => {
  it('prices every resource of a running spot deployment, with totals, savings and the cost since launch', async () => {
    deployment();
    const { code, stdout, stderr } = await run('web');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Cost of web in eu-west-1 \(live prices\)/);
    expect(stdout).toMatch(/Name\s+Monthly Qty\s+Unit\s+Monthly Cost/);
    expect(row(stdout, 'Instance usage')).toMatch(/├─ Instance usage \(Linux, spot, m6i\.large\)\s+730\s+hours\s+\$36\.50$/);
    expect(stdout).toContain('spot price now in eu-west-1b');
    expect(row(stdout, 'Storage (gp3')).toMatch(/Storage \(gp3, \/dev\/xvda, 50 GB, vol-0root\)\s+50\s+GB-months\s+\$4\.40$/);
    expect(row(stdout, 'Public IPv4 address ')).toMatch(/└─ Public IPv4 address\s+730\s+hours\s+\$3\.65$/);
    expect(row(stdout, 'Application load balancer')).toMatch(/730\s+hours\s+\$18\.40$/);
    expect(row(stdout, 'capacity units')).toMatch(/LCU-hours\s+depends on usage: \$0\.008 per LCU-hour$/);
    expect(row(stdout, 'one per AZ')).toMatch(/Public IPv4 addresses \(one per AZ, 2\)\s+1,460\s+hours\s+\$7\.30$/);
    expect(row(stdout, 'Storage (Standard')).toMatch(/Storage \(Standard, metered 3 GB as of 2025-01-15T11:00:00Z\)\s+3\s+GB-months\s+\$0\.99$/);
    expect(row(stdout, 'Elastic throughput reads')).toMatch(/depends on usage: \$0\.033 per GB$/);
    expect(row(stdout, '├─ NAT gateway')).toMatch(/730\s+hours\s+\$35\.04$/);
    expect(row(stdout, '├─ Secrets')).toMatch(/6\s+secret-months\s+\$2\.40$/);
    expect(stdout).toMatch(/Hourly total\s+\$0\.1539/);
    expect(stdout).toMatch(/Monthly total \(730 h\)\s+\$112\.33/);
    expect(stdout).toMatch(/On-demand equivalent\s+\$153\.94\/month: spot saves \$41\.61\/month \(27%\)/);
    // 1.5 h at 0.04 + 1.5 h at 0.05 (spot history) + (4.40 + 3.65) x 3 h / 730 h.
    expect(stdout).toMatch(/Host since launch\s+\$0\.17 over 3\.0 h \(i-0abc launched 2025-01-15 09:00:00Z; instance at the spot prices in effect; root volume and public IPv4 pro rata\)/);
    expect(stdout).toMatch(/Prices\s+live: AWS Price List API \(us-east-1\) for eu-west-1/);
  });

  it('--json: totals, per-component price, quantities, costs, priceNotFound and the source', async () => {
    deployment();
    const { code, stdout } = await run('web', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({
      kind: 'deployment',
      deployment: 'web',
      region: 'eu-west-1',
      currency: 'USD',
      hoursPerMonth: 730,
      source: 'live',
      totalMonthlyCost: '112.326',
      totalHourlyCost: '0.153871232877',
      onDemandMonthlyCost: '153.936',
      monthlySavings: '41.61',
      costSinceLaunch: { instanceId: 'i-0abc', launchedAt: '2025-01-15T09:00:00.000Z', hours: '3.000', cost: '0.168082191781' },
    });
    const host = doc.resources.find((r: { name: string }) => r.name === 'Host i-0abc');
    expect(host.costComponents[0]).toMatchObject({
      name: 'Instance usage (Linux, spot, m6i.large)',
      unit: 'hours',
      price: '0.05',
      hourlyQuantity: '1',
      monthlyQuantity: '730',
      monthlyCost: '36.5',
      priceNotFound: false,
      usageBased: false,
      source: 'live',
      market: 'spot',
      onDemandPrice: '0.107',
    });
    const efs = doc.resources.find((r: { resourceType: string }) => r.resourceType === 'AWS::EFS::FileSystem');
    expect(efs.costComponents.map((c: { name: string; monthlyCost: string | null; usageBased: boolean }) => [c.name.split(' (')[0], c.monthlyCost, c.usageBased])).toEqual([
      ['Storage', '0.99', false],
      ['Elastic throughput reads', null, true],
      ['Elastic throughput writes', null, true],
    ]);
    // The spot price came from the host's AZ, not the cheaper one next door.
    expect(pricing.ec2.commandCalls(require('@aws-sdk/client-ec2').DescribeSpotPriceHistoryCommand)[0].args[0].input).toMatchObject({ AvailabilityZone: 'eu-west-1b', InstanceTypes: ['m6i.large'], ProductDescriptions: ['Linux/UNIX'] });
  });

  it('an on-demand host: its on-demand price, no spot savings line', async () => {
    deployment(false);
    const { code, stdout } = await run('web');
    expect(code).toBe(0);
    expect(row(stdout, 'Instance usage')).toMatch(/Instance usage \(Linux, on-demand, m6i\.large\)\s+730\s+hours\s+\$78\.11$/);
    expect(stdout).not.toContain('spot saves');
    expect(stdout).toMatch(/Host since launch\s+\$0\.35 over 3\.0 h/);
  });

  it('a second run within 24 h uses the cache and says so; --no-cache asks again', async () => {
    deployment();
    await run('web');
    const calls = pricing.getProductsCalls().length;
    const second = await run('web', '--json');
    expect(JSON.parse(second.stdout)).toMatchObject({ source: 'cached', totalMonthlyCost: '112.326' });
    expect(JSON.parse(second.stdout).sourceDetail).toMatch(/^cached: \d+ of \d+ prices from the local price cache, oldest fetched 0 min ago/);
    expect(pricing.getProductsCalls()).toHaveLength(calls);
    const third = await run('web', '--json', '--no-cache');
    expect(JSON.parse(third.stdout).source).toBe('live');
    expect(pricing.getProductsCalls().length).toBeGreaterThan(calls);
  });

  it('Price List access denied: the offline table, labelled OFFLINE in the footer and in the JSON source', async () => {
    deployment();
    pricing.pricingError = awsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: pricing:GetProducts');
    const { code, stdout } = await run('web');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Cost of web in eu-west-1 \(OFFLINE ESTIMATE\)/);
    expect(stdout).toMatch(/Prices\s+OFFLINE ESTIMATE from the shipped price table \(as of \d{4}-\d{2}-\d{2}\), not live prices: access denied to pricing:GetProducts/);
    // The spot price is still live (EC2 answered); the list prices are the table's.
    expect(row(stdout, 'Instance usage')).toMatch(/\$36\.50$/);
    const json = await run('web', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'offline', offlineReason: 'access denied to pricing:GetProducts' });
    expect(json.stderr).toMatch(/^gm-ops: offline estimate: access denied to pricing:GetProducts \(price table as of/);
  });

  it('the Price List answers without a single price (an emulator, an empty catalogue): not "live", the labelled table', async () => {
    deployment();
    pricing.products.length = 0;
    const { code, stdout } = await run('web', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.source).toBe('offline');
    expect(doc.offlineReason).toBe('AWS answered without a single price for eu-west-1');
    const host = doc.resources.find((r: { name: string }) => r.name === 'Host i-0abc');
    // The list prices come from the table; the spot price is still EC2's.
    expect(host.costComponents[1]).toMatchObject({ name: 'Storage (gp3, /dev/xvda, 50 GB, vol-0root)', priceNotFound: false, source: 'offline' });
    expect(host.costComponents[0]).toMatchObject({ priceNotFound: false, price: '0.05' });
    const text = await run('web');
    expect(text.stdout).toMatch(/^Cost of web in eu-west-1 \(OFFLINE ESTIMATE\)/);
    expect(text.stdout).not.toContain('(live prices)');
  });

  it('secrets: every secret of the deployment, each once (the SecretArns output and the secrets its stacks created)', async () => {
    aws.addDeployment({ name: 'llm', tier: 'gpu', host: { id: 'i-0gpu', spot: true, az: 'eu-west-1b', type: 'g5.xlarge' } });
    const arn = (p: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:geusemaker/llm/${p}-AbCdEf`;
    const purposes = ['postgres-password', 'n8n-encryption-key', 'n8n-jwt-secret', 'qdrant-api-key', 'crawl4ai-api-token', 'n8n-owner-password'];
    setOutputs('GeuseData-llm', { SecretArns: purposes.map((p) => `${p}=${arn(p)}`).join(',') });
    const secret = (logicalId: string, purpose: string) => ({
      LogicalResourceId: logicalId,
      PhysicalResourceId: arn(purpose),
      ResourceType: 'AWS::SecretsManager::Secret',
      ResourceStatus: 'CREATE_COMPLETE' as const,
      LastUpdatedTimestamp: new Date(),
    });
    // The data stack created the six of the output and a seventh the output does not list.
    data.stackResources.set('GeuseData-llm', [...purposes.map((p, i) => secret(`Secret${i}`, p)), secret('SecretExtra', 'gpu-model-token')]);
    data.stackResources.set('GeuseGpu-llm', []);
    pricing.add(ec2Product('eu-west-1', 'g5.xlarge', '1.123'), ...regionProducts('eu-west-1', EU));
    const { code, stdout } = await run('llm');
    expect(code).toBe(0);
    expect(row(stdout, '├─ Secrets')).toMatch(/7\s+secret-months\s+\$2\.80$/);
  });

  it('a deployment without a host: nothing charged for compute, said so', async () => {
    aws.addDeployment({ name: 'idle', host: null });
    data.stackResources.set('GeuseDev-idle', []);
    data.stackResources.set('GeuseData-idle', []);
    pricing.add(...regionProducts('eu-west-1', EU));
    const { code, stdout } = await run('idle');
    expect(code).toBe(0);
    expect(stdout).toContain('no running host in GeuseDev-idle-Host-ASG: nothing is charged for compute right now');
    expect(stdout).toMatch(/Monthly total \(730 h\)\s+\$0\.00/);
  });

  it('usage errors: a name and --template together, or neither; a missing deployment', async () => {
    expect(await run('web', '--template', 'x.json')).toMatchObject({ code: 2, stderr: 'gm-ops: give a deployment name or --template, not both — see `gm-ops cost --help`\n' });
    expect(await run()).toMatchObject({ code: 2, stderr: 'gm-ops: missing the deployment name (e.g. my-stack) or --template <file> — see `gm-ops cost --help`\n' });
    const missing = await run('ghost');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^gm-ops: deployment "ghost" not found in eu-west-1/);
  });
});
