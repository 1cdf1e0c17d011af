/**
 * The live state of a scale deployment: its ECS services and tasks (main, workers, webhook processors), the
 * workers' queue backlog (the metric the backlog function publishes), the database, the queue and the AI host.
 * Every part is read independently: one that cannot be read is reported as unknown with its reason, never hides
 * the others.
 */
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients';
import { hasErrorName } from '../aws/classify-error';
import { SCALE_BACKLOG_METRIC, type ScaleService } from '../contract';
import { resolveHosts, type HostLookup } from '../discovery/hosts';
import { scaleApiOf, type EcsService, type EcsTask } from './api';
import type { ScaleLayout } from './stacks';

export interface ServiceState {
  readonly process: ScaleService;
  readonly serviceName: string;
  /** Undefined when it could not be read (see `problem`). */
  readonly status?: string;
  readonly desired?: number;
  readonly running?: number;
  readonly pending?: number;
  /** The newest deployment's rollout: COMPLETED, IN_PROGRESS, FAILED. */
  readonly rollout?: string;
  readonly rolloutReason?: string;
  /** Running tasks by health (ECS healthStatus from the containers' health checks) and market. */
  readonly tasks?: { readonly running: number; readonly healthy: number; readonly unhealthy: number; readonly spot: number };
  readonly lastEvent?: string;
  readonly problem?: string;
}

export interface ResourceState {
  readonly id?: string;
  readonly status?: string;
  readonly endpoint?: string;
  readonly detail?: string;
  readonly problem?: string;
}

export interface BacklogState {
  /** Waiting jobs in the queue, the newest datum. */
  readonly waiting?: number;
  /** Waiting jobs per running worker (the scaling metric), the newest datum. */
  readonly perWorker?: number;
  /** When the newest datum was published (epoch ms). */
  readonly at?: number;
  readonly problem?: string;
}

