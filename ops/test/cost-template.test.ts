/**
 * `gm-ops cost --template` on the templates the root CDK app synthesizes (in beforeAll: the default dev
 * deployment, and the same with a 12 h weekday schedule), with no AWS credentials at all: the offline
 * table, labelled, and the total, the typical-spot, the scheduled and the stopped figures each checked
 * against a hand computation from the same table. Then live prices on the same template (mocked), and a
 * hand-written template for what the dev tier lacks (load balancer, CloudFront, NAT, mixed spot/on-demand
 * distribution).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Decimal } from '../src/cost/decimal';
import { FakeAws } from './helpers/fake-aws';
import { FakePricing, ec2Product, regionProducts } from './helpers/fake-pricing';
import { runWith } from './helpers/harness';
import { bareEnv as bareEnvIn, gmOps as spawnGmOps, type Spawned } from './helpers/spawn-bin';
import { SCHEDULE, synthesizedSets } from './helpers/synth-sets';

const OPS = path.join(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-template-'));
const out = path.join(tmp, 'cdk.out');
const bareEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => bareEnvIn(tmp, extra);
const gmOps = (args: string[], env: NodeJS.ProcessEnv = bareEnv()): Promise<Spawned> => spawnGmOps(args, { env, cwd: tmp });
const DEV = path.join(out, 'GeuseDev-my-stack.template.json');
const DATA = path.join(out, 'GeuseData-my-stack.template.json');
/** The default dev deployment with a working-hours schedule: 08:00-20:00 on weekdays, 12 h a day. */
const scheduledOut = path.join(tmp, 'cdk.out.scheduled');
const SCHEDULED_DEV = path.join(scheduledOut, 'GeuseDev-my-stack.template.json');
const SCHEDULED_DATA = path.join(scheduledOut, 'GeuseData-my-stack.template.json');

let cleanups: (() => void)[] = [];
beforeAll(async () => {
  // The root CDK app's own templates (test/helpers/synth-sets.js): the estimate cannot drift from what would be deployed.
  const { dirs, cleanup } = await synthesizedSets(['dev', 'dev-scheduled']);
  cleanups = [cleanup];
  fs.mkdirSync(out, { recursive: true });
  fs.mkdirSync(scheduledOut, { recursive: true });
  for (const [from, to] of [[dirs.dev, out], [dirs['dev-scheduled'], scheduledOut]]) {
    for (const file of fs.readdirSync(from)) fs.copyFileSync(path.join(from, file), path.join(to, file));
  }
}, 120_000);
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface PriceTable {
  regions: Record<string, Record<string, string>>;
  asOf: string;
  typicalSpot: { regions: Record<string, Record<string, { price: string; source: string }>> };
}
const table: PriceTable = JSON.parse(fs.readFileSync(path.join(OPS, 'data', 'price-table.json'), 'utf8'));

/** Dollars as integer micro-dollars (the table's prices have at most 6 decimals). */
function micro(dollars: string): bigint {
  const [whole, fraction = ''] = dollars.split('.');
  if (fraction.length > 6) throw new Error(`more than 6 decimals: ${dollars}`);
  return BigInt(whole + fraction.padEnd(6, '0'));
}
function dollars(microDollars: bigint): string {
  const text = microDollars.toString().padStart(7, '0');
  return `${text.slice(0, -6)}.${text.slice(-6)}`.replace(/0+$/, '').replace(/\.$/, '');
}

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
}
const read = (file: string): Template => JSON.parse(fs.readFileSync(file, 'utf8'));

/** The facts of the synthesized dev + data templates that cost money. */
function devFacts(dev = DEV, data = DATA) {
  const resources = Object.values(read(dev).Resources);
  const asg = resources.find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
  const lt = resources.find((r) => r.Type === 'AWS::EC2::LaunchTemplate')!.Properties.LaunchTemplateData;
  expect(lt.BlockDeviceMappings[0].Ebs.VolumeType).toBe('gp3');
  expect(lt.BlockDeviceMappings[0].Ebs.DeleteOnTermination).toBe(true);
  expect(lt.NetworkInterfaces[0].AssociatePublicIpAddress).toBe(true);
  expect(asg.Properties.MixedInstancesPolicy.InstancesDistribution).toMatchObject({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0 });
  return {
    instances: BigInt(asg.Properties.DesiredCapacity ?? asg.Properties.MinSize),
    instanceTypes: asg.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType) as string[],
    rootGb: BigInt(lt.BlockDeviceMappings[0].Ebs.VolumeSize),
    secrets: BigInt(Object.values(read(data).Resources).filter((r) => r.Type === 'AWS::SecretsManager::Secret').length),
  };
}

