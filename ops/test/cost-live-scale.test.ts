/**
 * `gm-ops cost <name>` on a running scale deployment through the entry point, AWS mocked with aws-sdk-client-mock
 * (ECS, RDS, ElastiCache and CloudWatch answer with the shapes of their API references): the AI host, the ECS
 * services at their running task counts (Fargate or Fargate Spot from the capacity provider strategy, vCPU and GB
 * from the task definition, one public IPv4 per task), the database, the Valkey nodes, the hosted zone, the
 * backlog function's metrics, the alarms, the file system at its metered size and every secret. Offline, the
 * monthly total, the typical-spot and the stopped figures are checked against a hand computation from the shipped
 * table, row by row; the rows agree with what `--template` gives for the same facts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient, type Service, type TaskDefinition } from '@aws-sdk/client-ecs';
import { DescribeReplicationGroupsCommand, ElastiCacheClient, type ReplicationGroup } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { OUTPUT_KEYS, SCALE_OUTPUT_KEYS, TAG_KEYS, scaleAiHostAutoScalingGroupName } from '../src/contract';
import { FakeAws, awsError, stackOf } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf } from './helpers/fake-aws-data';
import { FakePricing, cloudFrontProducts, ec2Product, regionProducts, type ProductSpec } from './helpers/fake-pricing';
import { runWith } from './helpers/harness';

const NAME = 'big';
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const CLUSTER = `geusemaker-${NAME}`;
const ecs = mockClient(ECSClient);
const rds = mockClient(RDSClient);
const elasticache = mockClient(ElastiCacheClient);
const cloudWatch = mockClient(CloudWatchClient);

// ----- the shipped table and exact arithmetic (pico-dollars) -----

type Tiered = string | { upTo?: string; price: string }[];
const table: {
  asOf: string;
  regions: Record<string, Record<string, Tiered>>;
  global: Record<string, Tiered>;
  typicalSpot: { regions: Record<string, Record<string, { price: string }>> };
} = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'data', 'price-table.json'), 'utf8'));
const flat = (value: Tiered | undefined, key: string): string => {
  if (value === undefined) throw new Error(`no ${key} in the table`);
  return typeof value === 'string' ? value : value[0].price;
};
const price = (key: string) => flat(table.regions[REGION][key] ?? table.global[key], key);
const typical = (key: string) => table.typicalSpot.regions[REGION][key].price;
const DIGITS = 12;
const pico = (dollars: string): bigint => {
  const [whole, fraction = ''] = dollars.split('.');
  return BigInt(whole + fraction.padEnd(DIGITS, '0'));
};
const dollars = (value: bigint): string => {
  const text = value.toString().padStart(DIGITS + 1, '0');
  return `${text.slice(0, -DIGITS)}.${text.slice(-DIGITS)}`.replace(/0+$/, '').replace(/\.$/, '');
};
/** unit price x numerator / denominator, exact. */
const cost = (unitPrice: string, numerator: bigint, denominator = 1n): bigint => {
  const product = pico(unitPrice) * numerator;
  if (product % denominator !== 0n) throw new Error('not exact');
  return product / denominator;
};
const HOURS = 730n;

// ----- the fake deployment -----

interface FakeService {
  name: string;
  running: number;
  desired: number;
  pending?: number;
  providers: string[];
  taskDefinition: string;
}
interface FakeTaskDefinition {
  cpu: string;
  memory: string;
  architecture: 'X86_64' | 'ARM64';
}

let aws: FakeAws;
let data: FakeAwsData;
let pricing: FakePricing;
let cacheDir: string;
let services: FakeService[];
let taskDefinitions: Map<string, FakeTaskDefinition>;
let database: DBInstance;
let queue: ReplicationGroup | undefined;

const taskDefinitionArn = (family: string, revision: number) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
const resource = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string) => ({
  LogicalResourceId,
  ResourceType,
  PhysicalResourceId,
  ResourceStatus: 'CREATE_COMPLETE' as const,
  LastUpdatedTimestamp: new Date('2025-01-14T10:00:00Z'),
});

/** DescribeServices as the ECS API reference shapes it (a service with a capacity provider strategy has no launchType). */
function describedService(s: FakeService): Service {
  return {
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${s.name}`,
    serviceName: s.name,
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`,
    status: 'ACTIVE',
    desiredCount: s.desired,
    runningCount: s.running,
    pendingCount: s.pending ?? 0,
    capacityProviderStrategy: s.providers.map((capacityProvider) => ({ capacityProvider, weight: 1, base: 0 })),
    platformVersion: 'LATEST',
    platformFamily: 'Linux',
    taskDefinition: s.taskDefinition,
    deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
    deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', taskDefinition: s.taskDefinition, desiredCount: s.desired, pendingCount: s.pending ?? 0, runningCount: s.running, failedTasks: 0, rolloutState: 'COMPLETED' }],
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-tasks'], assignPublicIp: 'ENABLED' } },
    schedulingStrategy: 'REPLICA',
    launchType: undefined,
  };
}

