/**
 * The AWS APIs of a scale deployment behind gm-ops's ScaleApi (ops/src/scale/api.ts), answering as the services do:
 * - ECS (DescribeServices, ListTasks, DescribeTasks, UpdateService): services with desired, running (defaults to
 *   desired: Fargate got its tasks), ready (healthy) tasks, market, rollout; ClusterNotFoundException for another
 *   cluster, ServiceNotFoundException / ServiceNotActiveException on UpdateService, failures MISSING in
 *   DescribeServices and DescribeTasks, task ARNs with 32-hex task ids as ECS makes them, pages of 100.
 * - Application Auto Scaling (RegisterScalableTarget, DescribeScalableTargets): a registered target keeps the
 *   service's desired count inside [MinCapacity, MaxCapacity] — on RegisterScalableTarget ("If it's below the minimum
 *   capacity or above the maximum capacity, Application Auto Scaling adjusts the capacity of the scalable target to
 *   place it within these bounds", API reference) and on every scaling activity (`scalingActivity()`: a policy never
 *   leaves the range); ValidationException for MinCapacity above MaxCapacity, for a new target without both bounds
 *   and for a service that does not exist.
 * - RDS DescribeDBInstances (the instance as the scale data stack creates it, `dbInstance` overriding its fields;
 *   DBInstanceNotFoundFault), ElastiCache DescribeReplicationGroups (ReplicationGroupNotFoundFault), CloudWatch Logs
 *   FilterLogEvents (pages of two events; ResourceNotFoundException for a group that does not exist).
 * Every call is recorded in `requests` (so a test can say a command read nothing it should not), the writes also in
 * `calls`; `failNext` throws an error once per operation (or operation and what it names) before answering normally.
 */
