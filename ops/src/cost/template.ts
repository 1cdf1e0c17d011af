/**
 * A synthesized CloudFormation template (cdk.out/<stack>.template.json) as a cost inventory, before
 * anything is deployed: auto scaling groups (MixedInstancesPolicy overrides, spot/on-demand
 * distribution) and their launch templates (root volumes, public IPv4), instances, load balancers,
 * CloudFront, NAT gateways, Elastic IPs, EFS file systems (0 GB until used), Secrets Manager secrets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageProblem } from '../errors';
import { ebsStorageKey, type FargateArchitecture } from './catalogue';
import { Decimal } from './decimal';
import { CLOUDFRONT_FUNCTION_INVOCATIONS, type CostPart, type CostResource, type HostSchedule, type InstancePart, type Market, type ScheduledActionInfo } from './model';
import {
  CACHE_NODE_TYPE,
  HOSTED_ZONE_PART,
  PUBLISHED_METRICS,
  RDS_INSTANCE_CLASS,
  alarmsPart,
  cacheNodesPart,
  customMetricsPart,
  databaseParts,
  fargateServiceName,
  fargateTaskParts,
  secretsParts,
} from './scale-parts';

type Json = unknown;
interface Resource {
  readonly Type?: string;
  readonly Properties?: Record<string, Json>;
}
interface Template {
  readonly Resources?: Record<string, Resource>;
  readonly Parameters?: Record<string, { Type?: string; Default?: Json }>;
}

export interface TemplateInventory {
  readonly file: string;
  readonly stack: string;
  readonly resources: CostResource[];
  readonly notPriced: Map<string, number>;
  readonly notes: string[];
  /** Its AWS::AutoScaling::ScheduledAction resources (start/stop of the host), when it has any. */
  readonly schedule?: HostSchedule;
}

/** Types that never carry a charge of their own. */
const FREE_TYPES = new Set([
  'AWS::CDK::Metadata',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::InstanceProfile',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::LaunchTemplate',
  'AWS::AutoScaling::LaunchConfiguration',
  'AWS::AutoScaling::LifecycleHook',
  'AWS::EFS::MountTarget',
  'AWS::EFS::AccessPoint',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::CloudFormation::WaitConditionHandle',
  'AWS::CloudFormation::WaitCondition',
  'AWS::SSM::Parameter',
  // A VPC origin has no charge of its own: CloudFront bills the requests and data it carries.
  'AWS::CloudFront::VpcOrigin',
  // ECS and Application Auto Scaling have no charge of their own: the tasks (Fargate) are priced by their service.
  'AWS::ECS::Cluster',
  'AWS::ECS::ClusterCapacityProviderAssociations',
  'AWS::ECS::TaskDefinition',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::RDS::DBParameterGroup',
  'AWS::RDS::DBSubnetGroup',
  'AWS::ElastiCache::SubnetGroup',
]);

const HOURLY_ONE = Decimal.of(1);

export function readTemplate(file: string): Template {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageProblem(
      `cannot read the template ${file} (${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message})`,
      'synthesize it first: `npx cdk synth --quiet` writes cdk.out/<stack>.template.json',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageProblem(`${file} is not a JSON template`, 'pass a synthesized template from cdk.out (JSON); YAML templates are not read');
  }
  if (!data || typeof data !== 'object' || typeof (data as Template).Resources !== 'object') {
    throw new UsageProblem(`${file} is not a CloudFormation template (no Resources)`, 'pass cdk.out/<stack>.template.json');
  }
  return data as Template;
}

/** Resolves literals and `Ref`s to parameters with a plain default; undefined for anything computed. */
function resolver(template: Template, region: string) {
  const resolve = (value: Json): Json => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value;
    const entries = Object.entries(value as Record<string, Json>);
    if (entries.length === 1 && entries[0][0] === 'Ref') {
      const name = entries[0][1];
      if (name === 'AWS::Region') return region;
      const parameter = typeof name === 'string' ? template.Parameters?.[name] : undefined;
      if (parameter && !String(parameter.Type ?? '').startsWith('AWS::SSM::')) return resolve(parameter.Default);
      return undefined;
    }
    return undefined;
  };
  return resolve;
}

function asNumber(value: Json): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

function asObject(value: Json): Record<string, Json> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, Json>) : undefined;
}

function refTarget(value: Json): string | undefined {
  const object = asObject(value);
  if (!object) return undefined;
  if (typeof object.Ref === 'string') return object.Ref;
  return undefined;
}

