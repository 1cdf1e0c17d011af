/**
 * What a running scale deployment adds to the cost inventory of live.ts (which already prices its AI host,
 * load balancer, CloudFront, file system, NAT gateways and the secrets of GeuseData-<name>): the ECS services at
 * their running task counts (DescribeServices, DescribeTaskDefinition), the RDS instance (DescribeDBInstances),
 * the Valkey nodes (DescribeReplicationGroups), the hosted zones and alarms of the scale stacks, the backlog
 * function's custom metrics (ListMetrics), and the secrets of GeuseScaleData-<name>. Rows are built by
 * scale-parts.ts, as for a template: the same keys and labels.
 *
 * ECS, RDS and ElastiCache are asked through their SDK clients, created on first use with the CloudFormation
 * client's region, credentials, attempts and request handler (its connect and request timeouts).
 */
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import type { DescribeServicesCommandOutput, DescribeTaskDefinitionCommandOutput, Service, TaskDefinition } from '@aws-sdk/client-ecs';
import type { DBInstance, DescribeDBInstancesCommandOutput } from '@aws-sdk/client-rds';
import type { DescribeReplicationGroupsCommandOutput, ReplicationGroup } from '@aws-sdk/client-elasticache';
import type { AwsClients } from '../aws/clients';
import { hasErrorName } from '../aws/classify-error';
import { SCALE_BACKLOG_METRIC, SCALE_OUTPUT_KEYS, scaleDataStackName, type ScaleService } from '../contract';
import { OpsError } from '../errors';
import { SCALE_SDK_PACKAGES } from '../scale/api';
import { layoutOf, readStack, type RawStack, type ScaleLayout } from '../scale/stacks';
import type { FargateArchitecture } from './catalogue';
import type { CostResource } from './model';
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
} from './scale-parts';

/** A stack resource as live.ts lists it (ListStackResources). */
export interface ScaleStackResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly status?: string;
}

export interface ScaleCostInput {
  readonly name: string;
  /** GeuseScale-<name> as findDeployment read it, and its resources; undefined for a deployment of another tier. */
  readonly compute?: RawStack;
  readonly computeResources: readonly ScaleStackResource[];
  readonly listResources: (stackName: string) => Promise<ScaleStackResource[]>;
}

export interface ScaleCostParts {
  readonly resources: CostResource[];
  readonly notes: string[];
  /** Resources of GeuseScaleData-<name> (its secrets are counted with the deployment's). */
  readonly dataResources: ScaleStackResource[];
  /** Secret ARNs the scale data stack outputs (the database user's, the queue's auth token). */
  readonly secretArns: string[];
}

type SdkModule = Record<string, new (...args: unknown[]) => unknown>;
interface SdkClient {
  send(command: unknown): Promise<unknown>;
}

/** ECS, RDS and ElastiCache calls, each client created once, bounded as the CloudFormation client is. */
function sdkCaller(clients: AwsClients) {
  const config = clients.cloudFormation.config as unknown as { region: unknown; credentials: unknown; maxAttempts?: unknown; requestHandler?: unknown };
  const cache = new Map<string, SdkClient>();
  return async <T>(pkg: string, clientName: string, commandName: string, input: unknown): Promise<T> => {
    let sdk: SdkModule;
    try {
      sdk = require(pkg) as SdkModule;
    } catch {
      throw new OpsError(`gm-ops cannot price a scale deployment: the AWS SDK package ${pkg} is not installed`, `install it in ops/ (npm install ${SCALE_SDK_PACKAGES.join(' ')})`);
    }
    let client = cache.get(pkg);
    if (!client) {
      client = new sdk[clientName]({
        region: config.region,
        credentials: config.credentials,
        maxAttempts: config.maxAttempts,
        ...(config.requestHandler ? { requestHandler: config.requestHandler } : {}),
      }) as SdkClient;
      cache.set(pkg, client);
    }
    return (await client.send(new sdk[commandName](input))) as T;
  };
}

const present = (r: ScaleStackResource) => r.status !== 'DELETE_COMPLETE' && r.status !== 'CREATE_FAILED';
const positive = (text: string | undefined): number | undefined => (text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined);