export interface ScaleState {
  readonly layout: ScaleLayout;
  readonly services: readonly ServiceState[];
  readonly database: ResourceState;
  readonly queue: ResourceState;
  readonly backlog: BacklogState;
  readonly aiHost?: HostLookup;
  readonly aiHostProblem?: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

async function runningTasks(clients: AwsClients, cluster: string, serviceName: string): Promise<EcsTask[]> {
  const api = scaleApiOf(clients);
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api.listTasks({ cluster, serviceName, desiredStatus: 'RUNNING', nextToken });
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: EcsTask[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const page = await api.describeTasks({ cluster, tasks: arns.slice(i, i + 100) });
    tasks.push(...(page.tasks ?? []));
  }
  return tasks;
}

function serviceState(process: ScaleService, serviceName: string, service: EcsService, tasks: EcsTask[] | undefined, taskProblem?: string): ServiceState {
  const primary = service.deployments?.find((d) => d.status === 'PRIMARY');
  const running = tasks?.filter((t) => t.lastStatus === 'RUNNING') ?? [];
  return {
    process,
    serviceName,
    status: service.status,
    desired: service.desiredCount ?? 0,
    running: service.runningCount ?? 0,
    pending: service.pendingCount ?? 0,
    rollout: primary?.rolloutState,
    rolloutReason: primary?.rolloutStateReason,
    tasks: tasks
      ? {
          running: running.length,
          healthy: running.filter((t) => t.healthStatus === 'HEALTHY').length,
          unhealthy: running.filter((t) => t.healthStatus === 'UNHEALTHY').length,
          spot: running.filter((t) => t.capacityProviderName === 'FARGATE_SPOT').length,
        }
      : undefined,
    lastEvent: service.events?.[0]?.message,
    problem: taskProblem,
  };
}

export async function readServices(clients: AwsClients, layout: ScaleLayout): Promise<ServiceState[]> {
  const wanted = (['main', 'worker', 'webhook'] as const)
    .map((process) => ({ process, serviceName: layout.services[process] }))
    .filter((s): s is { process: ScaleService; serviceName: string } => s.serviceName !== undefined);
  if (wanted.length === 0) return [];
  let described: { services?: EcsService[]; failures?: { arn?: string; reason?: string }[] };
  try {
    described = await scaleApiOf(clients).describeServices({ cluster: layout.cluster, services: wanted.map((s) => s.serviceName) });
  } catch (error) {
    return wanted.map((s) => ({ ...s, problem: `cannot read the ECS service (${message(error)})` }));
  }
  return Promise.all(
    wanted.map(async ({ process, serviceName }) => {
      const service = described.services?.find((s) => s.serviceName === serviceName || s.serviceArn?.endsWith(`/${serviceName}`));
      if (!service) {
        const failure = described.failures?.find((f) => f.arn?.endsWith(`/${serviceName}`));
        return { process, serviceName, problem: `ECS service ${serviceName} not found in cluster ${layout.cluster}${failure?.reason ? ` (${failure.reason})` : ''}` };
      }
      try {
        return serviceState(process, serviceName, service, await runningTasks(clients, layout.cluster, serviceName));
      } catch (error) {
        return serviceState(process, serviceName, service, undefined, `cannot read its tasks (${message(error)})`);
      }
    }),
  );
}

export async function readDatabase(clients: AwsClients, layout: ScaleLayout): Promise<ResourceState> {
  if (!layout.databaseId) return { endpoint: layout.databaseEndpoint, problem: layout.data ? 'the scale data stack has no DatabaseInstanceId output' : 'no scale data stack' };
  try {
    const instance = (await scaleApiOf(clients).describeDBInstances({ DBInstanceIdentifier: layout.databaseId })).DBInstances?.[0];
    if (!instance) return { id: layout.databaseId, problem: `RDS instance ${layout.databaseId} not found` };
    const endpoint = instance.Endpoint?.Address ? `${instance.Endpoint.Address}:${instance.Endpoint.Port ?? 5432}` : layout.databaseEndpoint;
    const detail = [
      `${instance.Engine ?? 'postgres'} ${instance.EngineVersion ?? ''}`.trim(),
      instance.DBInstanceClass,
      instance.MultiAZ ? 'Multi-AZ' : 'single-AZ',
      instance.StorageEncrypted ? 'encrypted' : 'NOT encrypted',
    ]
      .filter(Boolean)
      .join(', ');
    return { id: layout.databaseId, status: instance.DBInstanceStatus, endpoint, detail };
  } catch (error) {
    if (hasErrorName(error, 'DBInstanceNotFoundFault')) return { id: layout.databaseId, problem: `RDS instance ${layout.databaseId} not found` };
    return { id: layout.databaseId, endpoint: layout.databaseEndpoint, problem: `cannot read the database (${message(error)})` };
  }
}

export async function readQueue(clients: AwsClients, layout: ScaleLayout): Promise<ResourceState> {
  if (!layout.queueId) return { endpoint: layout.queueEndpoint, problem: layout.data ? 'the scale data stack has no QueueReplicationGroupId output' : 'no scale data stack' };
  try {
    const group = (await scaleApiOf(clients).describeReplicationGroups({ ReplicationGroupId: layout.queueId })).ReplicationGroups?.[0];
    if (!group) return { id: layout.queueId, problem: `replication group ${layout.queueId} not found` };
    const primary = group.NodeGroups?.[0]?.PrimaryEndpoint;
    const endpoint = primary?.Address ? `${primary.Address}:${primary.Port ?? 6379}` : layout.queueEndpoint;
    const detail = [group.Engine, group.CacheNodeType, group.TransitEncryptionEnabled ? 'TLS' : 'NO TLS', group.AuthTokenEnabled ? 'auth' : 'NO auth']
      .filter(Boolean)
      .join(', ');
    return { id: layout.queueId, status: group.Status, endpoint, detail };
  } catch (error) {
    if (hasErrorName(error, 'ReplicationGroupNotFoundFault')) return { id: layout.queueId, problem: `replication group ${layout.queueId} not found` };
    return { id: layout.queueId, endpoint: layout.queueEndpoint, problem: `cannot read the queue (${message(error)})` };
  }
}

/** The newest backlog data of the last 15 minutes (GetMetricData, one call for both metrics). */
export async function readBacklog(clients: AwsClients, layout: ScaleLayout, now: number): Promise<BacklogState> {
  const dimensions = [{ Name: SCALE_BACKLOG_METRIC.dimension, Value: layout.name }];
  const query = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: { Metric: { Namespace: SCALE_BACKLOG_METRIC.namespace, MetricName: metricName, Dimensions: dimensions }, Period: 60, Stat: 'Maximum' },
    ReturnData: true,
  });
  try {
    const response = await clients.cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - 15 * 60_000),
        EndTime: new Date(now),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [query('waiting', SCALE_BACKLOG_METRIC.waitingJobs), query('perworker', SCALE_BACKLOG_METRIC.backlogPerWorker)],
      }),
    );
    const newest = (id: string) => {
      const result = response.MetricDataResults?.find((r) => r.Id === id);
      return result?.Values?.length ? { value: result.Values[0], at: result.Timestamps?.[0]?.getTime() } : undefined;
    };
    const waiting = newest('waiting');
    const perWorker = newest('perworker');
    if (!waiting && !perWorker) return { problem: 'no backlog published in the last 15 minutes (is the backlog function running?)' };
    return { waiting: waiting?.value, perWorker: perWorker?.value, at: waiting?.at ?? perWorker?.at };
  } catch (error) {
    return { problem: `cannot read the backlog metric (${message(error)})` };
  }
}