/** What the dev tier + its data stack cost a month, by hand: the template's own facts times the table's prices. */
function handComputedMonthly(region: string): { total: bigint; instanceType: string } {
  const prices = table.regions[region];
  const { instances, instanceTypes, rootGb, secrets } = devFacts();
  // Offline, spot is priced at on-demand: the dearest type offered, the most a spot host can cost.
  const instanceType = [...instanceTypes].sort((a, b) => Number(micro(prices[`ec2:${b}`]) - micro(prices[`ec2:${a}`])))[0];
  const total =
    micro(prices[`ec2:${instanceType}`]) * 730n * instances +
    micro(prices['ebs:gp3:storage']) * rootGb * instances +
    micro(prices['vpc:public-ipv4']) * 730n * instances +
    micro(prices['secrets:secret']) * secrets; // the file system: 0 GB until used
  return { total, instanceType };
}



describe('gm-ops cost --template on the synthesized dev tier, without AWS credentials', () => {
  it('--json: a monthly total equal to the hand computation from the offline table, labelled offline, us-east-1', async () => {
    const { total, instanceType } = handComputedMonthly('us-east-1');
    const result = await gmOps(['cost', '--template', DEV, '--template', DATA, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`gm-ops: offline estimate: no AWS credentials found (price table as of ${table.asOf})\n`);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      kind: 'template',
      templates: ['GeuseDev-my-stack', 'GeuseData-my-stack'],
      region: 'us-east-1',
      source: 'offline',
      offlineReason: 'no AWS credentials found',
      spotUnavailable: 'no AWS credentials found',
      priceTable: { asOf: table.asOf },
      totalMonthlyCost: dollars(total),
    });
    const host = doc.resources.find((r: { resourceType: string }) => r.resourceType === 'AWS::AutoScaling::AutoScalingGroup');
    expect(host.costComponents[0]).toMatchObject({ name: `Instance usage (Linux, spot, ${instanceType})`, source: 'offline', price: table.regions['us-east-1'][`ec2:${instanceType}`] });
    const efs = doc.resources.find((r: { resourceType: string }) => r.resourceType === 'AWS::EFS::FileSystem');
    expect(efs.costComponents.every((c: { usageBased: boolean; monthlyCost: null }) => c.usageBased && c.monthlyCost === null)).toBe(true);
    expect(efs.costComponents[0].note).toBe('0 GB until used: a new file system is billed for what it holds');
    for (const component of doc.resources.flatMap((r: { costComponents: { source: string }[] }) => r.costComponents)) expect(component.source).toBe('offline');
  });

  it("gm-ops init's dev figure is what cost --template gives offline for the synthesized dev and data stacks", async () => {
    const result = await gmOps(['cost', '--template', DEV, '--template', DATA, '--offline', '--region', 'us-east-1', '--json']);
    expect(result.code).toBe(0);
    const { tierMonthlyCosts } = await import('../src/init/tier-cost');
    expect((await tierMonthlyCosts('us-east-1')).monthly.dev?.toString()).toBe(JSON.parse(result.stdout).totalMonthlyCost);
  });

  it('the table says OFFLINE ESTIMATE in its title and footer, with the total', async () => {
    const { total } = handComputedMonthly('us-east-1');
    const result = await gmOps(['cost', '-t', DEV, '-t', DATA]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Estimate of GeuseDev-my-stack, GeuseData-my-stack in us-east-1 \(OFFLINE ESTIMATE\)/);
    expect(result.stdout).toContain(`Monthly total (730 h)  $${(Number(total) / 1e6).toFixed(2)}`);
    expect(result.stdout).toMatch(/Prices\s+OFFLINE ESTIMATE from the shipped price table \(as of \d{4}-\d{2}-\d{2}\), not live prices: no AWS credentials found/);
    expect(result.stdout).toMatch(/Spot savings\s+unknown: no AWS credentials found; spot instances are priced at on-demand/);
    expect(result.stdout).toContain('0 GB until used');
    expect(result.stdout).toMatch(/Not priced\s+.*AWS::EC2::FlowLog, AWS::Lambda::Function, AWS::Logs::LogGroup/);
  });

  it('the region: AWS_REGION, overridden by --region; the table of that region, where a missing price is said, never guessed', async () => {
    // The table has no dated source for the arm64 on-demand prices outside us-east-1: the host is "price not found" there.
    const prices = table.regions['eu-west-1'];
    const { instances, instanceTypes, rootGb, secrets } = devFacts();
    expect(prices[`ec2:${instanceTypes[0]}`]).toBeUndefined();
    const withoutHost = micro(prices['ebs:gp3:storage']) * rootGb * instances + micro(prices['vpc:public-ipv4']) * 730n * instances + micro(prices['secrets:secret']) * secrets;
    const env = { GM_OPS_CACHE_DIR: path.join(tmp, 'cache'), AWS_REGION: 'eu-west-1' };
    const fromEnv = await runWith({ env }, 'cost', '--template', DEV, '--template', DATA, '--json', '--offline');
    const doc = JSON.parse(fromEnv.stdout);
    expect(doc).toMatchObject({ region: 'eu-west-1', source: 'offline', offlineReason: '--offline: AWS was not asked for prices', totalMonthlyCost: dollars(withoutHost) });
    expect(doc.resources[0].costComponents[0]).toMatchObject({ priceNotFound: true, monthlyCost: null, note: `not in the offline price table (as of ${table.asOf})` });
    const flag = await runWith({ env }, 'cost', '--template', DEV, '--json', '--offline', '--region', 'us-east-1');
    expect(JSON.parse(flag.stdout).region).toBe('us-east-1');
  });

  it('with credentials: live list prices and the lowest spot price now among the ASG types', async () => {
    const aws = new FakeAws();
    const pricing = new FakePricing(aws.ec2);
    try {
      const asg = Object.values(read(DEV).Resources).find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
      const types: string[] = asg.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType);
      for (const [i, type] of types.entries()) pricing.add(ec2Product('us-east-1', type, (0.09 + i / 1000).toFixed(4)));
      pricing.add(
        ...regionProducts('us-east-1', {
          gp3: '0.0800000000', efsStandard: '0.3000000000', efsRead: '0.0300000000', efsWrite: '0.0600000000', ipv4: '0.0050000000', alb: '0.0225000000',
          lcu: '0.0080000000', secret: '0.4000000000', secretApiPerRequest: '0.0000050000', natHour: '0.0450000000', natGb: '0.0450000000',
        }).map((p) => ({ ...p, attributes: { ...p.attributes, usagetype: p.attributes.usagetype.replace(/^USE1-(LoadBalancer|LCU)/, '$1') } })),
      );
      pricing.spot.push(
        { type: types[0], az: 'us-east-1a', price: '0.0412', at: '2025-01-15T11:00:00Z' },
        { type: types[1], az: 'us-east-1c', price: '0.0365', at: '2025-01-15T11:30:00Z' },
        { type: types[1], az: 'us-east-1d', price: '0.0371', at: '2025-01-15T11:40:00Z' },
      );
      const result = await runWith({ clients: aws.clients('us-east-1'), env: { GM_OPS_CACHE_DIR: path.join(tmp, 'live-cache') } }, 'cost', '--template', DEV, '--template', DATA, '--json');
      expect(result.stderr).toBe('');
      const doc = JSON.parse(result.stdout);
      expect(doc.source).toBe('live');
      const instance = doc.resources[0].costComponents[0];
      expect(instance).toMatchObject({ name: `Instance usage (Linux, spot, ${types[1]})`, price: '0.0365', onDemandPrice: '0.091', monthlyCost: '26.645', source: 'live' });
      expect(instance.note).toBe(`lowest spot price now of ${types.length} types in us-east-1 (${types[1]} in us-east-1c); price-capacity-optimized may pick another`);
      const { rootGb, secrets } = devFacts();
      // 0.0365 x 730 = 26.645, + root GB x 0.08 + 730 x 0.005 + secrets x 0.40
      expect(doc.totalMonthlyCost).toBe(dollars(26_645_000n + 80_000n * rootGb + 3_650_000n + 400_000n * secrets));
      // (0.091 - 0.0365) x 730
      expect(doc.monthlySavings).toBe('39.785');
    } finally {
      pricing.restore();
      aws.restore();
    }
  });
});