/** FARGATE / FARGATE_SPOT of a service, from its capacity provider strategy (else its launch type). */
function capacityOf(service: Service): { fargate: boolean; spot: boolean; mixed: boolean } {
  const providers = (service.capacityProviderStrategy ?? []).filter((s) => (s.weight ?? 0) > 0 || (s.base ?? 0) > 0).map((s) => s.capacityProvider ?? '');
  if (providers.length === 0) return { fargate: service.launchType === 'FARGATE', spot: false, mixed: false };
  const fargate = providers.every((p) => p === 'FARGATE' || p === 'FARGATE_SPOT');
  const mixed = providers.includes('FARGATE') && providers.includes('FARGATE_SPOT');
  return { fargate, spot: fargate && !mixed && providers.every((p) => p === 'FARGATE_SPOT'), mixed };
}

async function serviceResources(call: ReturnType<typeof sdkCaller>, layout: ScaleLayout, stack: string, notes: string[]): Promise<CostResource[]> {
  const wanted = (['main', 'worker', 'webhook'] as const)
    .map((process) => ({ process, serviceName: layout.services[process] }))
    .filter((s): s is { process: ScaleService; serviceName: string } => s.serviceName !== undefined);
  if (wanted.length === 0) {
    notes.push(`${stack} names no ECS service (${SCALE_OUTPUT_KEYS.mainServiceName}, ${SCALE_OUTPUT_KEYS.workerServiceName}): the n8n tasks are not priced`);
    return [];
  }
  let described: DescribeServicesCommandOutput;
  try {
    described = await call<DescribeServicesCommandOutput>('@aws-sdk/client-ecs', 'ECSClient', 'DescribeServicesCommand', { cluster: layout.cluster, services: wanted.map((s) => s.serviceName) });
  } catch (error) {
    if (!hasErrorName(error, 'ClusterNotFoundException')) throw error;
    notes.push(`ECS cluster ${layout.cluster} was not found: no n8n task is charged`);
    return [];
  }
  const definitions = new Map<string, TaskDefinition | undefined>();
  const resources: CostResource[] = [];
  for (const { process, serviceName } of wanted) {
    const service = described.services?.find((s) => s.serviceName === serviceName || s.serviceArn?.endsWith(`/${serviceName}`));
    if (!service || service.status === 'INACTIVE') {
      notes.push(`ECS service ${serviceName} (${process}) was not found in cluster ${layout.cluster}: not priced`);
      continue;
    }
    const capacity = capacityOf(service);
    if (!capacity.fargate) {
      notes.push(`${serviceName}: an ECS service not on Fargate is not priced`);
      continue;
    }
    const arn = service.taskDefinition;
    if (arn && !definitions.has(arn)) {
      const answer = await call<DescribeTaskDefinitionCommandOutput>('@aws-sdk/client-ecs', 'ECSClient', 'DescribeTaskDefinitionCommand', { taskDefinition: arn });
      definitions.set(arn, answer.taskDefinition);
    }
    const task = arn ? definitions.get(arn) : undefined;
    const cpu = positive(task?.cpu);
    const memory = positive(task?.memory);
    if (cpu === undefined || memory === undefined) {
      notes.push(`${serviceName}: its task definition ${arn ?? '(none)'} has no task-level cpu and memory: not priced`);
      continue;
    }
    if (capacity.mixed) notes.push(`${serviceName}: a strategy mixing FARGATE and FARGATE_SPOT is priced as on-demand Fargate (the most it costs)`);
    const architecture: FargateArchitecture = task?.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'arm' : 'x86';
    const count = service.runningCount ?? 0;
    const desired = service.desiredCount ?? 0;
    const pending = service.pendingCount ?? 0;
    if (pending > 0) notes.push(`${serviceName}: ${pending} pending task${pending === 1 ? '' : 's'} not counted (Fargate bills a task from when it starts pulling its image)`);
    const ephemeral = task?.ephemeralStorage?.sizeInGiB;
    if (ephemeral !== undefined && ephemeral > 20) notes.push(`${serviceName}: ephemeral storage above the 20 GB included (${ephemeral} GB a task) is not priced by gm-ops`);
    const tasks = {
      cpu,
      memory,
      architecture,
      spot: capacity.spot,
      count,
      publicIp: service.networkConfiguration?.awsvpcConfiguration?.assignPublicIp === 'ENABLED',
    };
    const bounds = process === 'worker' && layout.workerMin !== undefined && layout.workerMax !== undefined ? `; scales ${layout.workerMin} to ${layout.workerMax}` : '';
    resources.push({
      name: fargateServiceName(serviceName, tasks, `${process}, running now; desired ${desired}${bounds}`),
      type: 'AWS::ECS::Service',
      id: service.serviceArn ?? serviceName,
      stack,
      parts: fargateTaskParts(tasks),
    });
  }
  return resources;
}

