/**
 * `gm-ops cost --template` on the scale tier: the root CDK app synthesizes the default scale deployment
 * (`{ "tier": "scale" }`: GeuseData-, GeuseScaleData-, GeuseScale-my-stack) in beforeAll, and the estimate of
 * its three templates, offline and without AWS credentials, with two workers running (`--workers 2`), is
 * checked row by row against a hand computation written out here from the same price table: the on-demand
 * ceiling (totalMonthlyCost), the typical-spot figure (the "all-in": typical spot prices, the file
 * system at 5 GB) and the stopped figure. Each row is labelled in the table and in the JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PricingClient } from '@aws-sdk/client-pricing';
import { priceSpec } from '../src/cost/catalogue';
import { queryPrice } from '../src/cost/pricing-api';
import { FakePricing, type ProductSpec } from './helpers/fake-pricing';
import { bareEnv as bareEnvIn, gmOps as spawnGmOps, type Spawned } from './helpers/spawn-bin';
import { synthesizedSets } from './helpers/synth-sets';

const OPS = path.join(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-scale-'));
const out = path.join(tmp, 'cdk.out');
const SCALE = path.join(out, 'GeuseScale-my-stack.template.json');
const SCALE_DATA = path.join(out, 'GeuseScaleData-my-stack.template.json');
const DATA = path.join(out, 'GeuseData-my-stack.template.json');
const TEMPLATES = ['-t', SCALE, '-t', SCALE_DATA, '-t', DATA];
const gmOps = (args: string[]): Promise<Spawned> => spawnGmOps(args, { env: bareEnvIn(tmp), cwd: tmp });

let cleanup = () => {};
beforeAll(async () => {
  // The root CDK app's own templates (test/helpers/synth-sets.js).
  const scale = await synthesizedSets(['scale']);
  cleanup = scale.cleanup;
  fs.mkdirSync(out, { recursive: true });
  for (const file of fs.readdirSync(scale.dirs.scale)) fs.copyFileSync(path.join(scale.dirs.scale, file), path.join(out, file));
}, 180_000);
afterAll(() => {
  cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Tiered = string | { upTo?: string; price: string }[];
interface PriceTable {
  asOf: string;
  regions: Record<string, Record<string, Tiered>>;
  global: Record<string, Tiered>;
  typicalSpot: { regions: Record<string, Record<string, { price: string; source: string }>> };
}
const table: PriceTable = JSON.parse(fs.readFileSync(path.join(OPS, 'data', 'price-table.json'), 'utf8'));
const prices = table.regions['us-east-1'];
const typical = table.typicalSpot.regions['us-east-1'];

/** Dollars as integer pico-dollars (the table's prices have at most 8 decimals). */
const SCALE_DIGITS = 12;
function pico(dollars: string): bigint {
  const [whole, fraction = ''] = dollars.split('.');
  if (fraction.length > SCALE_DIGITS) throw new Error(`too many decimals: ${dollars}`);
  return BigInt(whole + fraction.padEnd(SCALE_DIGITS, '0'));
}
function dollars(value: bigint): string {
  const text = value.toString().padStart(SCALE_DIGITS + 1, '0');
  return `${text.slice(0, -SCALE_DIGITS)}.${text.slice(-SCALE_DIGITS)}`.replace(/0+$/, '').replace(/\.$/, '');
}
/** The first tier of a price (every quantity here is inside it). */
function flat(price: Tiered | undefined, key: string): string {
  if (price === undefined) throw new Error(`no ${key} in the table`);
  return typeof price === 'string' ? price : price[0].price;
}
const price = (key: string) => flat(prices[key], key);
/** price x quantity, the quantity as numerator / denominator (Fargate's CPU units and MiB per 1024). */
function cost(unitPrice: string, numerator: bigint, denominator = 1n): bigint {
  const product = pico(unitPrice) * numerator;
  if (product % denominator !== 0n) throw new Error(`${unitPrice} x ${numerator}/${denominator} is not exact at 12 decimals`);
  return product / denominator;
}

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
}
const read = (file: string): Template => JSON.parse(fs.readFileSync(file, 'utf8'));
const ofType = (file: string, type: string) => Object.entries(read(file).Resources).filter(([, r]) => r.Type === type);