describe('gm-ops cost --template: the typical-spot, scheduled and stopped figures of the default dev tier, offline', () => {
  const prices = table.regions['us-east-1'];
  const typicalSpot = table.typicalSpot.regions['us-east-1'];
  const D = (text: string) => Decimal.parse(text);
  /** The all-in assumption: a file system holding 5 GB. */
  const fileSystem = D(prices['efs:standard']).mul(5);

  /** The host while it runs, by hand: the highest typical spot price of the offered types, its root volume, its public IPv4. */
  function hostRunningByHand(dev: string, data: string) {
    const { instances, instanceTypes, rootGb } = devFacts(dev, data);
    const highest = instanceTypes.map((type) => D(typicalSpot[type].price)).reduce((a, b) => (b.cmp(a) > 0 ? b : a));
    return highest.mul(730).mul(Number(instances))
      .add(D(prices['ebs:gp3:storage']).mul(Number(rootGb)).mul(Number(instances)))
      .add(D(prices['vpc:public-ipv4']).mul(730).mul(Number(instances)));
  }
  /** What survives a stop, by hand: the stored secrets and the file system at 5 GB. */
  function survivesByHand(dev: string, data: string) {
    return D(prices['secrets:secret']).mul(Number(devFacts(dev, data).secrets)).add(fileSystem);
  }
  const costJson = async (dev: string, data: string) => {
    const result = await gmOps(['cost', '--template', dev, '--template', data, '--json']);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout);
  };

  it('every offered type has a dated typical spot price with its source in us-east-1', () => {
    for (const type of devFacts().instanceTypes) expect(typicalSpot[type]).toEqual({ price: expect.stringMatching(/^\d+\.\d+$/), source: expect.any(String) });
  });

  it('typicalSpotMonthlyCost: the highest typical spot price of the offered types, root volume, public IPv4, secrets, file system at 5 GB', async () => {
    const doc = await costJson(DEV, DATA);
    // (max typical spot of the overrides) x 730 x instances + gp3 x root GB + 0.005 x 730 + 0.40 x secrets + 0.30 x 5
    const byHand = hostRunningByHand(DEV, DATA).add(survivesByHand(DEV, DATA));
    expect(doc.typicalSpotMonthlyCost).toBe(byHand.toString());
    expect(doc.scenarios.typicalSpot.hosts[0]).toMatchObject({ market: 'spot', basis: 'typical spot', sourceUrl: 'https://website.spot.ec2.aws.a2z.com/spot.json' });
    expect(doc.scenarios.fileSystemAssumedGb).toBe(5);
    // the on-demand ceiling is unchanged and above it
    expect(D(doc.totalMonthlyCost).cmp(D(doc.typicalSpotMonthlyCost))).toBe(1);
  });

  it('stoppedMonthlyCost: no host; the stored secrets and the file system at 5 GB', async () => {
    const doc = await costJson(DEV, DATA);
    // 0.40 x secrets + 0.30 x 5
    expect(doc.stoppedMonthlyCost).toBe(survivesByHand(DEV, DATA).toString());
    expect(doc.scenarios.withHost).toEqual([expect.stringMatching(/Instance usage/), expect.stringMatching(/Storage \(gp3, \/dev\/xvda/), expect.stringMatching(/Public IPv4 address/)]);
  });

  it('no schedule, no scheduledMonthlyCost', async () => {
    const doc = await costJson(DEV, DATA);
    expect(doc).not.toHaveProperty('scheduledMonthlyCost');
    expect(doc.scenarios.scheduled).toBeNull();
  });

  it('scheduledMonthlyCost with a 12 h weekday schedule: the running host scaled by 60 h of 168 a week, the rest whole', async () => {
    const doc = await costJson(SCHEDULED_DEV, SCHEDULED_DATA);
    const weeklyHours = (20 - 8) * 5; // SCHEDULE: 08:00 to 20:00, MON-FRI
    // (host while running) x 60 / 168 + what survives a stop; 730 h x 60 / 168 = 260.71 running hours a month
    const byHand = hostRunningByHand(SCHEDULED_DEV, SCHEDULED_DATA).mul(weeklyHours).div(168).add(survivesByHand(SCHEDULED_DEV, SCHEDULED_DATA));
    expect(D(doc.scheduledMonthlyCost).toFixed(9)).toBe(byHand.toFixed(9));
    const actions = Object.values(read(SCHEDULED_DEV).Resources).filter((r) => r.Type === 'AWS::AutoScaling::ScheduledAction').map((r) => r.Properties);
    const start = actions.find((a) => a.DesiredCapacity === 1)!;
    const stop = actions.find((a) => a.DesiredCapacity === 0)!;
    expect([start.Recurrence, stop.Recurrence]).toEqual([expect.stringMatching(/^0 8 \* \* /), expect.stringMatching(/^0 20 \* \* /)]);
    expect(doc.scenarios.scheduled).toMatchObject({ weeklyHours: String(weeklyHours), schedule: `starts ${start.Recurrence}, stops ${stop.Recurrence} (${SCHEDULE.timeZone})`, reason: null });
    expect(D(doc.scenarios.scheduled.monthlyHours).toFixed(2)).toBe('260.71');
    // the schedule changes nothing else
    expect(doc.typicalSpotMonthlyCost).toBe(hostRunningByHand(SCHEDULED_DEV, SCHEDULED_DATA).add(survivesByHand(SCHEDULED_DEV, SCHEDULED_DATA)).toString());
    expect(doc.stoppedMonthlyCost).toBe(survivesByHand(SCHEDULED_DEV, SCHEDULED_DATA).toString());
  });

  it('the table shows the same three figures, each labelled', async () => {
    const result = await gmOps(['cost', '-t', SCHEDULED_DEV, '-t', SCHEDULED_DATA]);
    const doc = await costJson(SCHEDULED_DEV, SCHEDULED_DATA);
    const cents = (text: string) => `$${D(text).toFixed(2)}`;
    expect(result.stdout).toMatch(new RegExp(`Typical spot \\(all-in\\)\\s+\\${cents(doc.typicalSpotMonthlyCost)}/month: host at \\S+'s typical spot price`));
    expect(result.stdout).toMatch(new RegExp(`On its schedule\\s+\\${cents(doc.scheduledMonthlyCost)}/month: the host runs 260\\.7 h a month`));
    expect(result.stdout).toMatch(new RegExp(`Stopped\\s+\\${cents(doc.stoppedMonthlyCost)}/month: no host`));
    expect(result.stdout).toContain('file system at an assumed 5 GB');
  });
});