async function databaseResource(call: ReturnType<typeof sdkCaller>, layout: ScaleLayout, notes: string[]): Promise<CostResource | undefined> {
  const id = layout.databaseId;
  if (!id) {
    notes.push(layout.data ? `${layout.data.stackName} has no ${SCALE_OUTPUT_KEYS.databaseInstanceId} output: the database is not priced` : 'no scale data stack: no database is charged');
    return undefined;
  }
  let instance: DBInstance | undefined;
  try {
    instance = (await call<DescribeDBInstancesCommandOutput>('@aws-sdk/client-rds', 'RDSClient', 'DescribeDBInstancesCommand', { DBInstanceIdentifier: id })).DBInstances?.[0];
  } catch (error) {
    if (!hasErrorName(error, 'DBInstanceNotFoundFault')) throw error;
  }
  if (!instance) {
    notes.push(`RDS instance ${id} (from ${layout.data?.stackName}) was not found`);
    return undefined;
  }
  const engine = instance.Engine ?? '';
  const instanceClass = instance.DBInstanceClass ?? '';
  if (engine !== 'postgres' || !RDS_INSTANCE_CLASS.test(instanceClass)) {
    notes.push(`${id}: only RDS PostgreSQL is priced by gm-ops (${engine || 'engine unknown'}, ${instanceClass || 'class unknown'})`);
    return undefined;
  }
  const status = instance.DBInstanceStatus ?? 'unknown';
  const running = status !== 'stopped' && status !== 'stopping';
  if (!running) notes.push(`RDS instance ${id} is ${status}: no instance hours while it is stopped (its storage still costs; RDS starts it again after 7 days)`);
  const parts = databaseParts(
    {
      instanceClass,
      multiAz: instance.MultiAZ === true,
      storageType: instance.StorageType ?? 'gp2',
      storageGb: instance.AllocatedStorage,
      maxStorageGb: instance.MaxAllocatedStorage,
      retentionDays: instance.BackupRetentionPeriod,
      running,
    },
    id,
    notes,
  );
  return { name: `Database ${id}`, type: 'AWS::RDS::DBInstance', id: instance.DBInstanceArn ?? id, stack: layout.data?.stackName, parts };
}

async function cacheResource(call: ReturnType<typeof sdkCaller>, layout: ScaleLayout, notes: string[]): Promise<CostResource | undefined> {
  const id = layout.queueId;
  if (!id) {
    notes.push(layout.data ? `${layout.data.stackName} has no ${SCALE_OUTPUT_KEYS.queueReplicationGroupId} output: the queue is not priced` : 'no scale data stack: no queue is charged');
    return undefined;
  }
  let group: ReplicationGroup | undefined;
  try {
    group = (await call<DescribeReplicationGroupsCommandOutput>('@aws-sdk/client-elasticache', 'ElastiCacheClient', 'DescribeReplicationGroupsCommand', { ReplicationGroupId: id })).ReplicationGroups?.[0];
  } catch (error) {
    if (!hasErrorName(error, 'ReplicationGroupNotFoundFault')) throw error;
  }
  if (!group) {
    notes.push(`replication group ${id} (from ${layout.data?.stackName}) was not found`);
    return undefined;
  }
  const engine = (group.Engine ?? 'redis').toLowerCase();
  const nodeType = group.CacheNodeType ?? '';
  if ((engine !== 'valkey' && engine !== 'redis') || !CACHE_NODE_TYPE.test(nodeType)) {
    notes.push(`${id}: only node-based Valkey and Redis OSS are priced by gm-ops (${engine}, ${nodeType || 'node type unknown'})`);
    return undefined;
  }
  // Each member cluster of a replication group is one node (the primary and its replicas).
  const members = group.MemberClusters?.length ?? 0;
  const nodes = members > 0 ? members : (group.NodeGroups ?? []).reduce((n, g) => n + (g.NodeGroupMembers?.length ?? 0), 0) || 1;
  return { name: `Cache ${id}`, type: 'AWS::ElastiCache::ReplicationGroup', id: group.ARN ?? id, stack: layout.data?.stackName, parts: [cacheNodesPart(engine, nodeType, nodes)] };
}