/** What the synthesized templates say that costs money (each fact asserted on the way). */
function scaleFacts() {
  const [[, asg]] = ofType(SCALE, 'AWS::AutoScaling::AutoScalingGroup');
  const [[, lt]] = ofType(SCALE, 'AWS::EC2::LaunchTemplate');
  const ltData = lt.Properties.LaunchTemplateData;
  expect(ltData.BlockDeviceMappings[0].Ebs.VolumeType).toBe('gp3');
  expect(ltData.NetworkInterfaces[0].AssociatePublicIpAddress).toBe(true);
  expect(asg.Properties.MixedInstancesPolicy.InstancesDistribution).toMatchObject({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0 });
  const services = Object.fromEntries(ofType(SCALE, 'AWS::ECS::Service').map(([id, service]) => {
    const task = read(SCALE).Resources[service.Properties.TaskDefinition.Ref].Properties;
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
    return [id.startsWith('Workers') ? 'workers' : 'main', {
      id,
      capacity: service.Properties.CapacityProviderStrategy.map((s: { CapacityProvider: string }) => s.CapacityProvider),
      architecture: task.RuntimePlatform.CpuArchitecture as string,
      cpu: BigInt(task.Cpu),
      memory: BigInt(task.Memory),
      desired: service.Properties.DesiredCount as number,
    }];
  }));
  expect(Object.keys(services).sort()).toEqual(['main', 'workers']);
  expect(services.main).toMatchObject({ capacity: ['FARGATE'], architecture: 'ARM64', desired: 1 });
  expect(services.workers).toMatchObject({ capacity: ['FARGATE_SPOT'] });
  // arm64 by default (scale.workers.architecture); x86_64, the setting's other value, is priced by its own rows.
  expect(services.workers.architecture).toBe('ARM64');
  const [[, target]] = ofType(SCALE, 'AWS::ApplicationAutoScaling::ScalableTarget');
  expect(JSON.stringify(target.Properties.ResourceId)).toContain(services.workers.id);
  const [[, db]] = ofType(SCALE_DATA, 'AWS::RDS::DBInstance');
  expect(db.Properties).toMatchObject({ Engine: 'postgres', MultiAZ: false, StorageType: 'gp3' });
  const [[, queue]] = ofType(SCALE_DATA, 'AWS::ElastiCache::ReplicationGroup');
  expect(queue.Properties).toMatchObject({ Engine: 'valkey', NumCacheClusters: 1 });
  const publisher = ofType(SCALE, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Environment?.Variables?.METRIC_NAMESPACE === 'GeuseMaker/Scale');
  expect(publisher).toHaveLength(1);
  return {
    hostTypes: asg.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType) as string[],
    rootGb: BigInt(ltData.BlockDeviceMappings[0].Ebs.VolumeSize),
    main: services.main,
    // The workers' service has no DesiredCount (a deploy keeps what the scaling set): it runs its minimum at least.
    workers: { ...services.workers, desired: services.workers.desired ?? (target.Properties.MinCapacity as number), min: target.Properties.MinCapacity as number, max: target.Properties.MaxCapacity as number },
    dbClass: db.Properties.DBInstanceClass as string,
    dbGb: BigInt(db.Properties.AllocatedStorage),
    nodeType: queue.Properties.CacheNodeType as string,
    zones: BigInt(ofType(SCALE, 'AWS::Route53::HostedZone').length),
    alarms: BigInt(ofType(SCALE, 'AWS::CloudWatch::Alarm').length),
    secrets: BigInt([SCALE, SCALE_DATA, DATA].reduce((n, file) => n + ofType(file, 'AWS::SecretsManager::Secret').length, 0)),
  };
}

interface Row {
  /** The label of the row: `<resource> / <component>` as the estimate names them. */
  readonly resource: RegExp;
  readonly component: RegExp;
  readonly monthly: bigint;
  /** In the on-demand ceiling, the typical-spot figure (instead of `monthly` when given), and the stopped figure. */
  readonly typical?: bigint;
  readonly survives: boolean;
}