interface LaunchData {
  readonly instanceType?: string;
  readonly market?: Market;
  readonly blockDevices: Record<string, Json>[];
  readonly publicIp: boolean;
}

/** How a template is priced beyond what it says. */
export interface TemplateOptions {
  /**
   * Running tasks of every ECS service that auto scaling sizes (the scale tier's workers), within the scalable
   * target's bounds; by default the service's DesiredCount (the minimum it starts with).
   */
  readonly workers?: number;
}

export function templateInventory(file: string, region: string, options: TemplateOptions = {}): TemplateInventory {
  const template = readTemplate(file);
  const stack = path.basename(file).replace(/\.template\.json$/, '').replace(/\.json$/, '');
  const resolve = resolver(template, region);
  const all = template.Resources ?? {};
  const resources: CostResource[] = [];
  const notPriced = new Map<string, number>();
  const notes: string[] = [];
  const skip = (type: string) => notPriced.set(type, (notPriced.get(type) ?? 0) + 1);

  const launchData = (logicalId: string | undefined): LaunchData | undefined => {
    const resource = logicalId ? all[logicalId] : undefined;
    if (!resource) return undefined;
    if (resource.Type === 'AWS::EC2::LaunchTemplate') {
      const data = asObject(resource.Properties?.LaunchTemplateData) ?? {};
      const market = asObject(data.InstanceMarketOptions);
      const interfaces = Array.isArray(data.NetworkInterfaces) ? data.NetworkInterfaces.map(asObject) : [];
      return {
        instanceType: typeof resolve(data.InstanceType) === 'string' ? (resolve(data.InstanceType) as string) : undefined,
        market: market && resolve(market.MarketType) === 'spot' ? 'spot' : undefined,
        blockDevices: (Array.isArray(data.BlockDeviceMappings) ? data.BlockDeviceMappings : []).map(asObject).filter((m): m is Record<string, Json> => !!m),
        publicIp: interfaces.some((i) => i && resolve(i.AssociatePublicIpAddress) === true && (asNumber(i.DeviceIndex) ?? 0) === 0),
      };
    }
    if (resource.Type === 'AWS::AutoScaling::LaunchConfiguration') {
      const p = resource.Properties ?? {};
      return {
        instanceType: typeof resolve(p.InstanceType) === 'string' ? (resolve(p.InstanceType) as string) : undefined,
        market: resolve(p.SpotPrice) !== undefined ? 'spot' : undefined,
        blockDevices: (Array.isArray(p.BlockDeviceMappings) ? p.BlockDeviceMappings : []).map(asObject).filter((m): m is Record<string, Json> => !!m),
        publicIp: resolve(p.AssociatePublicIpAddress) === true,
      };
    }
    return undefined;
  };

  /**
   * Root and data volumes of `count` instances. A volume deleted on termination (the default of a launch
   * template's root volume, and what GeuseMaker sets) exists only while its host does.
   */
  const volumeParts = (devices: Record<string, Json>[], count: number, label: string): CostPart[] => {
    const parts: CostPart[] = [];
    for (const device of devices) {
      const ebs = asObject(device.Ebs);
      if (!ebs) continue;
      const name = typeof device.DeviceName === 'string' ? device.DeviceName : 'volume';
      const volumeType = String(resolve(ebs.VolumeType) ?? 'gp2');
      const size = asNumber(resolve(ebs.VolumeSize));
      const withHost = resolve(ebs.DeleteOnTermination) !== false && resolve(ebs.DeleteOnTermination) !== 'false';
      if (size === undefined) {
        notes.push(`${label}: the size of ${name} comes from its AMI snapshot and is not priced`);
        continue;
      }
      parts.push({
        kind: 'fixed',
        key: ebsStorageKey(volumeType),
        name: `Storage (${volumeType}, ${name}, ${size} GB${count > 1 ? ` x ${count}` : ''})`,
        monthlyQuantity: Decimal.of(size * count),
        withHost,
      });
      if (volumeType === 'gp3') {
        const iops = asNumber(resolve(ebs.Iops));
        const throughput = asNumber(resolve(ebs.Throughput));
        if (iops !== undefined && iops > 3000) {
          parts.push({ kind: 'fixed', key: 'ebs:gp3:iops', name: `Provisioned IOPS above 3000 (${name})`, monthlyQuantity: Decimal.of((iops - 3000) * count), withHost });
        }
        if (throughput !== undefined && throughput > 125) {
          parts.push({ kind: 'fixed', key: 'ebs:gp3:throughput', name: `Throughput above 125 MiB/s (${name})`, monthlyQuantity: Decimal.of((throughput - 125) * count), withHost });
        }
      }
    }
    return parts;
  };

  /** The scalable target (min, max) whose ResourceId names a service's logical id. */
  const scalingBounds = (serviceId: string): { min?: number; max?: number } | undefined => {
    for (const resource of Object.values(all)) {
      if (resource.Type !== 'AWS::ApplicationAutoScaling::ScalableTarget') continue;
      const target = resource.Properties ?? {};
      if (!JSON.stringify(target.ResourceId ?? '').includes(`"${serviceId}"`)) continue;
      return { min: asNumber(resolve(target.MinCapacity)), max: asNumber(resolve(target.MaxCapacity)) };
    }
    return undefined;
  };

  /** An ECS service on Fargate: vCPU-hours and GB-hours of its running tasks, and one public IPv4 per task. */
  const ecsService = (logicalId: string, p: Record<string, Json>): CostResource | undefined => {
    const taskDefinition = all[refTarget(p.TaskDefinition) ?? ''];
    const task = taskDefinition?.Type === 'AWS::ECS::TaskDefinition' ? taskDefinition.Properties ?? {} : undefined;
    const strategy = (Array.isArray(p.CapacityProviderStrategy) ? p.CapacityProviderStrategy : []).map(asObject).filter((o): o is Record<string, Json> => !!o);
    const providers = strategy.filter((o) => (asNumber(resolve(o.Weight)) ?? 0) > 0 || (asNumber(resolve(o.Base)) ?? 0) > 0).map((o) => String(resolve(o.CapacityProvider)));
    const launchType = resolve(p.LaunchType);
    const fargate = providers.length > 0 ? providers.every((c) => c === 'FARGATE' || c === 'FARGATE_SPOT') : launchType === 'FARGATE' || (launchType === undefined && Array.isArray(task?.RequiresCompatibilities) && task.RequiresCompatibilities.includes('FARGATE'));
    if (!fargate || !task) {
      notes.push(`${logicalId}: an ECS service not on Fargate (or without its task definition) is not priced`);
      skip('AWS::ECS::Service');
      return undefined;
    }
    const cpu = asNumber(resolve(task.Cpu));
    const memory = asNumber(resolve(task.Memory));
    if (cpu === undefined || memory === undefined) {
      notes.push(`${logicalId}: its task size is computed at deploy time and is not priced`);
      skip('AWS::ECS::Service');
      return undefined;
    }
    const platform = asObject(task.RuntimePlatform) ?? {};
    const architecture: FargateArchitecture = resolve(platform.CpuArchitecture) === 'ARM64' ? 'arm' : 'x86';
    const spot = providers.length > 0 && providers.every((c) => c === 'FARGATE_SPOT');
    const mixed = providers.includes('FARGATE') && providers.includes('FARGATE_SPOT');
    if (mixed) notes.push(`${logicalId}: a strategy mixing FARGATE and FARGATE_SPOT is priced as on-demand Fargate (the most it costs)`);
    const bounds = scalingBounds(logicalId);
    // Without a DesiredCount (a scaled service: a deploy keeps its count) it runs at least its minimum.
    const desired = asNumber(resolve(p.DesiredCount)) ?? bounds?.min ?? 1;
    let count = desired;
    let countNote = `desired count ${desired}`;
    if (bounds) {
      const { min = desired, max = desired } = bounds;
      if (options.workers !== undefined) {
        if (options.workers < min || options.workers > max) {
          throw new UsageProblem(`--workers ${options.workers} is outside the scaling bounds of ${logicalId} (${min} to ${max})`, `give a number from ${min} to ${max}`);
        }
        count = options.workers;
        countNote = `priced with ${count} running (--workers); scales ${min} to ${max}`;
      } else {
        countNote = `priced at its desired count ${desired}; scales ${min} to ${max} (--workers N prices N)`;
      }
    }
    const network = asObject(asObject(p.NetworkConfiguration)?.AwsvpcConfiguration) ?? {};
    const tasks = { cpu, memory, architecture, spot, count, publicIp: resolve(network.AssignPublicIp) === 'ENABLED' };
    return {
      name: fargateServiceName(logicalId, tasks, countNote),
      parts: fargateTaskParts(tasks),
      type: 'AWS::ECS::Service',
      id: logicalId,
      stack,
    };
  };

  const secrets: string[] = [];
  const alarms: string[] = [];
  const scheduledActions: ScheduledActionInfo[] = [];
  for (const [logicalId, resource] of Object.entries(all)) {
    const type = resource.Type ?? 'unknown';
    const p = resource.Properties ?? {};
    switch (type) {
      case 'AWS::AutoScaling::AutoScalingGroup': {
        const min = asNumber(resolve(p.MinSize));
        const desired = asNumber(resolve(p.DesiredCapacity)) ?? min;
        if (desired === undefined) {
          notes.push(`${logicalId}: the group's size is computed at deploy time; priced as 1 instance`);
        }
        const count = desired ?? 1;
        const mixed = asObject(p.MixedInstancesPolicy);
        const parts: CostPart[] = [];
        let launch: LaunchData | undefined;
        let types: string[] = [];
        if (mixed) {
          const lt = asObject(mixed.LaunchTemplate) ?? {};
          launch = launchData(refTarget(asObject(lt.LaunchTemplateSpecification)?.LaunchTemplateId));
          types = (Array.isArray(lt.Overrides) ? lt.Overrides : [])
            .map((o) => resolve(asObject(o)?.InstanceType))
            .filter((t): t is string => typeof t === 'string');
          if (types.length === 0 && launch?.instanceType) types = [launch.instanceType];
          const distribution = asObject(mixed.InstancesDistribution) ?? {};
          const base = asNumber(resolve(distribution.OnDemandBaseCapacity)) ?? 0;
          const percent = asNumber(resolve(distribution.OnDemandPercentageAboveBaseCapacity)) ?? 100;
          // Auto Scaling rounds the on-demand share up to whole instances.
          const baseCount = Math.min(count, base);
          const onDemand = baseCount + Math.ceil(((count - baseCount) * percent) / 100);
          const strategy = resolve(distribution.OnDemandAllocationStrategy) === 'lowest-price' ? 'lowest-price' : 'prioritized';
          if (onDemand > 0) parts.push(instances(onDemand, 'on-demand', types, strategy));
          if (count - onDemand > 0) parts.push(instances(count - onDemand, 'spot', types, strategy));
        } else {
          const spec = asObject(p.LaunchTemplate);
          launch = spec ? launchData(refTarget(spec.LaunchTemplateId)) : launchData(refTarget(p.LaunchConfigurationName));
          if (launch?.instanceType) types = [launch.instanceType];
          parts.push(instances(count, launch?.market ?? 'on-demand', types, 'prioritized'));
        }
        if (types.length === 0) notes.push(`${logicalId}: no instance type found in the template`);
        parts.push(...volumeParts(launch?.blockDevices ?? [], count, logicalId));
        if (launch?.publicIp) {
          parts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 address${count > 1 ? ` x ${count}` : ''}`, hourlyQuantity: Decimal.of(count), withHost: true });
        }
        resources.push({ name: `Host ${logicalId}`, type, id: logicalId, stack, parts });
        break;
      }
      case 'AWS::EC2::Instance': {
        const spec = asObject(p.LaunchTemplate);
        const launch = spec ? launchData(refTarget(spec.LaunchTemplateId)) : undefined;
        const instanceType = typeof resolve(p.InstanceType) === 'string' ? (resolve(p.InstanceType) as string) : launch?.instanceType;
        const interfaces = Array.isArray(p.NetworkInterfaces) ? p.NetworkInterfaces.map(asObject) : [];
        const publicIp = interfaces.some((i) => i && resolve(i.AssociatePublicIpAddress) === true) || launch?.publicIp === true;
        const devices = Array.isArray(p.BlockDeviceMappings) ? p.BlockDeviceMappings.map(asObject).filter((m): m is Record<string, Json> => !!m) : (launch?.blockDevices ?? []);
        const parts: CostPart[] = [instances(1, launch?.market ?? 'on-demand', instanceType ? [instanceType] : [], 'prioritized'), ...volumeParts(devices, 1, logicalId)];
        if (publicIp) parts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: 'Public IPv4 address', hourlyQuantity: HOURLY_ONE, withHost: true });
        resources.push({ name: `Instance ${logicalId}`, type, id: logicalId, stack, parts });
        break;
      }
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const lbType = String(resolve(p.Type) ?? 'application');
        if (lbType !== 'application') {
          skip(`${type} (${lbType})`);
          break;
        }
        const parts: CostPart[] = [
          { kind: 'fixed', key: 'elb:alb', name: 'Application load balancer', hourlyQuantity: HOURLY_ONE },
          { kind: 'usage', key: 'elb:alb-lcu', name: 'Load balancer capacity units (LCU)' },
        ];
        const internetFacing = resolve(p.Scheme) !== 'internal';
        const subnets = Array.isArray(p.Subnets) ? p.Subnets.length : Array.isArray(p.SubnetMappings) ? p.SubnetMappings.length : undefined;
        if (internetFacing) {
          if (subnets !== undefined) {
            parts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 addresses (one per AZ, ${subnets})`, hourlyQuantity: Decimal.of(subnets) });
          } else {
            notes.push(`${logicalId}: its subnets are computed at deploy time; its public IPv4 addresses (one per AZ) are not priced`);
          }
        }
        resources.push({ name: `Load balancer ${logicalId}`, type, id: logicalId, stack, parts });
        break;
      }
      case 'AWS::CloudFront::Distribution':
        resources.push({
          name: `CloudFront ${logicalId}`,
          type,
          id: logicalId,
          stack,
          parts: [
            { kind: 'usage', key: 'cloudfront:data-out', name: 'Data transfer out to the internet (US, Europe)' },
            { kind: 'usage', key: 'cloudfront:https-requests', name: 'HTTPS requests (US, Europe)' },
          ],
        });
        break;
      case 'AWS::CloudFront::Function':
        resources.push({ name: `CloudFront Function ${logicalId}`, type, id: logicalId, stack, parts: [CLOUDFRONT_FUNCTION_INVOCATIONS] });
        break;
      case 'AWS::EC2::NatGateway': {
        const parts: CostPart[] = [
          { kind: 'fixed', key: 'nat:hours', name: 'NAT gateway', hourlyQuantity: HOURLY_ONE },
          { kind: 'usage', key: 'nat:data', name: 'Data processed' },
        ];
        resources.push({ name: `NAT gateway ${logicalId}`, type, id: logicalId, stack, parts });
        break;
      }
      case 'AWS::EC2::EIP':
        resources.push({
          name: `Elastic IP ${logicalId}`,
          type,
          id: logicalId,
          stack,
          parts: [{ kind: 'fixed', key: 'vpc:public-ipv4', name: 'Public IPv4 address', hourlyQuantity: HOURLY_ONE }],
        });
        break;
      case 'AWS::EFS::FileSystem': {
        const mode = String(resolve(p.ThroughputMode) ?? 'bursting');
        const parts: CostPart[] = [
          { kind: 'usage', key: 'efs:standard', name: 'Storage (Standard)', note: '0 GB until used: a new file system is billed for what it holds' },
        ];
        if (mode === 'elastic') {
          parts.push({ kind: 'usage', key: 'efs:elastic-read', name: 'Elastic throughput reads' });
          parts.push({ kind: 'usage', key: 'efs:elastic-write', name: 'Elastic throughput writes' });
        } else if (mode === 'provisioned') {
          notes.push(`${logicalId}: provisioned throughput is not priced by gm-ops`);
        }
        resources.push({ name: `File system ${logicalId}`, type, id: logicalId, stack, parts });
        break;
      }
      case 'AWS::SecretsManager::Secret':
        secrets.push(logicalId);
        break;
      case 'AWS::ECS::Service': {
        const service = ecsService(logicalId, p);
        if (service) resources.push(service);
        break;
      }
      case 'AWS::RDS::DBInstance': {
        const instanceClass = resolve(p.DBInstanceClass);
        const engine = String(resolve(p.Engine) ?? '');
        if (typeof instanceClass !== 'string' || !RDS_INSTANCE_CLASS.test(instanceClass) || engine !== 'postgres') {
          notes.push(`${logicalId}: only RDS PostgreSQL with a literal instance class is priced by gm-ops (${engine || 'engine unknown'}, ${String(instanceClass ?? 'class computed')})`);
          skip(type);
          break;
        }
        const parts = databaseParts(
          {
            instanceClass,
            multiAz: resolve(p.MultiAZ) === true || resolve(p.MultiAZ) === 'true',
            storageType: String(resolve(p.StorageType) ?? 'gp2'),
            storageGb: asNumber(resolve(p.AllocatedStorage)),
            maxStorageGb: asNumber(resolve(p.MaxAllocatedStorage)),
            retentionDays: asNumber(resolve(p.BackupRetentionPeriod)),
          },
          logicalId,
          notes,
        );
        resources.push({ name: `Database ${logicalId}`, type, id: logicalId, stack, parts });
        break;
      }
      case 'AWS::ElastiCache::ReplicationGroup':
      case 'AWS::ElastiCache::CacheCluster': {
        const nodeType = resolve(p.CacheNodeType);
        const engine = String(resolve(p.Engine) ?? 'redis').toLowerCase();
        const group = type === 'AWS::ElastiCache::ReplicationGroup';
        const nodes = group
          ? asNumber(resolve(p.NumCacheClusters)) ?? (asNumber(resolve(p.NumNodeGroups)) ?? 1) * ((asNumber(resolve(p.ReplicasPerNodeGroup)) ?? 0) + 1)
          : asNumber(resolve(p.NumCacheNodes)) ?? 1;
        if (typeof nodeType !== 'string' || !CACHE_NODE_TYPE.test(nodeType) || (engine !== 'valkey' && engine !== 'redis')) {
          notes.push(`${logicalId}: only node-based Valkey and Redis OSS with a literal node type are priced by gm-ops`);
          skip(type);
          break;
        }
        resources.push({
          name: `Cache ${logicalId}`,
          type,
          id: logicalId,
          stack,
          parts: [cacheNodesPart(engine, nodeType, nodes)],
        });
        break;
      }
      case 'AWS::Route53::HostedZone':
        resources.push({
          name: `Hosted zone ${logicalId}${Array.isArray(p.VPCs) ? ' (private)' : ''}`,
          type,
          id: logicalId,
          stack,
          parts: [HOSTED_ZONE_PART],
        });
        break;
      case 'AWS::CloudWatch::Alarm':
        alarms.push(logicalId);
        break;
      case 'AWS::Lambda::Function': {
        // No fixed charge of its own (requests and duration: usage, not estimated); a function that publishes the
        // scale tier's backlog metrics makes them exist, and custom metrics are billed per metric-month.
        skip(type);
        const environment = asObject(asObject(p.Environment)?.Variables) ?? {};
        const namespace = resolve(environment.METRIC_NAMESPACE);
        const metrics = typeof namespace === 'string' ? PUBLISHED_METRICS[namespace] : undefined;
        if (metrics) {
          resources.push({
            name: `Custom metrics ${namespace} (published by ${logicalId})`,
            type: 'AWS::CloudWatch::Metric',
            id: logicalId,
            stack,
            parts: [customMetricsPart(metrics)],
          });
        }
        break;
      }
      case 'AWS::AutoScaling::ScheduledAction': {
        // No charge of its own: it starts and stops the host, which the scheduled figure prices.
        const recurrence = resolve(p.Recurrence);
        const timeZone = resolve(p.TimeZone);
        const desired = asNumber(resolve(p.DesiredCapacity)) ?? asNumber(resolve(p.MinSize));
        scheduledActions.push({
          logicalId,
          recurrence: typeof recurrence === 'string' ? recurrence : undefined,
          timeZone: typeof timeZone === 'string' ? timeZone : undefined,
          desiredCapacity: desired,
        });
        break;
      }
      default:
        if (!FREE_TYPES.has(type)) skip(type);
    }
  }
  if (alarms.length > 0) {
    resources.push({
      name: `CloudWatch alarms (${alarms.length})`,
      type: 'AWS::CloudWatch::Alarm',
      id: alarms.join(','),
      stack,
      parts: [alarmsPart(alarms.length)],
    });
  }
  const targetTracking = Object.values(all).filter((r) => r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy' && resolve(r.Properties?.PolicyType) === 'TargetTrackingScaling').length;
  if (targetTracking > 0) {
    notes.push(`${targetTracking} target tracking polic${targetTracking === 1 ? 'y' : 'ies'}: Application Auto Scaling creates its alarms at deploy time; they are not in the template and not priced here`);
  }
  if (secrets.length > 0) {
    resources.push({
      name: `Secrets (${secrets.length})`,
      type: 'AWS::SecretsManager::Secret',
      id: secrets.join(','),
      stack,
      parts: secretsParts(secrets.length),
    });
  }
  return { file, stack, resources, notPriced, notes, ...(scheduledActions.length > 0 ? { schedule: { actions: scheduledActions } } : {}) };
}

function instances(count: number, market: Market, instanceTypes: string[], onDemandStrategy: 'prioritized' | 'lowest-price'): InstancePart {
  return { kind: 'instances', count, market, instanceTypes, onDemandStrategy };
}