import { createHash } from 'node:crypto';
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { GetTemplateCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import type {
  DbInstance,
  EcsFailure,
  EcsService,
  EcsTask,
  FilteredLogEvent,
  ReplicationGroup,
  ScalableTarget,
  ScaleApi,
} from '../../src/scale/api';
import {
  DATA_TIER,
  OUTPUT_KEYS,
  SCALE_OUTPUT_KEYS,
  SERVICES,
  TAG_KEYS,
  dataStackName,
  scaleAiHostAutoScalingGroupName,
  scaleClusterName,
  scaleComputeStackName,
  scaleDataStackName,
} from '../../src/contract';
import { REGION, awsError, stackOf, type FakeAws } from './fake-aws';
import { fileSystemOf, type FakeAwsData } from './fake-aws-data';
import { tokenOf } from './host-output';

const ACCOUNT = '123456789012';
/** ECS DescribeServices takes at most 10 services, DescribeTasks 100 tasks; ListTasks pages at 100 (maxResults). */
const DESCRIBE_SERVICES_LIMIT = 10;
const TASKS_PAGE = 100;

export interface FakeServiceState {
  desired: number;
  /** Running tasks; undefined: as many as desired. */
  running?: number;
  /** Running tasks whose health check passes (the rest are UNKNOWN, still starting); undefined: all of them. */
  healthy?: number;
  /** Running tasks whose essential container fails its health check (counted from the last ones). */
  unhealthy?: number;
  /** FARGATE_SPOT (the workers) rather than FARGATE. */
  spot?: boolean;
  /** The PRIMARY deployment's rolloutState (default COMPLETED). */
  rollout?: string;
  /** ACTIVE (default), DRAINING, INACTIVE. */
  status?: string;
}

export interface FakeScaleOptions {
  /** The ECS cluster the services live in. */
  readonly cluster: string;
  readonly services?: Readonly<Record<string, FakeServiceState>>;
  /** The RDS instance identifier; default: the cluster name (the contract's geusemaker-<name>). */
  readonly databaseId?: string;
  /** The ElastiCache replication group id; default: the cluster name. */
  readonly queueId?: string;
  /** Fields of the RDS instance that differ from what the scale data stack creates (e.g. its backup fields). @default {} */
  readonly dbInstance?: Partial<DBInstance>;
}

export const ECS_DESIRED_COUNT = 'ecs:service:DesiredCount';
export const ecsResourceId = (cluster: string, service: string): string => `service/${cluster}/${service}`;

export class FakeScale implements ScaleApi {
  readonly cluster: string;
  readonly services = new Map<string, FakeServiceState>();
  /** Registered scalable targets by ResourceId. */
  readonly targets = new Map<string, { min: number; max: number; createdAt: Date }>();
  databaseId: string;
  queueId: string;
  /** The instance exists (else DBInstanceNotFoundFault) and its status. */
  database = true;
  dbStatus = 'available';
  /** Fields DescribeDBInstances answers over its defaults (RDS API reference DBInstance fields). */
  dbInstance: Partial<DBInstance>;
  queue = true;
  queueStatus = 'available';
  readonly logs = new Map<string, FilteredLogEvent[]>();
  readonly logCalls: { logGroupName: string; startTime?: number }[] = [];
  /** Writes, in order: "UpdateService n8n-main 0", "RegisterScalableTarget service/c/s 0-0". */
  readonly calls: string[] = [];
  /** Every call, reads included, in order, as "<operation> <what it names>": "DescribeDBInstances geusemaker-big". */
  readonly requests: string[] = [];
  /** Errors to throw once, per operation ('UpdateService') or operation and what it names ('UpdateService n8n-worker'). */
  readonly failNext = new Map<string, Error[]>();
  /** Called after every write (e.g. to let the tasks drain). */
  onWrite?: (call: string) => void;
  private readonly taskOf = new Map<string, { service: string; index: number }>();

  constructor(options: FakeScaleOptions) {
    this.cluster = options.cluster;
    this.databaseId = options.databaseId ?? options.cluster;
    this.queueId = options.queueId ?? options.cluster;
    this.dbInstance = { ...options.dbInstance };
    for (const [name, state] of Object.entries(options.services ?? {})) this.services.set(name, { ...state });
  }

  /** Running tasks of a service (its `running`, else its desired count). */
  runningOf(name: string): number {
    const s = this.services.get(name);
    return s ? Math.max(0, s.running ?? s.desired) : 0;
  }

  /** Every service's tasks catch up with its desired count (ECS started or stopped them). */
  settle(): void {
    for (const s of this.services.values()) delete s.running;
  }

  /**
   * A scaling policy fires (Application Auto Scaling): the desired count of each registered service moves into its
   * target's range, whatever set it outside (policies never scale outside [MinCapacity, MaxCapacity]).
   */
  scalingActivity(): void {
    for (const [resourceId, target] of this.targets) this.clamp(resourceId, target);
  }

  /** Records the call as "<operation> <named>", then throws the error `failNext` holds for it, if any. */
  private receive(operation: string, named?: string): void {
    this.requests.push(named === undefined ? operation : `${operation} ${named}`);
    const error = (named !== undefined ? this.failNext.get(`${operation} ${named}`)?.shift() : undefined) ?? this.failNext.get(operation)?.shift();
    if (error) throw error;
  }

  private requireCluster(cluster: string): void {
    const name = cluster.includes('/') ? cluster.slice(cluster.lastIndexOf('/') + 1) : cluster;
    if (name !== this.cluster) throw awsError('ClusterNotFoundException', 'Cluster not found.');
  }

  private serviceArn(name: string): string {
    return `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${this.cluster}/${name}`;
  }

  private taskArn(service: string, index: number): string {
    const id = createHash('md5').update(`${service}/${index}`).digest('hex');
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${this.cluster}/${id}`;
    this.taskOf.set(arn, { service, index });
    return arn;
  }

  /** A service as DescribeServices answers it. */
  describedService(name: string): EcsService {
    const s = this.services.get(name)!;
    const running = this.runningOf(name);
    const pending = Math.max(0, s.desired - running);
    return {
      serviceArn: this.serviceArn(name),
      serviceName: name,
      status: s.status ?? 'ACTIVE',
      desiredCount: s.desired,
      runningCount: running,
      pendingCount: pending,
      capacityProviderStrategy: [{ capacityProvider: s.spot ? 'FARGATE_SPOT' : 'FARGATE', weight: 1, base: 0 }],
      deployments: [
        {
          id: 'ecs-svc/1',
          status: 'PRIMARY',
          desiredCount: s.desired,
          runningCount: running,
          pendingCount: pending,
          failedTasks: 0,
          rolloutState: s.rollout ?? 'COMPLETED',
          taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${name}:1`,
        },
      ],
      events: [{ id: 'e1', createdAt: new Date('2025-01-15T11:59:00Z'), message: `(service ${name}) has reached a steady state.` }],
    };
  }

  async describeServices(input: { cluster: string; services: string[] }): Promise<{ services?: EcsService[]; failures?: EcsFailure[] }> {
    this.receive('DescribeServices', input.services.join(','));
    this.requireCluster(input.cluster);
    if (input.services.length > DESCRIBE_SERVICES_LIMIT) throw awsError('InvalidParameterException', 'services can have at most 10 items.');
    // An INACTIVE service is still described (until ECS forgets it); one that never existed is a failure.
    const known = input.services.filter((s) => this.services.has(s));
    return {
      services: known.map((name) => this.describedService(name)),
      failures: input.services.filter((s) => !this.services.has(s)).map((s) => ({ arn: this.serviceArn(s), reason: 'MISSING' })),
    };
  }

  async listTasks(input: { cluster: string; serviceName: string; desiredStatus?: 'RUNNING' | 'PENDING' | 'STOPPED'; nextToken?: string }): Promise<{ taskArns?: string[]; nextToken?: string }> {
    this.receive('ListTasks', input.serviceName);
    this.requireCluster(input.cluster);
    if (!this.services.has(input.serviceName)) throw awsError('ServiceNotFoundException', 'Service not found.');
    if (input.desiredStatus === 'STOPPED') return { taskArns: [] };
    const all = Array.from({ length: this.runningOf(input.serviceName) }, (_, i) => this.taskArn(input.serviceName, i));
    const start = input.nextToken ? Number(input.nextToken) : 0;
    return { taskArns: all.slice(start, start + TASKS_PAGE), nextToken: start + TASKS_PAGE < all.length ? String(start + TASKS_PAGE) : undefined };
  }

  async describeTasks(input: { cluster: string; tasks: string[] }): Promise<{ tasks?: EcsTask[]; failures?: EcsFailure[] }> {
    this.receive('DescribeTasks', input.tasks.join(','));
    this.requireCluster(input.cluster);
    if (input.tasks.length > TASKS_PAGE) throw awsError('InvalidParameterException', 'tasks can have at most 100 items.');
    const tasks: EcsTask[] = [];
    const failures: EcsFailure[] = [];
    for (const taskArn of input.tasks) {
      const task = this.taskOf.get(taskArn);
      const s = task ? this.services.get(task.service) : undefined;
      if (!task || !s || task.index >= this.runningOf(task.service)) {
        failures.push({ arn: taskArn, reason: 'MISSING' });
        continue;
      }
      const running = this.runningOf(task.service);
      const unhealthy = task.index >= running - (s.unhealthy ?? 0);
      const health = unhealthy ? 'UNHEALTHY' : task.index < (s.healthy ?? running) ? 'HEALTHY' : 'UNKNOWN';
      tasks.push({
        taskArn,
        group: `service:${task.service}`,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        healthStatus: health,
        capacityProviderName: s.spot ? 'FARGATE_SPOT' : 'FARGATE',
        startedAt: new Date('2025-01-15T09:05:00Z'),
        containers: [
          { name: 'n8n', lastStatus: 'RUNNING', healthStatus: health },
          { name: 'runners', lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' },
        ],
      });
    }
    return { tasks, failures };
  }

  async updateService(input: { cluster: string; service: string; desiredCount?: number }): Promise<{ service?: EcsService }> {
    this.receive('UpdateService', input.service);
    this.requireCluster(input.cluster);
    const s = this.services.get(input.service);
    if (!s) throw awsError('ServiceNotFoundException', 'Service not found.');
    if ((s.status ?? 'ACTIVE') !== 'ACTIVE') throw awsError('ServiceNotActiveException', 'Service was not ACTIVE.');
    if (input.desiredCount !== undefined) {
      if (!Number.isInteger(input.desiredCount) || input.desiredCount < 0) throw awsError('InvalidParameterException', 'desiredCount must be 0 or more.');
      // ECS sets what it is told: a registered scalable target moves it back into its range only when it next scales.
      s.desired = input.desiredCount;
    }
    this.record(`UpdateService ${input.service} ${input.desiredCount}`);
    return { service: this.describedService(input.service) };
  }

  async registerScalableTarget(input: {
    ServiceNamespace: string;
    ResourceId: string;
    ScalableDimension: string;
    MinCapacity?: number;
    MaxCapacity?: number;
  }): Promise<{ ScalableTargetARN?: string }> {
    this.receive('RegisterScalableTarget', input.ResourceId);
    if (input.ServiceNamespace !== 'ecs' || input.ScalableDimension !== ECS_DESIRED_COUNT) {
      throw awsError('ValidationException', `Unsupported service namespace, resource type or scalable dimension`);
    }
    const match = /^service\/([^/]+)\/([^/]+)$/.exec(input.ResourceId);
    if (!match || match[1] !== this.cluster || !this.services.has(match[2])) {
      throw awsError('ValidationException', `ECS service doesn't exist: ${input.ResourceId}`);
    }
    const existing = this.targets.get(input.ResourceId);
    if (!existing && (input.MinCapacity === undefined || input.MaxCapacity === undefined)) {
      throw awsError('ValidationException', 'Minimum and maximum capacity are required to register a new scalable target');
    }
    const min = input.MinCapacity ?? existing!.min;
    const max = input.MaxCapacity ?? existing!.max;
    if (min < 0 || max < 0) throw awsError('ValidationException', 'Minimum and maximum capacity must be 0 or more');
    if (min > max) throw awsError('ValidationException', `Minimum capacity cannot be greater than maximum capacity`);
    const target = { min, max, createdAt: existing?.createdAt ?? new Date('2025-01-14T10:00:00Z') };
    this.targets.set(input.ResourceId, target);
    this.clamp(input.ResourceId, target);
    this.record(`RegisterScalableTarget ${input.ResourceId} ${min}-${max}`);
    return { ScalableTargetARN: `arn:aws:application-autoscaling:${REGION}:${ACCOUNT}:scalable-target/0123${match[2]}` };
  }

  async describeScalableTargets(input: { ServiceNamespace: string; ResourceIds?: string[]; ScalableDimension?: string; NextToken?: string }): Promise<{
    ScalableTargets?: ScalableTarget[];
    NextToken?: string;
  }> {
    this.receive('DescribeScalableTargets', input.ResourceIds?.join(','));
    if (input.ServiceNamespace !== 'ecs') return { ScalableTargets: [] };
    const ids = input.ResourceIds ?? [...this.targets.keys()];
    return {
      ScalableTargets: ids
        .filter((id) => this.targets.has(id) && (!input.ScalableDimension || input.ScalableDimension === ECS_DESIRED_COUNT))
        .map((id) => {
          const t = this.targets.get(id)!;
          return {
            ServiceNamespace: 'ecs',
            ResourceId: id,
            ScalableDimension: ECS_DESIRED_COUNT,
            MinCapacity: t.min,
            MaxCapacity: t.max,
            RoleARN: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`,
            CreationTime: t.createdAt,
            SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
          };
        }),
    };
  }

  async describeDBInstances(input: { DBInstanceIdentifier: string }): Promise<{ DBInstances?: DbInstance[] }> {
    this.receive('DescribeDBInstances', input.DBInstanceIdentifier);
    if (!this.database || input.DBInstanceIdentifier !== this.databaseId) throw awsError('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    return {
      DBInstances: [
        {
          // As lib/scale/n8n-database.ts creates it with the scale tier's defaults (lib/config/scale-schema.ts).
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          DBInstanceStatus: this.dbStatus,
          Engine: 'postgres',
          EngineVersion: '17.9',
          DBInstanceClass: 'db.t4g.micro',
          DBName: 'n8n',
          Endpoint: { Address: 'db.abc.eu-west-1.rds.amazonaws.com', Port: 5432 },
          AvailabilityZone: 'eu-west-1a',
          MultiAZ: false,
          StorageEncrypted: true,
          DeletionProtection: true,
          DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${input.DBInstanceIdentifier}`,
          AllocatedStorage: 20,
          MaxAllocatedStorage: 100,
          StorageType: 'gp3',
          BackupRetentionPeriod: 7,
          PreferredBackupWindow: '03:00-03:30',
          // RDS keeps it within about five minutes of now while automated backups are on.
          LatestRestorableTime: new Date('2025-01-15T11:55:00Z'),
          ...this.dbInstance,
        },
      ],
    };
  }

  async describeReplicationGroups(input: { ReplicationGroupId: string }): Promise<{ ReplicationGroups?: ReplicationGroup[] }> {
    this.receive('DescribeReplicationGroups', input.ReplicationGroupId);
    if (!this.queue || input.ReplicationGroupId !== this.queueId) throw awsError('ReplicationGroupNotFoundFault', `ReplicationGroup ${input.ReplicationGroupId} not found.`);
    return {
      ReplicationGroups: [
        {
          ReplicationGroupId: input.ReplicationGroupId,
          Status: this.queueStatus,
          Engine: 'valkey',
          CacheNodeType: 'cache.t4g.micro',
          ClusterEnabled: false,
          TransitEncryptionEnabled: true,
          AuthTokenEnabled: true,
          ARN: `arn:aws:elasticache:${REGION}:${ACCOUNT}:replicationgroup:${input.ReplicationGroupId}`,
          MemberClusters: [`${input.ReplicationGroupId}-001`],
          NodeGroups: [{ NodeGroupId: '0001', Status: 'available', PrimaryEndpoint: { Address: 'master.q.abc.euw1.cache.amazonaws.com', Port: 6379 } }],
        },
      ],
    };
  }

  /** FilterLogEvents: the group's events at or after startTime, two per page (nextToken), as the API pages. */
  async filterLogEvents(input: { logGroupName: string; startTime?: number; endTime?: number; nextToken?: string }): Promise<{ events?: FilteredLogEvent[]; nextToken?: string }> {
    this.receive('FilterLogEvents', input.logGroupName);
    this.logCalls.push({ logGroupName: input.logGroupName, startTime: input.startTime });
    const events = this.logs.get(input.logGroupName);
    if (!events) throw awsError('ResourceNotFoundException', 'The specified log group does not exist.');
    const all = events.filter((e) => (e.timestamp ?? 0) >= (input.startTime ?? 0) && (input.endTime === undefined || (e.timestamp ?? 0) <= input.endTime));
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const page = all.slice(start, start + 2);
    return { events: page, nextToken: start + 2 < all.length ? String(start + 2) : undefined };
  }

  private clamp(resourceId: string, target: { min: number; max: number }): void {
    const name = resourceId.slice(resourceId.lastIndexOf('/') + 1);
    const s = this.services.get(name);
    if (!s || (s.status ?? 'ACTIVE') !== 'ACTIVE') return;
    s.desired = Math.min(target.max, Math.max(target.min, s.desired));
  }

  private record(call: string): void {
    this.calls.push(call);
    this.onWrite?.(call);
  }
}

/**
 * CloudFormation GetTemplate on the FakeAws account: the template body of each stack named in `templates` (JSON text,
 * as CloudFormation returns a template deployed from JSON), ValidationError for a stack that does not exist.
 */
export function serveTemplates(aws: FakeAws, templates: ReadonlyMap<string, unknown>): void {
  aws.cfn.on(GetTemplateCommand).callsFake((input: { StackName?: string }) => {
    const template = templates.get(input.StackName ?? '');
    if (template === undefined || !aws.stacks.some((s) => s.StackName === input.StackName)) {
      throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    }
    return { TemplateBody: typeof template === 'string' ? template : JSON.stringify(template), StagesAvailable: ['Original', 'Processed'] };
  });
}

/** The AI host's compose services (docker/host/lib.sh GM_AI_SERVICES) and their images (docker/versions.env). */
const AI_HOST_IMAGES: Readonly<Record<string, string>> = {
  ollama: 'ollama/ollama:0.33.1',
  qdrant: 'qdrant/qdrant:v1.19.0',
  crawl4ai: 'unclecode/crawl4ai:0.9.3',
};
/** functional-check.sh's FC_SERVICES: the order it checks (and prints) its services in. */
const FUNCTION_CHECK_ORDER = ['postgres', 'n8n', 'qdrant', 'ollama', 'crawl4ai'];
/** What each check of functional-check.sh says when its service works (its FC_DETAIL on success). */
const FUNCTION_WORKS: Readonly<Record<string, string>> = {
  n8n: 'owner owner@example.com logged in and sees the 3 pre-wired credentials',
  qdrant: 'API key required; scratch collection created, vector upserted and found, collection deleted',
  ollama: 'API answers; 1 model(s): llama3.2:1b',
  crawl4ai: 'token required; a page rendered by the browser came back as 1843 characters of markdown',
};

export interface AiHostAnswerOptions {
  /** AI services whose container restarts in a loop, so nothing listens on their port. @default [] */
  readonly down?: readonly string[];
  /** Services whose functional check fails, with its reason (n8n included: checked through the load balancer). @default {} */
  readonly failing?: Readonly<Record<string, string>>;
}

/**
 * What the AI host (GM_ROLE=ai-services: Ollama, Qdrant and Crawl4AI, no n8n, no PostgreSQL) prints for gm-ops's probe
 * script (ops/src/health/host-probes.ts), in the order the script prints it: `docker inspect` of the compose
 * containers that exist (none for n8n and PostgreSQL), then the probes' files in name order (every contract
 * service is probed: nothing listens on n8n's port, no postgres container for pg_isready), then, when the script
 * runs it, functional-check.sh --json as it answers there: its own services by default, n8n only when named,
 * in its FC_SERVICES order; a service that does not run there is a usage error (exit 2, nothing checked).
 */
export function aiHostAnswer(script: string, options: AiHostAnswerOptions = {}): string {
  const m = `@@gm-ops:${tokenOf(script)}`;
  const down = new Set(options.down ?? []);
  const failing = options.failing ?? {};
  const ai = Object.keys(AI_HOST_IMAGES);
  // A crash-looping container under `restart: unless-stopped`: Docker shows it restarting, and its health check
  // starts over with each start ("starting").
  const containers = ai.map((s) =>
    down.has(s)
      ? `${m} container\t${s}\trestarting\tstarting\t3\t2025-01-15T11:59:40.123456789Z\t${AI_HOST_IMAGES[s]}`
      : `${m} container\t${s}\trunning\thealthy\t0\t2025-01-15T09:05:00.123456789Z\t${AI_HOST_IMAGES[s]}`,
  );
  const refused = (s: string) => {
    const port = SERVICES.find((service) => service.name === s)!.port;
    return `${m} probe\t${s}\thttp\t7\t000 0.000\tcurl: (7) Failed to connect to 127.0.0.1 port ${port} after 0 ms: Couldn't connect to server`;
  };
  const probes = SERVICES.map((s) => s.name).sort().map((s) => {
    if (s === 'postgres') return `${m} probe\tpostgres\tpg_isready\t-1\t\tno container`;
    return ai.includes(s) && !down.has(s) ? `${m} probe\t${s}\thttp\t0\t200 0.004\t` : refused(s);
  });
  const lines = [...containers, ...probes];
  if (script.includes('functional-check.sh')) {
    const named = [...script.matchAll(/ --service '?([a-z0-9]+)'?/g)].map((match) => match[1]);
    const checkable = named.includes('n8n') ? [...ai, 'n8n'] : ai;
    const stray = named.find((s) => !checkable.includes(s));
    if (stray) {
      lines.push(`${m} function-exit\t2\tfunctional-check: ${stray} does not run on this host (GM_ROLE=ai-services runs: ${ai.join(' ')}; n8n is checked from here only with --service n8n)`);
    } else {
      const checked = FUNCTION_CHECK_ORDER.filter((s) => checkable.includes(s) && (named.length === 0 || named.includes(s)));
      lines.push(...checked.map((s) => `${m} function\t${JSON.stringify({ service: s, ok: !failing[s], ms: 12, detail: failing[s] ?? FUNCTION_WORKS[s] })}`));
      // The first line of its stderr: its log line naming what it checks.
      lines.push(`${m} function-exit\t${checked.some((s) => failing[s]) ? 1 : 0}\t2025-01-15T12:00:00Z geusemaker[functional-check] INFO functional check of: ${checked.join(' ')}`);
    }
  }
  return lines.join('\n');
}

export interface ScaleDeploymentOptions {
  /** The deployment's name. @default 'big' */
  readonly name?: string;
  /** The compute stack's EntryUrl and N8nUrl (a local server where a test probes it). @default 'https://d111111abcdef8.cloudfront.net/' */
  readonly entryUrl?: string;
  /** Webhook processors (their service and DesiredCount). @default 0 (no webhook service) */
  readonly webhooks?: number;
  /** The workers' scaling bounds in the template and outputs (the scale tier's defaults). @default 1 */
  readonly workerMin?: number;
  /** @default 4 */
  readonly workerMax?: number;
  /** The AI host's instance id, or null: its group has no instance. @default 'i-ai' */
  readonly aiHost?: string | null;
  /** The AI host group's desired capacity. @default 1 with an AI host, else 0 */
  readonly aiHostDesired?: number;
  /** The status of GeuseScale-<name>, or null: it does not exist (nor its AI host group or ECS services). @default 'CREATE_COMPLETE' */
  readonly compute?: string | null;
  /** The status of GeuseScaleData-<name>, or null: it does not exist. @default 'CREATE_COMPLETE' */
  readonly scaleData?: string | null;
  /** The status of GeuseData-<name>, or null: it does not exist. @default 'CREATE_COMPLETE' */
  readonly data?: string | null;
  /** The data stack's file system. @default 'fs-<name>' */
  readonly fileSystemId?: string;
  /** The RDS instance GeuseScaleData names in DatabaseInstanceId. @default the cluster name, geusemaker-<name> */
  readonly databaseId?: string;
  /** Fields of the RDS instance that differ from FakeScale's defaults (e.g. its backup fields). @default {} */
  readonly dbInstance?: Partial<DBInstance>;
}

export interface ScaleDeployment {
  readonly name: string;
  readonly scale: FakeScale;
  readonly cluster: string;
  readonly group: string;
  readonly computeStack: string;
  readonly scaleDataStack: string;
  readonly dataStack: string;
  readonly fileSystemId: string;
  readonly databaseId: string;
  /** The AI host's instance id, or null. */
  readonly aiHost: string | null;
  readonly services: { readonly main: string; readonly worker: string; readonly webhook?: string };
  /** The compute stack's template as GetTemplate returns it (shaped as the CDK app synthesizes it). */
  readonly template: Record<string, unknown>;
}

/**
 * A scale deployment as the CDK app deploys it (lib/tiers/scale-stack.ts, lib/scale/scale-data-stack.ts):
 * GeuseData-, GeuseScaleData- (both tagged geuse:tier=data) and GeuseScale-<name> with their outputs, the AI host's
 * group (min 0, max 1) and host answering SSM as {@link aiHostAnswer}, the ECS services at their template counts with
 * the workers' scalable target registered, the RDS instance and the queue in `scale`, and the compute template
 * served by GetTemplate (see serveTemplates): services and scalable target under the logical ids and references the
 * synthesized template uses.
 */
export function addScaleDeployment(aws: FakeAws, options: ScaleDeploymentOptions = {}): ScaleDeployment {
  const name = options.name ?? 'big';
  const cluster = scaleClusterName(name);
  const computeStack = scaleComputeStackName(name);
  const scaleDataStack = scaleDataStackName(name);
  const dataStack = dataStackName(name);
  const group = scaleAiHostAutoScalingGroupName(name);
  const fileSystemId = options.fileSystemId ?? `fs-${name}`;
  const databaseId = options.databaseId ?? cluster;
  const services = {
    main: `${computeStack}-MainServiceE12B9316-AbCdEf012345`,
    worker: `${computeStack}-WorkersService06F7B0BF-BcDeFa123456`,
    ...(options.webhooks ? { webhook: `${computeStack}-WebhooksService1F2E3D4C-CdEfAb234567` } : {}),
  };
  const min = options.workerMin ?? 1;
  const max = options.workerMax ?? 4;
  const entryUrl = options.entryUrl ?? 'https://d111111abcdef8.cloudfront.net/';
  /** Adds the stack unless its status is null (it does not exist); says whether it did. */
  const addStack = (stackName: string, status: string | null | undefined, tier: string, outputs: Record<string, string>): boolean => {
    if (status === null) return false;
    aws.addStack(stackOf(stackName, status ?? 'CREATE_COMPLETE', outputs, { [TAG_KEYS.deployment]: name, [TAG_KEYS.tier]: tier }));
    return true;
  };
  addStack(dataStack, options.data, DATA_TIER, { [OUTPUT_KEYS.fileSystemId]: fileSystemId });
  addStack(scaleDataStack, options.scaleData, DATA_TIER, {
    [SCALE_OUTPUT_KEYS.databaseSecretArn]: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:GeuseScaleData${name}DatabaseSecret-AbCdEf`,
    [SCALE_OUTPUT_KEYS.queueAuthSecretArn]: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:GeuseScaleData${name}QueueAuth-GhIjKl`,
    [SCALE_OUTPUT_KEYS.databaseEndpoint]: 'db.abc.eu-west-1.rds.amazonaws.com:5432',
    [SCALE_OUTPUT_KEYS.databaseInstanceId]: databaseId,
    [SCALE_OUTPUT_KEYS.databaseName]: 'n8n',
    [SCALE_OUTPUT_KEYS.queueEndpoint]: 'master.q.abc.euw1.cache.amazonaws.com:6379',
    [SCALE_OUTPUT_KEYS.queueReplicationGroupId]: cluster,
  });
  const compute = addStack(computeStack, options.compute, 'scale', {
    [OUTPUT_KEYS.tier]: 'scale',
    [OUTPUT_KEYS.entryUrl]: entryUrl,
    [OUTPUT_KEYS.n8nUrl]: entryUrl,
    [OUTPUT_KEYS.cloudFrontUrl]: 'https://d111111abcdef8.cloudfront.net/',
    [OUTPUT_KEYS.autoScalingGroupName]: group,
    [SCALE_OUTPUT_KEYS.clusterName]: cluster,
    [SCALE_OUTPUT_KEYS.mainServiceName]: services.main,
    [SCALE_OUTPUT_KEYS.workerServiceName]: services.worker,
    [SCALE_OUTPUT_KEYS.webhookServiceName]: services.webhook ?? '',
    [SCALE_OUTPUT_KEYS.logGroupNames]: `main=/gm/${name}/main,worker=/gm/${name}/worker`,
    [SCALE_OUTPUT_KEYS.workerMinCount]: String(min),
    [SCALE_OUTPUT_KEYS.workerMaxCount]: String(max),
    [SCALE_OUTPUT_KEYS.workerConcurrency]: '10',
  });
  const host = compute && options.aiHost !== null ? (options.aiHost ?? 'i-ai') : null;
  if (compute) {
    aws.groups.set(group, {
      AutoScalingGroupName: group,
      DesiredCapacity: options.aiHostDesired ?? (host ? 1 : 0),
      MinSize: 0,
      MaxSize: 1,
      Instances: host
        ? [{ InstanceId: host, InstanceType: 'm7g.xlarge', LifecycleState: 'InService', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false }]
        : [],
      DefaultCooldown: 300,
      HealthCheckType: 'EC2',
      CreatedTime: new Date('2025-01-14T10:00:00Z'),
      AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
    });
  }
  if (host) {
    aws.instances.set(host, {
      InstanceId: host,
      State: { Name: 'running' },
      InstanceType: 'm7g.xlarge' as never,
      InstanceLifecycle: 'spot',
      Placement: { AvailabilityZone: 'eu-west-1a' },
      PrivateIpAddress: '10.0.1.20',
      LaunchTime: new Date('2025-01-15T09:00:00Z'),
      SecurityGroups: [{ GroupId: `sg-${name}-ai-host`, GroupName: `${computeStack}-HostSecurityGroup` }],
    });
    aws.agents.set(host, 'Online');
    aws.hosts.set(host, (script) => aiHostAnswer(script));
  }
  const scale = new FakeScale({
    cluster,
    databaseId,
    dbInstance: options.dbInstance,
    services: compute
      ? {
          [services.main]: { desired: 1 },
          [services.worker]: { desired: min, spot: true },
          ...(services.webhook ? { [services.webhook]: { desired: options.webhooks! } } : {}),
        }
      : {},
  });
  scale.database = options.scaleData !== null;
  scale.queue = options.scaleData !== null;
  if (compute) scale.targets.set(ecsResourceId(cluster, services.worker), { min, max, createdAt: new Date('2025-01-14T10:05:00Z') });
  const ecsService = (desiredCount: number | undefined, spot: boolean) => ({
    Type: 'AWS::ECS::Service',
    Properties: {
      CapacityProviderStrategy: [{ CapacityProvider: spot ? 'FARGATE_SPOT' : 'FARGATE', Weight: 1 }],
      Cluster: { Ref: 'ClusterEB0386A7' },
      ...(desiredCount === undefined ? {} : { DesiredCount: desiredCount }),
      PropagateTags: 'SERVICE',
    },
  });
  const template: Record<string, unknown> = {
    Resources: {
      ClusterEB0386A7: { Type: 'AWS::ECS::Cluster', Properties: { ClusterName: cluster } },
      HostASG21C7B476: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { AutoScalingGroupName: group, MinSize: '0', MaxSize: '1', DesiredCapacity: '1' } },
      MainServiceE12B9316: ecsService(1, false),
      // No DesiredCount: the backlog scaling owns it (lib/tiers/scale-stack.ts).
      WorkersService06F7B0BF: ecsService(undefined, true),
      ...(options.webhooks ? { WebhooksService1F2E3D4C: ecsService(options.webhooks, false) } : {}),
      WorkersServiceTaskCountTargetD95E516D: {
        Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
        Properties: {
          MaxCapacity: max,
          MinCapacity: min,
          ResourceId: { 'Fn::Join': ['', ['service/', { Ref: 'ClusterEB0386A7' }, '/', { 'Fn::GetAtt': ['WorkersService06F7B0BF', 'Name'] }]] },
          ScalableDimension: ECS_DESIRED_COUNT,
          ServiceNamespace: 'ecs',
        },
      },
    },
    Outputs: {
      ClusterName: { Value: { Ref: 'ClusterEB0386A7' } },
      MainServiceName: { Value: { 'Fn::GetAtt': ['MainServiceE12B9316', 'Name'] } },
      WorkerServiceName: { Value: { 'Fn::GetAtt': ['WorkersService06F7B0BF', 'Name'] } },
      WebhookServiceName: { Value: options.webhooks ? { 'Fn::GetAtt': ['WebhooksService1F2E3D4C', 'Name'] } : '' },
      WorkerMinCount: { Value: String(min) },
      WorkerMaxCount: { Value: String(max) },
    },
  };
  return { name, scale, cluster, group, computeStack, scaleDataStack, dataStack, fileSystemId, databaseId, aiHost: host, services, template };
}