const WORKERS = 2n;
const HOURS = 730n;
const EFS_ASSUMED_GB = 5n;

/** The workers' CPU architecture (task definition RuntimePlatform): its price-key part and its label. */
function workerArchitecture(cpuArchitecture: string): { key: 'arm' | 'x86'; text: string } {
  return cpuArchitecture === 'ARM64' ? { key: 'arm', text: 'ARM64' } : { key: 'x86', text: 'x86_64' };
}

/** The default scale tier's figures with two workers (us-east-1, table of ops/data/price-table.json), by worker architecture (x86_64: the setting's other value). */
const FIGURES: Record<'arm' | 'x86', { ceiling: string; allIn: string; stopped: string }> = {
  x86: { ceiling: '193.08', allIn: '121.57', stopped: '44.45' },
  arm: { ceiling: '184.58', allIn: '118.87', stopped: '44.45' },
};

/** The hand computation, row by row, with two workers running. */
function handRows(): Row[] {
  const f = scaleFacts();
  // Offline, a spot host counts at the on-demand price of the dearest type offered; typically at the highest typical spot price.
  const dearest = [...f.hostTypes].sort((a, b) => Number(pico(price(`ec2:${b}`)) - pico(price(`ec2:${a}`))))[0];
  const highestTypical = [...f.hostTypes].sort((a, b) => Number(pico(typical[b].price) - pico(typical[a].price)))[0];
  const mainArch = 'arm';
  const { key: workerArch, text: workerPlatform } = workerArchitecture(f.workers.architecture);
  return [
    { resource: /^Host /, component: /^Instance usage \(Linux, spot, /, monthly: cost(price(`ec2:${dearest}`), HOURS), typical: cost(typical[highestTypical].price, HOURS), survives: false },
    { resource: /^Host /, component: /^Storage \(gp3, \/dev\/xvda/, monthly: cost(price('ebs:gp3:storage'), f.rootGb), survives: false },
    { resource: /^Host /, component: /^Public IPv4 address$/, monthly: cost(price('vpc:public-ipv4'), HOURS), survives: false },
    { resource: /^Load balancer /, component: /^Application load balancer$/, monthly: cost(price('elb:alb'), HOURS), survives: true },
    { resource: /^ECS service MainService/, component: /^Fargate vCPU \(FARGATE, Linux\/ARM64, 0\.5 vCPU\)$/, monthly: cost(price(`fargate:linux-${mainArch}:vcpu`), f.main.cpu * HOURS, 1024n), survives: false },
    { resource: /^ECS service MainService/, component: /^Fargate memory \(FARGATE, Linux\/ARM64, 2 GB\)$/, monthly: cost(price(`fargate:linux-${mainArch}:gb`), f.main.memory * HOURS, 1024n), survives: false },
    { resource: /^ECS service MainService/, component: /^Public IPv4 address \(AssignPublicIp, one per task\)$/, monthly: cost(price('vpc:public-ipv4'), HOURS), survives: false },
    {
      resource: /^ECS service WorkersService.*\(2 tasks, .*priced with 2 running \(--workers\); scales 1 to 4\)$/,
      component: new RegExp(`^Fargate vCPU \\(FARGATE_SPOT, Linux\\/${workerPlatform}, 0\\.5 vCPU x 2\\)$`),
      monthly: cost(price(`fargate:linux-${workerArch}:vcpu`), f.workers.cpu * WORKERS * HOURS, 1024n),
      typical: cost(typical[`fargate-spot:linux-${workerArch}:vcpu`].price, f.workers.cpu * WORKERS * HOURS, 1024n),
      survives: false,
    },
    {
      resource: /^ECS service WorkersService/,
      component: new RegExp(`^Fargate memory \\(FARGATE_SPOT, Linux\\/${workerPlatform}, 2 GB x 2\\)$`),
      monthly: cost(price(`fargate:linux-${workerArch}:gb`), f.workers.memory * WORKERS * HOURS, 1024n),
      typical: cost(typical[`fargate-spot:linux-${workerArch}:gb`].price, f.workers.memory * WORKERS * HOURS, 1024n),
      survives: false,
    },
    { resource: /^ECS service WorkersService/, component: /^Public IPv4 address \(AssignPublicIp, one per task x 2\)$/, monthly: cost(price('vpc:public-ipv4'), WORKERS * HOURS), survives: false },
    { resource: /^Custom metrics GeuseMaker\/Scale/, component: /^Custom metrics \(BacklogPerWorker, WaitingJobs\)$/, monthly: cost(price('cloudwatch:metric'), 2n), survives: true },
    { resource: /^CloudWatch alarms/, component: /^Alarms/, monthly: cost(price('cloudwatch:alarm'), f.alarms), survives: true },
    { resource: /^Hosted zone .* \(private\)$/, component: /^Hosted zone$/, monthly: cost(flat(table.global['route53:hosted-zone'], 'route53'), f.zones), survives: true },
    { resource: /^Secrets \(/, component: /^Secrets$/, monthly: cost(price('secrets:secret'), f.secrets), survives: true },
    { resource: /^Database /, component: new RegExp(`^DB instance \\(PostgreSQL, ${f.dbClass.replace(/\./g, '\\.')}, Single-AZ\\)$`), monthly: cost(price(`rds:postgres:${f.dbClass}`), HOURS), survives: true },
    { resource: /^Database /, component: /^Storage \(gp3, 20 GB\)$/, monthly: cost(price('rds:gp3:storage'), f.dbGb), survives: true },
    { resource: /^Cache /, component: new RegExp(`^Cache nodes \\(Valkey, ${f.nodeType.replace(/\./g, '\\.')}\\)$`), monthly: cost(price(`elasticache:valkey:${f.nodeType}`), HOURS), survives: true },
  ];
}

interface Component { name: string; monthlyCost: string | null; usageBased: boolean; priceNotFound: boolean; source: string }
interface ResourceJson { name: string; costComponents: Component[] }

/** The sum of a component over every resource matching (the secrets are in three stacks). */
function found(doc: { resources: ResourceJson[] }, row: Row): bigint {
  const matches = doc.resources.filter((r) => row.resource.test(r.name)).flatMap((r) => r.costComponents.filter((c) => row.component.test(c.name)));
  expect(matches.length).toBeGreaterThan(0);
  return matches.reduce((sum, c) => sum + pico(c.monthlyCost!), 0n);
}

describe('gm-ops cost --template on the synthesized scale tier, two workers, offline', () => {
  it('the monthly figures equal the hand computation, row by row, from the shipped table', async () => {
    const rows = handRows();
    const result = await gmOps(['cost', ...TEMPLATES, '--workers', '2', '--json']);
    expect(result.stderr).toBe(`gm-ops: offline estimate: no AWS credentials found (price table as of ${table.asOf})\n`);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ kind: 'template', region: 'us-east-1', source: 'offline', templates: ['GeuseScale-my-stack', 'GeuseScaleData-my-stack', 'GeuseData-my-stack'] });
    expect(doc.resources.flatMap((r: ResourceJson) => r.costComponents).filter((c: Component) => c.priceNotFound)).toEqual([]);
    for (const row of rows) expect({ row: `${row.resource} ${row.component}`, monthly: dollars(found(doc, row)) }).toEqual({ row: `${row.resource} ${row.component}`, monthly: dollars(row.monthly) });

    const ceiling = rows.reduce((sum, r) => sum + r.monthly, 0n);
    const efs = cost(price('efs:standard'), EFS_ASSUMED_GB);
    const allIn = rows.reduce((sum, r) => sum + (r.typical ?? r.monthly), 0n) + efs;
    const stopped = rows.filter((r) => r.survives).reduce((sum, r) => sum + r.monthly, 0n) + efs;
    expect(doc.totalMonthlyCost).toBe(dollars(ceiling));
    expect(doc.typicalSpotMonthlyCost).toBe(dollars(allIn));
    expect(doc.stoppedMonthlyCost).toBe(dollars(stopped));
    // The figures of the default scale tier with two workers (us-east-1, table of ops/data/price-table.json).
    const workers = workerArchitecture(scaleFacts().workers.architecture);
    expect({ ceiling: Number(dollars(ceiling)).toFixed(2), allIn: Number(dollars(allIn)).toFixed(2), stopped: Number(dollars(stopped)).toFixed(2) })
      .toEqual(FIGURES[workers.key]);

    // Every other component is a usage row (not in the totals) and says so.
    const hand = doc.resources.flatMap((r: ResourceJson) => r.costComponents.filter((c) => rows.some((row) => row.resource.test(r.name) && row.component.test(c.name))));
    const rest = doc.resources.flatMap((r: ResourceJson) => r.costComponents).filter((c: Component) => !hand.includes(c));
    expect(rest.every((c: Component) => c.usageBased && c.monthlyCost === null)).toBe(true);
    // The workers' typical price is the dated Fargate Spot row, the host's the typical EC2 spot row.
    expect(doc.scenarios.typicalSpot.tasks).toEqual([
      expect.objectContaining({ component: `Fargate vCPU (FARGATE_SPOT, Linux/${workers.text}, 0.5 vCPU x 2)`, basis: 'typical spot', price: typical[`fargate-spot:linux-${workers.key}:vcpu`].price, sourceUrl: 'https://dftu77xade0tc.cloudfront.net/fargate-spot-prices.json' }),
      expect.objectContaining({ component: `Fargate memory (FARGATE_SPOT, Linux/${workers.text}, 2 GB x 2)`, basis: 'typical spot', price: typical[`fargate-spot:linux-${workers.key}:gb`].price }),
    ]);
  });

  it('the table labels each row, the scaling bounds and the Fargate Spot pricing rule', async () => {
    const result = await gmOps(['cost', ...TEMPLATES, '--workers', '2']);
    expect(result.code).toBe(0);
    const workers = workerArchitecture(scaleFacts().workers.architecture);
    const dollarsOf = (value: string) => value.replace('.', '\\.');
    const figures = FIGURES[workers.key];
    const workerVcpu = Number(dollars(cost(price(`fargate:linux-${workers.key}:vcpu`), 512n * WORKERS * HOURS, 1024n))).toFixed(2);
    const typicalVcpu = typical[`fargate-spot:linux-${workers.key}:vcpu`].price;
    for (const line of [
      /ECS service WorkersService\w+ \(2 tasks, 0\.5 vCPU \/ 2 GB each; priced with 2 running \(--workers\); scales 1 to 4\)/,
      new RegExp(`Fargate vCPU \\(FARGATE_SPOT, Linux\\/${workers.text}, 0\\.5 vCPU x 2\\)\\s+730\\s+vCPU-hours\\s+\\$${dollarsOf(workerVcpu)}`),
      /Fargate memory \(FARGATE, Linux\/ARM64, 2 GB\)\s+1,460\s+GB-hours\s+\$5\.20/,
      /Fargate Spot: the total counts it at the on-demand Fargate price \(the most it costs\)/,
      /DB instance \(PostgreSQL, db\.t4g\.micro, Single-AZ\)\s+730\s+hours\s+\$11\.68/,
      /Cache nodes \(Valkey, cache\.t4g\.micro\)\s+730\s+hours\s+\$9\.34/,
      /Hosted zone\s+1\s+zone-months\s+\$0\.50/,
      /Custom metrics \(BacklogPerWorker, WaitingJobs\)\s+2\s+metric-months\s+\$0\.60/,
      /Backup storage\s+GB-months\s+depends on usage: \$0\.095 per GB-month/,
      new RegExp(`Monthly total \\(730 h\\)\\s+\\$${dollarsOf(figures.ceiling)}`),
      new RegExp(`Typical spot \\(all-in\\)\\s+\\$${dollarsOf(figures.allIn)}\\/month: host at m7g\\.large's typical spot price .*at the typical Fargate Spot price \\$${dollarsOf(typicalVcpu)} per vCPU-hour`),
      new RegExp(`Stopped\\s+\\$${dollarsOf(figures.stopped)}\\/month: no host and no tasks; .*Database \\w+: DB instance`),
    ]) expect(result.stdout).toMatch(line);
  });

  it('without --workers the workers are priced at their desired count (the minimum), and the bounds are said', async () => {
    const { workers } = scaleFacts();
    const result = await gmOps(['cost', ...TEMPLATES, '--json']);
    expect(result.code).toBe(0);
    const service = JSON.parse(result.stdout).resources.find((r: ResourceJson) => r.name.startsWith('ECS service WorkersService'));
    expect(service.name).toMatch(new RegExp(`\\(${workers.desired} tasks?, .*priced at its desired count ${workers.desired}; scales ${workers.min} to ${workers.max} \\(--workers N prices N\\)\\)$`));
  });

  it("gm-ops init's scale figure is what cost --template gives offline for the three synthesized stacks (workers at their minimum)", async () => {
    const result = await gmOps(['cost', ...TEMPLATES, '--offline', '--region', 'us-east-1', '--json']);
    expect(result.code).toBe(0);
    const { tierMonthlyCosts } = await import('../src/init/tier-cost');
    const { monthly } = await tierMonthlyCosts('us-east-1');
    expect(monthly.scale?.toString()).toBe(JSON.parse(result.stdout).totalMonthlyCost);
    // Not the automation tier's figure by another name: the scale rows are in it.
    expect(monthly.scale!.cmp(monthly.automation!)).toBeGreaterThan(0);
  });

  it('--workers outside the scaling bounds, or without a scaled service, is a usage error (exit 2)', async () => {
    const above = await gmOps(['cost', ...TEMPLATES, '--workers', '5']);
    expect(above.code).toBe(2);
    expect(above.stderr).toMatch(/--workers 5 is outside the scaling bounds of WorkersService\w+ \(1 to 4\)/);
    const noService = await gmOps(['cost', '-t', SCALE_DATA, '--workers', '2']);
    expect(noService.code).toBe(2);
    expect(noService.stderr).toMatch(/--workers: no ECS service with auto scaling/);
  });
});

describe('the scale tier\'s live prices: the Price List queries pick the one product they mean', () => {
  let fake: FakePricing;
  beforeEach(() => (fake = new FakePricing()));
  afterEach(() => fake.restore());
  const client = () => new PricingClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } });
  const product = (sku: string, serviceCode: string, attributes: Record<string, string>, unit: string, usd: string): ProductSpec => ({
    sku, serviceCode, attributes: { regionCode: 'us-east-1', ...attributes }, dimensions: [{ unit, usd }],
  });

  it('Fargate x86 and ARM per vCPU-hour and GB-hour, not Spot, not Windows', async () => {
    fake.add(
      product('F1', 'AmazonECS', { usagetype: 'USE1-Fargate-vCPU-Hours:perCPU' }, 'hours', '0.0404800000'),
      product('F2', 'AmazonECS', { usagetype: 'USE1-SpotUsage-Fargate-vCPU-Hours:perCPU' }, 'hours', '0.0128887100'),
      product('F3', 'AmazonECS', { usagetype: 'USE1-Fargate-ARM-vCPU-Hours:perCPU' }, 'hours', '0.0323800000'),
      product('F4', 'AmazonECS', { usagetype: 'USE1-Fargate-Windows-vCPU-Hours:perCPU' }, 'hours', '0.0465520000'),
      product('F5', 'AmazonECS', { usagetype: 'USE1-Fargate-GB-Hours' }, 'hours', '0.0044450000'),
      product('F6', 'AmazonECS', { usagetype: 'USE1-Fargate-ARM-GB-Hours' }, 'hours', '0.0035600000'),
    );
    const price = async (key: string) => (await queryPrice(client(), priceSpec(key)!.query('us-east-1'), 'us-east-1')).tiers[0].price.toString();
    expect(await price('fargate:linux-x86:vcpu')).toBe('0.04048');
    expect(await price('fargate:linux-arm:vcpu')).toBe('0.03238');
    expect(await price('fargate:linux-x86:gb')).toBe('0.004445');
    expect(await price('fargate:linux-arm:gb')).toBe('0.00356');
  });

  it('RDS PostgreSQL Single-AZ and Multi-AZ, gp3 storage, and Valkey nodes', async () => {
    fake.add(
      product('R1', 'AmazonRDS', { instanceType: 'db.t4g.micro', databaseEngine: 'PostgreSQL', deploymentOption: 'Single-AZ', usagetype: 'InstanceUsage:db.t4g.micro' }, 'Hrs', '0.0160000000'),
      product('R2', 'AmazonRDS', { instanceType: 'db.t4g.micro', databaseEngine: 'PostgreSQL', deploymentOption: 'Multi-AZ', usagetype: 'Multi-AZUsage:db.t4g.micro' }, 'Hrs', '0.0320000000'),
      product('R3', 'AmazonRDS', { volumeType: 'General Purpose-GP3', deploymentOption: 'Single-AZ', usagetype: 'RDS:GP3-Storage' }, 'GB-Mo', '0.1150000000'),
      product('E1', 'AmazonElastiCache', { instanceType: 'cache.t4g.micro', cacheEngine: 'Valkey', usagetype: 'NodeUsage:cache.t4g.micro' }, 'Hrs', '0.0128000000'),
      product('E2', 'AmazonElastiCache', { instanceType: 'cache.t4g.micro', cacheEngine: 'Redis', usagetype: 'NodeUsage:cache.t4g.micro' }, 'Hrs', '0.0160000000'),
    );
    const price = async (key: string) => (await queryPrice(client(), priceSpec(key)!.query('us-east-1'), 'us-east-1')).tiers[0].price.toString();
    expect(await price('rds:postgres:db.t4g.micro')).toBe('0.016');
    expect(await price('rds:postgres:db.t4g.micro:multi-az')).toBe('0.032');
    expect(await price('rds:gp3:storage')).toBe('0.115');
    expect(await price('elasticache:valkey:cache.t4g.micro')).toBe('0.0128');
    expect(await price('elasticache:redis:cache.t4g.micro')).toBe('0.016');
    // A key of an engine gm-ops does not price is not a key at all (the template says "not priced" instead).
    expect(priceSpec('rds:mysql:db.t4g.micro')).toBeUndefined();
  });
});