export async function readScaleState(clients: AwsClients, layout: ScaleLayout, now: number): Promise<ScaleState> {
  const aiHost = resolveHosts(clients.autoScaling, clients.ec2, [layout.aiHostGroup]).then(
    (lookups) => ({ lookup: lookups.get(layout.aiHostGroup) }),
    (error: unknown) => ({ lookup: undefined, problem: `cannot read the AI host (${message(error)})` }),
  );
  const [services, database, queue, backlog, host] = await Promise.all([
    readServices(clients, layout),
    readDatabase(clients, layout),
    readQueue(clients, layout),
    readBacklog(clients, layout, now),
    aiHost,
  ]);
  return { layout, services, database, queue, backlog, aiHost: host.lookup, aiHostProblem: 'problem' in host ? host.problem : undefined };
}

/** Why a service is not working, or undefined when it has its desired running tasks and they are healthy. */
export function serviceProblem(service: ServiceState): string | undefined {
  if (service.problem && service.tasks === undefined && service.desired === undefined) return service.problem;
  if (service.status && service.status !== 'ACTIVE') return `${service.serviceName} is ${service.status}`;
  const desired = service.desired ?? 0;
  const running = service.running ?? 0;
  if (service.process === 'main' && desired < 1) return 'main has no desired task (held at 0)';
  if (running < desired) return `${running} of ${desired} tasks running`;
  if (service.rollout === 'FAILED') return `its deployment failed${service.rolloutReason ? `: ${service.rolloutReason}` : ''}`;
  if (service.tasks && service.tasks.unhealthy > 0) return `${service.tasks.unhealthy} task${service.tasks.unhealthy === 1 ? '' : 's'} unhealthy`;
  if (service.tasks && service.tasks.healthy < Math.min(desired, service.tasks.running)) {
    return `${service.tasks.running - service.tasks.healthy} of ${service.tasks.running} tasks not ready yet`;
  }
  return service.problem;
}

/** Database and queue: working when available. */
export function resourceProblem(resource: ResourceState, what: string): string | undefined {
  if (resource.problem) return resource.problem;
  if (resource.status !== 'available') return `${what} is ${resource.status ?? 'unknown'}`;
  return undefined;
}