/**
 * The SDK clients `gm-ops cost` (and the stopped cost of `gm-ops stop`) creates for a scale deployment, answering
 * from the same FakeScale: ECS DescribeServices (with the service's task definition and its awsvpc network, as the
 * API reference shapes a Fargate service) and DescribeTaskDefinition, RDS DescribeDBInstances, ElastiCache
 * DescribeReplicationGroups, CloudWatch ListMetrics (the backlog function's two metrics).
 */
export function mockScaleSdks(scale: FakeScale, name: string): { restore(): void } {
  const ecs = mockClient(ECSClient);
  const rds = mockClient(RDSClient);
  const elasticache = mockClient(ElastiCacheClient);
  const cloudWatch = mockClient(CloudWatchClient);
  ecs.on(DescribeServicesCommand).callsFake(async (input: { cluster?: string; services?: string[] }) => {
    const answer = await scale.describeServices({ cluster: input.cluster ?? 'default', services: input.services ?? [] });
    return {
      ...answer,
      services: answer.services?.map((s) => ({
        ...s,
        taskDefinition: s.deployments?.[0]?.taskDefinition,
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-tasks'], assignPublicIp: 'ENABLED' } },
        schedulingStrategy: 'REPLICA',
      })),
    };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition?: string }) => {
    const arn = input.taskDefinition ?? '';
    const match = /task-definition\/([^:]+):(\d+)$/.exec(arn);
    if (!match || !scale.services.has(match[1])) throw awsError('ClientException', 'Unable to describe task definition.');
    const spot = scale.services.get(match[1])!.spot === true;
    return {
      taskDefinition: {
        taskDefinitionArn: arn,
        family: match[1],
        revision: Number(match[2]),
        status: 'ACTIVE',
        networkMode: 'awsvpc',
        requiresCompatibilities: ['FARGATE'],
        cpu: '1024',
        memory: '2048',
        runtimePlatform: { cpuArchitecture: spot ? 'X86_64' : 'ARM64', operatingSystemFamily: 'LINUX' },
        containerDefinitions: [{ name: 'n8n', image: 'n8nio/n8n:2.36.9', essential: true }],
      },
    };
  });
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => scale.describeDBInstances({ DBInstanceIdentifier: input.DBInstanceIdentifier ?? '' }));
  elasticache.on(DescribeReplicationGroupsCommand).callsFake((input: { ReplicationGroupId?: string }) => scale.describeReplicationGroups({ ReplicationGroupId: input.ReplicationGroupId ?? '' }));
  cloudWatch.on(ListMetricsCommand).callsFake((input: { Namespace?: string; Dimensions?: { Value?: string }[] }) => ({
    Metrics: ['BacklogPerWorker', 'WaitingJobs']
      .filter(() => input.Namespace === 'GeuseMaker/Scale' && input.Dimensions?.[0]?.Value === name)
      .map((MetricName) => ({ Namespace: 'GeuseMaker/Scale', MetricName, Dimensions: [{ Name: 'Deployment', Value: name }] })),
  }));
  return {
    restore: () => {
      ecs.restore();
      rds.restore();
      elasticache.restore();
      cloudWatch.restore();
    },
  };
}