/** The metric names published under the backlog namespace for this deployment (ListMetrics: the last two weeks). */
async function publishedMetrics(clients: AwsClients, name: string): Promise<string[]> {
  const names = new Set<string>();
  let nextToken: string | undefined;
  do {
    const page = await clients.cloudWatch.send(
      new ListMetricsCommand({ Namespace: SCALE_BACKLOG_METRIC.namespace, Dimensions: [{ Name: SCALE_BACKLOG_METRIC.dimension, Value: name }], NextToken: nextToken }),
    );
    for (const metric of page?.Metrics ?? []) if (metric.MetricName) names.add(metric.MetricName);
    nextToken = page?.NextToken;
  } while (nextToken);
  const order: readonly string[] = PUBLISHED_METRICS[SCALE_BACKLOG_METRIC.namespace];
  return [...names].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

const oneLine = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/**
 * The scale tier's part of a deployment's cost. GeuseScaleData-<name> is read whatever the compute stack: its
 * database and queue bill while it exists (a deployment migrated back, or whose compute stack is gone).
 */
export async function scaleCostParts(clients: AwsClients, input: ScaleCostInput): Promise<ScaleCostParts> {
  const { name, compute } = input;
  const computeResources = compute ? input.computeResources : [];
  const data = await readStack(clients.cloudFormation, scaleDataStackName(name));
  if (!compute && !data) return { resources: [], notes: [], dataResources: [], secretArns: [] };
  const notes: string[] = [];
  const call = sdkCaller(clients);
  const layout = layoutOf(name, compute, data);
  const dataResources = data ? await input.listResources(data.stackName) : [];
  const resources: CostResource[] = compute ? await serviceResources(call, layout, compute.stackName, notes) : [];
  const database = await databaseResource(call, layout, notes);
  if (database) resources.push(database);
  const cache = await cacheResource(call, layout, notes);
  if (cache) resources.push(cache);

  const stackOf = new Map<ScaleStackResource, string>([
    ...computeResources.map((r): [ScaleStackResource, string] => [r, compute!.stackName]),
    ...dataResources.map((r): [ScaleStackResource, string] => [r, data!.stackName]),
  ]);
  const all = [...stackOf.keys()].filter(present);
  for (const zone of all.filter((r) => r.type === 'AWS::Route53::HostedZone')) {
    resources.push({ name: `Hosted zone ${zone.physicalId ?? zone.logicalId}`, type: zone.type, id: zone.physicalId, stack: stackOf.get(zone), parts: [HOSTED_ZONE_PART] });
  }

  // The backlog function's custom metrics: those it published (billed per metric-month while published).
  const publisher = computeResources.find((r) => r.type === 'AWS::Lambda::Function' && present(r));
  let metrics: string[] = [];
  if (compute) {
    try {
      metrics = await publishedMetrics(clients, name);
      if (metrics.length === 0 && publisher) notes.push(`no ${SCALE_BACKLOG_METRIC.namespace} metric of ${name} published in the last two weeks: no custom metric charge`);
    } catch (error) {
      if (publisher) {
        metrics = [...PUBLISHED_METRICS[SCALE_BACKLOG_METRIC.namespace]];
        notes.push(`cannot list the published metrics (${oneLine(error)}): priced as the two the backlog function publishes`);
      }
    }
  }
  if (compute && metrics.length > 0) {
    resources.push({
      name: `Custom metrics ${SCALE_BACKLOG_METRIC.namespace} (Deployment=${name})`,
      type: 'AWS::CloudWatch::Metric',
      id: publisher?.physicalId,
      stack: compute.stackName,
      parts: [customMetricsPart(metrics)],
    });
  }

  const alarms = all.filter((r) => r.type === 'AWS::CloudWatch::Alarm');
  if (alarms.length > 0) {
    const stacks = [...new Set(alarms.map((a) => stackOf.get(a)))];
    resources.push({
      name: `CloudWatch alarms (${alarms.length})`,
      type: 'AWS::CloudWatch::Alarm',
      id: alarms.map((a) => a.physicalId ?? a.logicalId).join(','),
      stack: stacks.length === 1 ? stacks[0] : undefined,
      parts: [alarmsPart(alarms.length)],
    });
  }
  const targetTracking = all.filter((r) => r.type === 'AWS::ApplicationAutoScaling::ScalingPolicy').length;
  if (targetTracking > 0) {
    notes.push(`${targetTracking} scaling polic${targetTracking === 1 ? 'y' : 'ies'}: the alarms Application Auto Scaling creates for target tracking are not priced here`);
  }

  const secretArns = [data?.outputs[SCALE_OUTPUT_KEYS.databaseSecretArn], data?.outputs[SCALE_OUTPUT_KEYS.queueAuthSecretArn]].filter((arn): arn is string => Boolean(arn && arn.startsWith('arn:')));
  return { resources, notes, dataResources, secretArns };
}