describe('gm-ops cost --template: what the dev tier does not have', () => {
  const fixture = path.join(tmp, 'GeuseTest-fixture.template.json');
  beforeAll(() => {
    fs.mkdirSync(tmp, { recursive: true });
    fs.writeFileSync(
      fixture,
      JSON.stringify({
        Parameters: { Size: { Type: 'String', Default: '3' }, Ssm: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/x' } },
        Resources: {
          Lt: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 100, VolumeType: 'gp3', Iops: 4000, Throughput: 250 } }] } } },
          Group: {
            Type: 'AWS::AutoScaling::AutoScalingGroup',
            Properties: {
              MinSize: '1',
              MaxSize: '5',
              DesiredCapacity: { Ref: 'Size' },
              MixedInstancesPolicy: {
                InstancesDistribution: { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 50, OnDemandAllocationStrategy: 'lowest-price' },
                LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: { Ref: 'Lt' } }, Overrides: [{ InstanceType: 'm6i.large' }, { InstanceType: 'm6a.large' }] },
              },
            },
          },
          Lb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internet-facing', Subnets: ['subnet-a', 'subnet-b', 'subnet-c'] } },
          InternalLb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internal', Subnets: ['subnet-a'] } },
          Nlb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'network', Subnets: ['subnet-a'] } },
          Cdn: { Type: 'AWS::CloudFront::Distribution', Properties: { DistributionConfig: { Enabled: true } } },
          CdnOrigin: { Type: 'AWS::CloudFront::VpcOrigin', Properties: { VpcOriginEndpointConfig: { Arn: { Ref: 'InternalLb' }, Name: 'origin' } } },
          AllowList: { Type: 'AWS::CloudFront::Function', Properties: { AutoPublish: true, FunctionCode: 'function handler(event) { return event.request; }' } },
          Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} },
          NatIp: { Type: 'AWS::EC2::EIP', Properties: { Domain: 'vpc' } },
          Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
        },
      }),
    );
  });

  it('prices the distribution (base 1, then 50% of the rest rounded up to on-demand), volumes above baseline, ALB IPs, NAT, CloudFront tiers', async () => {
    const result = await runWith({ env: { GM_OPS_CACHE_DIR: path.join(tmp, 'cache') } }, 'cost', '--template', fixture, '--offline', '--json');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    const byName = (name: string) => doc.resources.find((r: { name: string }) => r.name === name).costComponents;
    const us = table.regions['us-east-1'];
    const group = byName('Host Group');
    // 3 instances: 1 base on-demand + ceil(2 x 50%) = 2 on-demand, 1 spot; on-demand by lowest price (m6a.large).
    expect(group[0]).toMatchObject({ name: 'Instance usage (Linux, on-demand, m6a.large x 2)', price: us['ec2:m6a.large'], hourlyQuantity: '2', monthlyQuantity: '1460' });
    expect(group[1]).toMatchObject({ name: 'Instance usage (Linux, spot, m6i.large)', market: 'spot' });
    expect(group[2]).toMatchObject({ name: 'Storage (gp3, /dev/xvda, 100 GB x 3)', monthlyQuantity: '300', monthlyCost: '24' });
    expect(group[3]).toMatchObject({ name: 'Provisioned IOPS above 3000 (/dev/xvda)', monthlyQuantity: '3000', monthlyCost: '15' });
    expect(group[4]).toMatchObject({ name: 'Throughput above 125 MiB/s (/dev/xvda)', monthlyQuantity: '375', monthlyCost: '15' });
    expect(byName('Load balancer Lb').map((c: { name: string; monthlyCost: string | null }) => [c.name, c.monthlyCost])).toEqual([
      ['Application load balancer', '16.425'],
      ['Load balancer capacity units (LCU)', null],
      ['Public IPv4 addresses (one per AZ, 3)', '10.95'],
    ]);
    expect(byName('Load balancer InternalLb')).toHaveLength(2);
    expect(byName('CloudFront Cdn')[0]).toMatchObject({ usageBased: true, price: '0.085', tiers: expect.arrayContaining([{ begin: '0', end: '10240', price: '0.085' }]) });
    expect(byName('NAT gateway Nat')[0]).toMatchObject({ monthlyCost: '32.85' });
    expect(byName('Elastic IP NatIp')[0]).toMatchObject({ monthlyCost: '3.65' });
    expect(doc.notPriced).toEqual([
      { type: 'AWS::ElasticLoadBalancingV2::LoadBalancer (network)', count: 1 },
      { type: 'AWS::SQS::Queue', count: 1 },
    ]);
  });

  it('the path behind CloudFront: an internal load balancer has no public addresses, the allow-list function is priced per invocation, the VPC origin is free', async () => {
    const result = await runWith({ env: { GM_OPS_CACHE_DIR: path.join(tmp, 'cache') } }, 'cost', '--template', fixture, '--offline', '--json');
    const doc = JSON.parse(result.stdout);
    const byName = (name: string) => doc.resources.find((r: { name: string }) => r.name === name)?.costComponents;
    expect(byName('Load balancer InternalLb').map((c: { name: string }) => c.name)).toEqual(['Application load balancer', 'Load balancer capacity units (LCU)']);
    const allowListTable = (JSON.parse(fs.readFileSync(path.join(OPS, 'data', 'price-table.json'), 'utf8')) as { global: Record<string, string> }).global;
    expect(byName('CloudFront Function AllowList')).toEqual([expect.objectContaining({
      name: 'Function invocations (one per viewer request)', usageBased: true, price: allowListTable['cloudfront:function-invocations'], monthlyCost: null,
    })]);
    expect(byName('CloudFront CdnOrigin')).toBeUndefined();
    expect(doc.notPriced.map((n: { type: string }) => n.type)).not.toContain('AWS::CloudFront::VpcOrigin');
  });

  it('a missing template, a file that is not JSON, a JSON file that is no template: exit 2, one line', async () => {
    const env = { GM_OPS_CACHE_DIR: path.join(tmp, 'cache') };
    const missing = await runWith({ env }, 'cost', '--template', path.join(tmp, 'nope.template.json'), '--offline');
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toBe(`gm-ops: cannot read the template ${path.join(tmp, 'nope.template.json')} (no such file) — synthesize it first: \`npx cdk synth --quiet\` writes cdk.out/<stack>.template.json\n`);
    fs.writeFileSync(path.join(tmp, 'yaml.template.json'), 'Resources:\n  X: {}\n');
    expect((await runWith({ env }, 'cost', '--template', path.join(tmp, 'yaml.template.json'), '--offline')).stderr).toMatch(/is not a JSON template — pass a synthesized template from cdk.out \(JSON\)/);
    fs.writeFileSync(path.join(tmp, 'other.json'), '{"hello": 1}');
    expect((await runWith({ env }, 'cost', '--template', path.join(tmp, 'other.json'), '--offline')).stderr).toMatch(/is not a CloudFormation template \(no Resources\)/);
  });
});