/** What `gm-ops cost` lists of a scale deployment's stacks (ListStackResources), and its file system (5 GB). */
export function addScaleCostData(data: FakeAwsData, deployment: ScaleDeployment, name: string): void {
  const resource = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string): StackResourceSummary => ({
    LogicalResourceId,
    ResourceType,
    PhysicalResourceId,
    ResourceStatus: 'CREATE_COMPLETE',
    LastUpdatedTimestamp: new Date('2025-01-14T10:00:00Z'),
  });
  const secret = (purpose: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:geusemaker/${name}/${purpose}-AbCdEf`;
  data.stackResources.set(deployment.dataStack, [
    resource('FileSystem8A8E25C0', 'AWS::EFS::FileSystem', deployment.fileSystemId),
    resource('SecretsN8nEncryptionKey1A2B', 'AWS::SecretsManager::Secret', secret('n8n-encryption-key')),
    resource('SecretsN8nOwnerPassword3C4D', 'AWS::SecretsManager::Secret', secret('n8n-owner-password')),
  ]);
  data.stackResources.set(deployment.computeStack, [
    resource('HostASG21C7B476', 'AWS::AutoScaling::AutoScalingGroup', deployment.group),
    resource('MainServiceE12B9316', 'AWS::ECS::Service', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${deployment.cluster}/${deployment.services.main}`),
    resource('WorkersService06F7B0BF', 'AWS::ECS::Service', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${deployment.cluster}/${deployment.services.worker}`),
    resource('RunnerAuthToken9F1E2D3C', 'AWS::SecretsManager::Secret', `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:RunnerAuthToken9F1E2D3C-MnOpQr`),
  ]);
  data.stackResources.set(deployment.scaleDataStack, [
    resource('Database', 'AWS::RDS::DBInstance', deployment.databaseId),
    resource('Queue', 'AWS::ElastiCache::ReplicationGroup', deployment.cluster),
  ]);
  data.fileSystems.push(fileSystemOf(deployment.fileSystemId, { deployment: name, sizeBytes: 5 * 1024 ** 3 }));
}