function describedTaskDefinition(arn: string, t: FakeTaskDefinition): TaskDefinition {
  const [, family, revision] = /task-definition\/([^:]+):(\d+)$/.exec(arn)!;
  return {
    taskDefinitionArn: arn,
    family,
    revision: Number(revision),
    status: 'ACTIVE',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    compatibilities: ['EC2', 'FARGATE'],
    cpu: t.cpu,
    memory: t.memory,
    runtimePlatform: { cpuArchitecture: t.architecture, operatingSystemFamily: 'LINUX' },
    containerDefinitions: [{ name: 'n8n', image: 'n8nio/n8n:2.36.0', essential: true }],
  };
}

function installScaleApis(): void {
  ecs.reset();
  rds.reset();
  elasticache.reset();
  cloudWatch.reset();
  ecs.on(DescribeServicesCommand).callsFake((input) => {
    if (input.cluster !== CLUSTER) throw awsError('ClusterNotFoundException', 'Cluster not found.');
    const names: string[] = input.services ?? [];
    return {
      services: services.filter((s) => names.includes(s.name)).map(describedService),
      failures: names.filter((n) => !services.some((s) => s.name === n)).map((n) => ({ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${n}`, reason: 'MISSING' })),
    };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input) => {
    const t = taskDefinitions.get(input.taskDefinition);
    if (!t) throw awsError('ClientException', 'Unable to describe task definition.');
    return { taskDefinition: describedTaskDefinition(input.taskDefinition, t), tags: [] };
  });
  rds.on(DescribeDBInstancesCommand).callsFake((input) => {
    if (input.DBInstanceIdentifier !== database.DBInstanceIdentifier) throw awsError('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    return { DBInstances: [database] };
  });
  elasticache.on(DescribeReplicationGroupsCommand).callsFake((input) => {
    if (!queue || input.ReplicationGroupId !== queue.ReplicationGroupId) throw awsError('ReplicationGroupNotFoundFault', `Replication group ${input.ReplicationGroupId} not found.`);
    return { ReplicationGroups: [queue] };
  });
  cloudWatch.on(ListMetricsCommand).callsFake((input) => ({
    Metrics: ['WaitingJobs', 'BacklogPerWorker']
      .filter(() => input.Namespace === 'GeuseMaker/Scale' && input.Dimensions?.[0]?.Value === NAME)
      .map((MetricName) => ({ Namespace: 'GeuseMaker/Scale', MetricName, Dimensions: [{ Name: 'Deployment', Value: NAME }] })),
  }));
}

/** The default scale deployment: main (1 task, FARGATE, ARM64) and two workers running (FARGATE_SPOT, x86), one pending. */
function deployment(): void {
  const dataSecrets = ['n8n-encryption-key', 'n8n-owner-password', 'qdrant-api-key'];
  aws.addStack(
    stackOf(
      `GeuseData-${NAME}`,
      'CREATE_COMPLETE',
      {
        [OUTPUT_KEYS.fileSystemId]: 'fs-big',
        [OUTPUT_KEYS.vpcId]: 'vpc-big',
        [OUTPUT_KEYS.secretArns]: dataSecrets.map((p) => `${p}=${secretArn(`geusemaker/${NAME}/${p}`)}`).join(','),
      },
      { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'data' },
    ),
  );
  aws.addStack(
    stackOf(
      `GeuseScale-${NAME}`,
      'CREATE_COMPLETE',
      {
        [OUTPUT_KEYS.tier]: 'scale',
        [OUTPUT_KEYS.autoScalingGroupName]: scaleAiHostAutoScalingGroupName(NAME),
        [SCALE_OUTPUT_KEYS.clusterName]: CLUSTER,
        [SCALE_OUTPUT_KEYS.mainServiceName]: 'n8n-main',
        [SCALE_OUTPUT_KEYS.workerServiceName]: 'n8n-worker',
        [SCALE_OUTPUT_KEYS.webhookServiceName]: '',
        [SCALE_OUTPUT_KEYS.workerMinCount]: '1',
        [SCALE_OUTPUT_KEYS.workerMaxCount]: '4',
      },
      { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'scale' },
    ),
  );
  aws.addStack(
    stackOf(`GeuseScaleData-${NAME}`, 'CREATE_COMPLETE', {
      [SCALE_OUTPUT_KEYS.databaseInstanceId]: CLUSTER,
      [SCALE_OUTPUT_KEYS.queueReplicationGroupId]: CLUSTER,
      [SCALE_OUTPUT_KEYS.databaseSecretArn]: secretArn(`geusemaker/${NAME}/database`),
      [SCALE_OUTPUT_KEYS.queueAuthSecretArn]: secretArn(`geusemaker/${NAME}/queue-auth`),
    }),
  );
  // The AI host: one spot m7g.large with a 30 GB gp3 root volume and a public IPv4 address.
  const group = scaleAiHostAutoScalingGroupName(NAME);
  aws.groups.set(group, { AutoScalingGroupName: group, DesiredCapacity: 1, MinSize: 1, MaxSize: 1, Instances: [{ InstanceId: 'i-ai', LifecycleState: 'InService', HealthStatus: 'Healthy', AvailabilityZone: 'us-east-1a', ProtectedFromScaleIn: false }], DefaultCooldown: 300, HealthCheckType: 'EC2', CreatedTime: new Date(), AvailabilityZones: ['us-east-1a'] });
  aws.instances.set('i-ai', { InstanceId: 'i-ai', State: { Name: 'running' }, InstanceType: 'm7g.large' as never, InstanceLifecycle: 'spot', Placement: { AvailabilityZone: 'us-east-1a' }, PublicIpAddress: '203.0.113.7', PrivateIpAddress: '10.0.1.20', LaunchTime: new Date('2025-01-15T09:00:00Z') });
  data.volumes.push({ VolumeId: 'vol-ai', Size: 30, VolumeType: 'gp3', Iops: 3000, Throughput: 125, Attachments: [{ InstanceId: 'i-ai', Device: '/dev/xvda', State: 'attached', DeleteOnTermination: true }] });
  data.networkInterfaces.push(
    { NetworkInterfaceId: 'eni-ai', Groups: [{ GroupId: 'sg-ai' }], Attachment: { InstanceId: 'i-ai' }, Association: { PublicIp: '203.0.113.7' } },
    // The tasks' interfaces (awsvpc, AssignPublicIp): priced with their services, not again here.
    ...['main-0', 'worker-0', 'worker-1'].map((task, i) => ({
      NetworkInterfaceId: `eni-${task}`,
      Groups: [{ GroupId: 'sg-tasks' }],
      Description: `arn:aws:ecs:${REGION}:${ACCOUNT}:attachment/0b1c2d3e-0000-4000-8000-00000000000${i}`,
      InterfaceType: 'interface' as const,
      RequesterManaged: true,
      Association: { PublicIp: `198.51.100.${10 + i}` },
    })),
  );
  data.fileSystems.push(fileSystemOf('fs-big', { deployment: NAME, sizeBytes: 2 * 1024 ** 3 }));
  data.stackResources.set(`GeuseData-${NAME}`, [
    resource('FileSystem8A8E25C0', 'AWS::EFS::FileSystem', 'fs-big'),
    ...dataSecrets.map((p, i) => resource(`Secret${i}`, 'AWS::SecretsManager::Secret', secretArn(`geusemaker/${NAME}/${p}`))),
  ]);
  data.stackResources.set(`GeuseScale-${NAME}`, [
    resource('AiHostSecurityGroup', 'AWS::EC2::SecurityGroup', 'sg-ai'),
    resource('TaskSecurityGroup', 'AWS::EC2::SecurityGroup', 'sg-tasks'),
    resource('Entry', 'AWS::ElasticLoadBalancingV2::LoadBalancer', `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/GeuseS-Entry-abc/50dc6c495c0c9188`),
    resource('Distribution', 'AWS::CloudFront::Distribution', 'E2QWRUHEXAMPLE'),
    resource('PrivateZone', 'AWS::Route53::HostedZone', 'Z0123456789ABCDEFGHIJ'),
    resource('BacklogFunction', 'AWS::Lambda::Function', `gm-${NAME}-backlog`),
    resource('MainServiceABC', 'AWS::ECS::Service', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/n8n-main`),
    resource('WorkersServiceDEF', 'AWS::ECS::Service', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/n8n-worker`),
    resource('WorkersBacklogScaling', 'AWS::ApplicationAutoScaling::ScalingPolicy', 'backlog-policy'),
    resource('WorkersCpuScaling', 'AWS::ApplicationAutoScaling::ScalingPolicy', 'cpu-policy'),
    resource('MainUnhealthyAlarm', 'AWS::CloudWatch::Alarm', `gm-${NAME}-main-unhealthy`),
    resource('BacklogStaleAlarm', 'AWS::CloudWatch::Alarm', `gm-${NAME}-backlog-stale`),
  ]);
  data.stackResources.set(`GeuseScaleData-${NAME}`, [
    resource('Database', 'AWS::RDS::DBInstance', CLUSTER),
    resource('Queue', 'AWS::ElastiCache::ReplicationGroup', CLUSTER),
    resource('DatabaseSecret', 'AWS::SecretsManager::Secret', secretArn(`geusemaker/${NAME}/database`)),
    resource('QueueAuthSecret', 'AWS::SecretsManager::Secret', secretArn(`geusemaker/${NAME}/queue-auth`)),
  ]);
  services = [
    { name: 'n8n-main', running: 1, desired: 1, providers: ['FARGATE'], taskDefinition: taskDefinitionArn('gm-big-main', 3) },
    { name: 'n8n-worker', running: 2, desired: 3, pending: 1, providers: ['FARGATE_SPOT'], taskDefinition: taskDefinitionArn('gm-big-worker', 5) },
  ];
  taskDefinitions = new Map([
    [taskDefinitionArn('gm-big-main', 3), { cpu: '512', memory: '2048', architecture: 'ARM64' }],
    [taskDefinitionArn('gm-big-worker', 5), { cpu: '512', memory: '2048', architecture: 'X86_64' }],
  ]);
  database = {
    DBInstanceIdentifier: CLUSTER,
    DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${CLUSTER}`,
    DBInstanceClass: 'db.t4g.micro',
    Engine: 'postgres',
    EngineVersion: '17.6',
    DBInstanceStatus: 'available',
    MultiAZ: false,
    AllocatedStorage: 20,
    MaxAllocatedStorage: 100,
    StorageType: 'gp3',
    Iops: 3000,
    StorageThroughput: 125,
    StorageEncrypted: true,
    BackupRetentionPeriod: 7,
    Endpoint: { Address: `${CLUSTER}.abc.${REGION}.rds.amazonaws.com`, Port: 5432 },
  };
  queue = {
    ReplicationGroupId: CLUSTER,
    ARN: `arn:aws:elasticache:${REGION}:${ACCOUNT}:replicationgroup:${CLUSTER}`,
    Status: 'available',
    Engine: 'valkey',
    CacheNodeType: 'cache.t4g.micro',
    ClusterEnabled: false,
    MemberClusters: [`${CLUSTER}-001`],
    NodeGroups: [{ NodeGroupId: '0001', Status: 'available', NodeGroupMembers: [{ CacheClusterId: `${CLUSTER}-001`, CacheNodeId: '0001', CurrentRole: 'primary' }] }],
    TransitEncryptionEnabled: true,
    AuthTokenEnabled: true,
  };
}

beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  pricing = new FakePricing(aws.ec2);
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-cost-scale-live-'));
  installScaleApis();
  deployment();
});
afterEach(() => {
  pricing.restore();
  data.restore();
  aws.restore();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});
afterAll(() => {
  ecs.restore();
  rds.restore();
  elasticache.restore();
  cloudWatch.restore();
});

const run = (...args: string[]) => runWith({ clients: aws.clients(REGION), env: { GM_OPS_CACHE_DIR: cacheDir } }, 'cost', ...args);
const row = (stdout: string, name: string) => stdout.split('\n').find((l) => l.includes(name)) ?? '';

interface Row {
  readonly resource: RegExp;
  readonly component: RegExp;
  readonly monthly: bigint;
  /** At the typical spot price (the typical-spot figure), when it differs. */
  readonly typical?: bigint;
  /** Still billed when the host and the tasks are stopped. */
  readonly survives: boolean;
}

/** The hand computation: the default deployment above, offline (a spot host at its on-demand price). */
function handRows(): Row[] {
  const vcpu = 512n; // CPU units per task (1024 = 1 vCPU)
  const mib = 2048n;
  const workers = 2n;
  return [
    { resource: /^Host i-ai$/, component: /^Instance usage \(Linux, spot, m7g\.large\)$/, monthly: cost(price('ec2:m7g.large'), HOURS), typical: cost(typical('m7g.large'), HOURS), survives: false },
    { resource: /^Host i-ai$/, component: /^Storage \(gp3, \/dev\/xvda, 30 GB, vol-ai\)$/, monthly: cost(price('ebs:gp3:storage'), 30n), survives: false },
    { resource: /^Host i-ai$/, component: /^Public IPv4 address$/, monthly: cost(price('vpc:public-ipv4'), HOURS), survives: false },
    { resource: /^Load balancer GeuseS-Entry-abc$/, component: /^Application load balancer$/, monthly: cost(price('elb:alb'), HOURS), survives: true },
    { resource: /^ECS service n8n-main \(1 task, 0\.5 vCPU \/ 2 GB each; main, running now; desired 1\)$/, component: /^Fargate vCPU \(FARGATE, Linux\/ARM64, 0\.5 vCPU\)$/, monthly: cost(price('fargate:linux-arm:vcpu'), vcpu * HOURS, 1024n), survives: false },
    { resource: /^ECS service n8n-main/, component: /^Fargate memory \(FARGATE, Linux\/ARM64, 2 GB\)$/, monthly: cost(price('fargate:linux-arm:gb'), mib * HOURS, 1024n), survives: false },
    { resource: /^ECS service n8n-main/, component: /^Public IPv4 address \(AssignPublicIp, one per task\)$/, monthly: cost(price('vpc:public-ipv4'), HOURS), survives: false },
    {
      resource: /^ECS service n8n-worker \(2 tasks, 0\.5 vCPU \/ 2 GB each; worker, running now; desired 3; scales 1 to 4\)$/,
      component: /^Fargate vCPU \(FARGATE_SPOT, Linux\/x86_64, 0\.5 vCPU x 2\)$/,
      monthly: cost(price('fargate:linux-x86:vcpu'), vcpu * workers * HOURS, 1024n),
      typical: cost(typical('fargate-spot:linux-x86:vcpu'), vcpu * workers * HOURS, 1024n),
      survives: false,
    },
    {
      resource: /^ECS service n8n-worker/,
      component: /^Fargate memory \(FARGATE_SPOT, Linux\/x86_64, 2 GB x 2\)$/,
      monthly: cost(price('fargate:linux-x86:gb'), mib * workers * HOURS, 1024n),
      typical: cost(typical('fargate-spot:linux-x86:gb'), mib * workers * HOURS, 1024n),
      survives: false,
    },
    { resource: /^ECS service n8n-worker/, component: /^Public IPv4 address \(AssignPublicIp, one per task x 2\)$/, monthly: cost(price('vpc:public-ipv4'), workers * HOURS), survives: false },
    { resource: /^Database geusemaker-big$/, component: /^DB instance \(PostgreSQL, db\.t4g\.micro, Single-AZ\)$/, monthly: cost(price('rds:postgres:db.t4g.micro'), HOURS), survives: true },
    { resource: /^Database geusemaker-big$/, component: /^Storage \(gp3, 20 GB\)$/, monthly: cost(price('rds:gp3:storage'), 20n), survives: true },
    { resource: /^Cache geusemaker-big$/, component: /^Cache nodes \(Valkey, cache\.t4g\.micro\)$/, monthly: cost(price('elasticache:valkey:cache.t4g.micro'), HOURS), survives: true },
    { resource: /^Hosted zone Z0123456789ABCDEFGHIJ$/, component: /^Hosted zone$/, monthly: cost(price('route53:hosted-zone'), 1n), survives: true },
    { resource: /^Custom metrics GeuseMaker\/Scale \(Deployment=big\)$/, component: /^Custom metrics \(BacklogPerWorker, WaitingJobs\)$/, monthly: cost(price('cloudwatch:metric'), 2n), survives: true },
    { resource: /^CloudWatch alarms \(2\)$/, component: /^Alarms \(standard resolution\)$/, monthly: cost(price('cloudwatch:alarm'), 2n), survives: true },
    { resource: /^File system fs-big$/, component: /^Storage \(Standard, metered 2 GB as of 2025-01-15T11:00:00Z\)$/, monthly: cost(price('efs:standard'), 2n), survives: true },
    // Three of GeuseData (its SecretArns output and its resources), two of GeuseScaleData: each once.
    { resource: /^Secrets \(5\)$/, component: /^Secrets$/, monthly: cost(price('secrets:secret'), 5n), survives: true },
  ];
}

interface Component { name: string; monthlyCost: string | null; usageBased: boolean; priceNotFound: boolean }
interface ResourceJson { name: string; resourceType: string; costComponents: Component[] }

function found(doc: { resources: ResourceJson[] }, r: Row): string {
  const matches = doc.resources.filter((x) => r.resource.test(x.name)).flatMap((x) => x.costComponents.filter((c) => r.component.test(c.name)));
  expect({ row: `${r.resource} ${r.component}`, matches: matches.length }).toEqual({ row: `${r.resource} ${r.component}`, matches: 1 });
  return matches[0].monthlyCost!;
}

describe('gm-ops cost <name> on a scale deployment', () => {
  it('--offline --json: every row, the total, the typical-spot and stopped figures equal the hand computation', async () => {
    const { code, stdout, stderr } = await run(NAME, '--offline', '--json');
    expect(code).toBe(0);
    expect(stderr).toBe(`gm-ops: offline estimate: --offline: AWS was not asked for prices (price table as of ${table.asOf})\n`);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ kind: 'deployment', deployment: NAME, region: REGION, source: 'offline', hoursPerMonth: 730 });
    const rows = handRows();
    for (const r of rows) expect({ row: `${r.resource} ${r.component}`, monthly: found(doc, r) }).toEqual({ row: `${r.resource} ${r.component}`, monthly: dollars(r.monthly) });

    // Everything else is a usage row (LCUs, CloudFront, backups, EFS throughput, Secrets Manager API calls).
    const all = doc.resources.flatMap((r: ResourceJson) => r.costComponents.map((c) => ({ resource: r.name, ...c })));
    const hand = all.filter((c: Component & { resource: string }) => rows.some((r) => r.resource.test(c.resource) && r.component.test(c.name)));
    expect(hand).toHaveLength(rows.length);
    expect(all.filter((c: Component) => !hand.includes(c)).every((c: Component) => c.usageBased && c.monthlyCost === null && !c.priceNotFound)).toBe(true);
    // The tasks' public addresses are priced once, with their services: no "other" addresses.
    expect(doc.resources.map((r: ResourceJson) => r.name)).not.toContain('Other public IPv4 addresses');

    const ceiling = rows.reduce((sum, r) => sum + r.monthly, 0n);
    const typicalSpot = rows.reduce((sum, r) => sum + (r.typical ?? r.monthly), 0n);
    const stopped = rows.filter((r) => r.survives).reduce((sum, r) => sum + r.monthly, 0n);
    expect({ total: doc.totalMonthlyCost, typical: doc.typicalSpotMonthlyCost, stopped: doc.stoppedMonthlyCost }).toEqual({ total: dollars(ceiling), typical: dollars(typicalSpot), stopped: dollars(stopped) });
    // The figures, rounded: us-east-1, table of ops/data/price-table.json.
    expect([ceiling, typicalSpot, stopped].map((v) => Number(dollars(v)).toFixed(2))).toEqual(['179.76', '120.77', '43.65']);
    expect(doc.scenarios.typicalSpot.tasks).toEqual([
      expect.objectContaining({ resource: expect.stringMatching(/^ECS service n8n-worker/), component: 'Fargate vCPU (FARGATE_SPOT, Linux/x86_64, 0.5 vCPU x 2)', basis: 'typical spot', price: typical('fargate-spot:linux-x86:vcpu') }),
      expect.objectContaining({ component: 'Fargate memory (FARGATE_SPOT, Linux/x86_64, 2 GB x 2)', basis: 'typical spot', price: typical('fargate-spot:linux-x86:gb') }),
    ]);

    // What was asked, and how.
    expect(ecs.commandCalls(DescribeServicesCommand)[0].args[0].input).toEqual({ cluster: CLUSTER, services: ['n8n-main', 'n8n-worker'] });
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition).sort()).toEqual([...taskDefinitions.keys()].sort());
    expect(rds.commandCalls(DescribeDBInstancesCommand)[0].args[0].input).toEqual({ DBInstanceIdentifier: CLUSTER });
    expect(elasticache.commandCalls(DescribeReplicationGroupsCommand)[0].args[0].input).toEqual({ ReplicationGroupId: CLUSTER });
    expect(cloudWatch.commandCalls(ListMetricsCommand)[0].args[0].input).toMatchObject({ Namespace: 'GeuseMaker/Scale', Dimensions: [{ Name: 'Deployment', Value: NAME }] });
  });

  it('live: the AI host at the spot price now in its AZ, every other row at the Price List price; the same rows as offline', async () => {
    const product = (sku: string, serviceCode: string, attributes: Record<string, string>, unit: string, usd: string): ProductSpec => ({
      sku, serviceCode, attributes: { regionCode: REGION, ...attributes }, dimensions: [{ unit, usd }],
    });
    pricing.add(
      ec2Product(REGION, 'm7g.large', price('ec2:m7g.large')),
      ...regionProducts(REGION, {
        gp3: price('ebs:gp3:storage'), efsStandard: price('efs:standard'), efsRead: price('efs:elastic-read'), efsWrite: price('efs:elastic-write'), ipv4: price('vpc:public-ipv4'),
        alb: price('elb:alb'), lcu: price('elb:alb-lcu'), secret: price('secrets:secret'), secretApiPerRequest: '0.000005', natHour: price('nat:hours'), natGb: price('nat:data'),
      }),
      ...cloudFrontProducts(),
      product('F1', 'AmazonECS', { usagetype: 'USE1-Fargate-vCPU-Hours:perCPU' }, 'hours', price('fargate:linux-x86:vcpu')),
      product('F2', 'AmazonECS', { usagetype: 'USE1-SpotUsage-Fargate-vCPU-Hours:perCPU' }, 'hours', '0.0128887100'),
      product('F3', 'AmazonECS', { usagetype: 'USE1-Fargate-ARM-vCPU-Hours:perCPU' }, 'hours', price('fargate:linux-arm:vcpu')),
      product('F5', 'AmazonECS', { usagetype: 'USE1-Fargate-GB-Hours' }, 'hours', price('fargate:linux-x86:gb')),
      product('F6', 'AmazonECS', { usagetype: 'USE1-Fargate-ARM-GB-Hours' }, 'hours', price('fargate:linux-arm:gb')),
      product('R1', 'AmazonRDS', { instanceType: 'db.t4g.micro', databaseEngine: 'PostgreSQL', deploymentOption: 'Single-AZ', usagetype: 'InstanceUsage:db.t4g.micro' }, 'Hrs', price('rds:postgres:db.t4g.micro')),
      product('R3', 'AmazonRDS', { volumeType: 'General Purpose-GP3', deploymentOption: 'Single-AZ', usagetype: 'RDS:GP3-Storage' }, 'GB-Mo', price('rds:gp3:storage')),
      product('R4', 'AmazonRDS', { usagetype: 'RDS:ChargedBackupUsage' }, 'GB-Mo', price('rds:backup')),
      product('E1', 'AmazonElastiCache', { instanceType: 'cache.t4g.micro', cacheEngine: 'Valkey', usagetype: 'NodeUsage:cache.t4g.micro' }, 'Hrs', price('elasticache:valkey:cache.t4g.micro')),
      { sku: 'Z1', serviceCode: 'AmazonRoute53', attributes: { usagetype: 'HostedZone' }, dimensions: [{ unit: 'HostedZone', usd: price('route53:hosted-zone') }] },
      product('C1', 'AmazonCloudWatch', { usagetype: 'CW:MetricMonitorUsage' }, 'Metrics', price('cloudwatch:metric')),
      product('C2', 'AmazonCloudWatch', { usagetype: 'CW:AlarmMonitorUsage' }, 'Alarms', price('cloudwatch:alarm')),
    );
    pricing.spot.push(
      { type: 'm7g.large', az: 'us-east-1a', price: '0.0350', at: '2025-01-15T08:00:00Z' },
      { type: 'm7g.large', az: 'us-east-1b', price: '0.0300', at: '2025-01-15T08:00:00Z' },
    );
    const { code, stdout } = await run(NAME, '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.source).toBe('live');
    expect(doc.resources.flatMap((r: ResourceJson) => r.costComponents.filter((c) => c.priceNotFound).map((c) => `${r.name}: ${c.name}`))).toEqual([]);
    const host = doc.resources.find((r: ResourceJson) => r.name === 'Host i-ai').costComponents[0];
    expect(host).toMatchObject({ name: 'Instance usage (Linux, spot, m7g.large)', price: '0.035', monthlyCost: '25.55', note: 'spot price now in us-east-1a' });
    // The offline rows, with the host at its spot price instead of its on-demand price.
    const rows = handRows();
    for (const r of rows.slice(1)) expect({ row: `${r.resource} ${r.component}`, monthly: found(doc, r) }).toEqual({ row: `${r.resource} ${r.component}`, monthly: dollars(r.monthly) });
    const total = rows.slice(1).reduce((sum, r) => sum + r.monthly, 0n) + cost('0.035', HOURS);
    expect(doc.totalMonthlyCost).toBe(dollars(total));
    expect(doc.monthlySavings).toBe(dollars(cost(price('ec2:m7g.large'), HOURS) - cost('0.035', HOURS)));
  });

  it('the table: each row labelled, the OFFLINE label, the pending task and the scaling policies said', async () => {
    const { code, stdout } = await run(NAME, '--offline');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Cost of big in us-east-1 \(OFFLINE ESTIMATE\)/);
    expect(row(stdout, 'Fargate vCPU (FARGATE_SPOT')).toMatch(/Fargate vCPU \(FARGATE_SPOT, Linux\/x86_64, 0\.5 vCPU x 2\)\s+730\s+vCPU-hours\s+\$29\.55$/);
    expect(row(stdout, 'Fargate memory (FARGATE,')).toMatch(/Fargate memory \(FARGATE, Linux\/ARM64, 2 GB\)\s+1,460\s+GB-hours\s+\$5\.20$/);
    expect(row(stdout, 'DB instance')).toMatch(/DB instance \(PostgreSQL, db\.t4g\.micro, Single-AZ\)\s+730\s+hours\s+\$11\.68$/);
    expect(row(stdout, 'Cache nodes')).toMatch(/Cache nodes \(Valkey, cache\.t4g\.micro\)\s+730\s+hours\s+\$9\.34$/);
    expect(row(stdout, 'Backup storage')).toMatch(/GB-months\s+depends on usage: \$0\.095 per GB-month$/);
    expect(stdout).toMatch(/Monthly total \(730 h\)\s+\$179\.76/);
    expect(stdout).toMatch(/Stopped\s+\$43\.65\/month/);
    expect(stdout).toContain('n8n-worker: 1 pending task not counted (Fargate bills a task from when it starts pulling its image)');
    expect(stdout).toContain('2 scaling policies: the alarms Application Auto Scaling creates for target tracking are not priced here');
  });

  it('Multi-AZ database stopped, workers held at 0, a mixed strategy, a missing queue, metrics not listable: said, never guessed', async () => {
    database = { ...database, MultiAZ: true, DBInstanceStatus: 'stopped' };
    services = [
      { ...services[0], providers: ['FARGATE', 'FARGATE_SPOT'] },
      { ...services[1], running: 0, desired: 0, pending: 0 },
    ];
    queue = undefined;
    cloudWatch.on(ListMetricsCommand).rejects(awsError('AccessDenied', 'User is not authorized to perform: cloudwatch:ListMetrics\nmore'));
    const { code, stdout } = await run(NAME, '--offline', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    const components = (name: RegExp) => doc.resources.find((r: ResourceJson) => name.test(r.name)).costComponents as Component[];
    expect(components(/^Database /).map((c) => [c.name, c.monthlyCost])).toEqual([
      ['Storage (gp3, 20 GB x 2: the standby has its own)', dollars(cost(price('rds:gp3:storage'), 40n))],
      ['Backup storage', null],
    ]);
    expect(components(/^ECS service n8n-main/)[0].name).toBe('Fargate vCPU (FARGATE, Linux/ARM64, 0.5 vCPU)');
    expect(components(/^ECS service n8n-worker \(0 tasks/).map((c) => c.monthlyCost)).toEqual(['0', '0', '0']);
    expect(doc.resources.some((r: ResourceJson) => r.name.startsWith('Cache '))).toBe(false);
    expect(components(/^Custom metrics /)[0]).toMatchObject({ name: 'Custom metrics (BacklogPerWorker, WaitingJobs)' });
    expect(doc.notes).toEqual(expect.arrayContaining([
      'n8n-main: a strategy mixing FARGATE and FARGATE_SPOT is priced as on-demand Fargate (the most it costs)',
      'RDS instance geusemaker-big is stopped: no instance hours while it is stopped (its storage still costs; RDS starts it again after 7 days)',
      'replication group geusemaker-big (from GeuseScaleData-big) was not found',
      'cannot list the published metrics (User is not authorized to perform: cloudwatch:ListMetrics): priced as the two the backlog function publishes',
    ]));
  });

  it('template and live agree: the same facts give the same rows, labels and monthly costs', async () => {
    const file = path.join(cacheDir, 'GeuseScale-hand.template.json');
    fs.writeFileSync(file, JSON.stringify({
      Resources: {
        WorkerTask: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: '512', Memory: '2048', RequiresCompatibilities: ['FARGATE'], RuntimePlatform: { CpuArchitecture: 'X86_64' } } },
        Workers: {
          Type: 'AWS::ECS::Service',
          Properties: { TaskDefinition: { Ref: 'WorkerTask' }, DesiredCount: 2, CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }], NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } } },
        },
        Db: { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'postgres', DBInstanceClass: 'db.t4g.micro', MultiAZ: false, StorageType: 'gp3', AllocatedStorage: '20' } },
        Queue: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: { Engine: 'valkey', CacheNodeType: 'cache.t4g.micro', NumCacheClusters: 1 } },
      },
    }));
    const template = JSON.parse((await run('-t', file, '--region', REGION, '--offline', '--json')).stdout);
    const live = JSON.parse((await run(NAME, '--offline', '--json')).stdout);
    const rowsOf = (doc: { resources: ResourceJson[] }, name: RegExp) =>
      doc.resources.find((r) => name.test(r.name))!.costComponents.map((c) => ({ name: c.name, monthlyCost: c.monthlyCost, usageBased: c.usageBased }));
    expect(rowsOf(live, /^ECS service n8n-worker/)).toEqual(rowsOf(template, /^ECS service Workers/));
    expect(rowsOf(live, /^Database /)).toEqual(rowsOf(template, /^Database /));
    expect(rowsOf(live, /^Cache /)).toEqual(rowsOf(template, /^Cache /));
  });

  it('the compute stack gone: the database, the queue and the secrets of GeuseScaleData still bill, no ECS call', async () => {
    aws.stacks.splice(aws.stacks.findIndex((s) => s.StackName === `GeuseScale-${NAME}`), 1);
    const { code, stdout } = await run(NAME, '--offline', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc.resources.map((r: ResourceJson) => r.name)).toEqual(['Database geusemaker-big', 'Cache geusemaker-big', 'File system fs-big', 'Secrets (5)']);
    const expected = cost(price('rds:postgres:db.t4g.micro'), HOURS) + cost(price('rds:gp3:storage'), 20n) + cost(price('elasticache:valkey:cache.t4g.micro'), HOURS) + cost(price('efs:standard'), 2n) + cost(price('secrets:secret'), 5n);
    expect({ total: doc.totalMonthlyCost, stopped: doc.stoppedMonthlyCost }).toEqual({ total: dollars(expected), stopped: dollars(expected) });
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(0);
    expect(cloudWatch.commandCalls(ListMetricsCommand)).toHaveLength(0);
  });

  it('an ECS error other than a missing cluster: one line, exit 1', async () => {
    ecs.on(DescribeServicesCommand).rejects(awsError('AccessDeniedException', 'User is not authorized to perform: ecs:DescribeServices'));
    const { code, stderr } = await run(NAME, '--offline');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^gm-ops: .*ecs:DescribeServices/);
  });
});