describe('what the default scale tier lacks, on a hand-written template', () => {
  it('Multi-AZ doubles the instance (its own price) and the storage; a node type without a dated price is not guessed', async () => {
    const file = path.join(tmp, 'hand.template.json');
    fs.writeFileSync(file, JSON.stringify({
      Resources: {
        Db: { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', MultiAZ: true, StorageType: 'gp3', AllocatedStorage: '20' } },
        Mysql: { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'mysql', DBInstanceClass: 'db.t4g.micro' } },
        Queue: { Type: 'AWS::ElastiCache::CacheCluster', Properties: { Engine: 'redis', CacheNodeType: 'cache.t4g.small', NumCacheNodes: 2 } },
      },
    }));
    const result = await gmOps(['cost', '-t', file, '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    const components = (name: RegExp) => doc.resources.find((r: ResourceJson) => name.test(r.name)).costComponents as Component[];
    expect(components(/^Database Db$/)).toEqual([
      expect.objectContaining({ name: 'DB instance (PostgreSQL, db.t4g.micro, Multi-AZ: primary and standby)', monthlyCost: dollars(cost(price('rds:postgres:db.t4g.micro:multi-az'), HOURS)) }),
      expect.objectContaining({ name: 'Storage (gp3, 20 GB x 2: the standby has its own)', monthlyCost: dollars(cost(price('rds:gp3:storage'), 40n)) }),
      expect.objectContaining({ name: 'Backup storage', usageBased: true, monthlyCost: null }),
    ]);
    expect(components(/^Cache Queue$/)).toEqual([expect.objectContaining({ name: 'Cache nodes (Redis OSS, cache.t4g.small x 2)', priceNotFound: true, monthlyCost: null })]);
    expect(doc.notes).toContain('Mysql: only RDS PostgreSQL with a literal instance class is priced by gm-ops (mysql, db.t4g.micro)');
  });
});
