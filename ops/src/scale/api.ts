/**
 * The AWS APIs only the scale tier needs: ECS (services and tasks), Application Auto Scaling (the workers' scalable
 * target), RDS (the database), ElastiCache (the queue) and CloudWatch Logs (the tasks' logs). Each call takes and
 * returns the API's own shapes (the AWS API reference field names, which the JS SDK v3 keeps: camelCase for ECS and
 * Logs, PascalCase for Application Auto Scaling, RDS and ElastiCache), so a test's fake answers exactly what AWS
 * answers.
 *
 * The SDK clients of these five services are loaded on first use, from the CloudFormation client's own region and
 * credentials. When they are not installed gm-ops says so in one line instead of crashing. Tests put their fake on
 * the AWS clients object as `scale` (see {@link scaleApiOf}).
 */
import { callBounds, type AwsClients } from '../aws/clients';
import { OpsError } from '../errors';

// ----- ECS (JSON 1.1; DescribeServices, ListTasks, DescribeTasks) -----

export interface EcsDeployment {
  readonly id?: string;
  /** PRIMARY (the newest), ACTIVE (being replaced), INACTIVE. */
  readonly status?: string;
  readonly desiredCount?: number;
  readonly pendingCount?: number;
  readonly runningCount?: number;
  readonly failedTasks?: number;
  /** COMPLETED, FAILED, IN_PROGRESS. */
  readonly rolloutState?: string;
  readonly rolloutStateReason?: string;
  readonly taskDefinition?: string;
}

export interface EcsService {
  readonly serviceArn?: string;
  readonly serviceName?: string;
  /** ACTIVE, DRAINING, INACTIVE. */
  readonly status?: string;
  readonly desiredCount?: number;
  readonly runningCount?: number;
  readonly pendingCount?: number;
  readonly capacityProviderStrategy?: readonly { readonly capacityProvider?: string; readonly weight?: number; readonly base?: number }[];
  readonly deployments?: readonly EcsDeployment[];
  readonly events?: readonly { readonly id?: string; readonly createdAt?: Date; readonly message?: string }[];
}

export interface EcsFailure {
  readonly arn?: string;
  /** MISSING when the service does not exist. */
  readonly reason?: string;
  readonly detail?: string;
}

export interface EcsTask {
  readonly taskArn?: string;
  readonly group?: string;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  /** HEALTHY, UNHEALTHY, UNKNOWN (the essential containers' health checks). */
  readonly healthStatus?: string;
  /** FARGATE or FARGATE_SPOT. */
  readonly capacityProviderName?: string;
  readonly startedAt?: Date;
  readonly stoppedReason?: string;
  readonly containers?: readonly { readonly name?: string; readonly lastStatus?: string; readonly healthStatus?: string }[];
}

// ----- Application Auto Scaling (JSON 1.1; RegisterScalableTarget, DescribeScalableTargets) -----

export interface ScalableTarget {
  readonly ServiceNamespace?: string;
  /** `service/<cluster>/<service>` for an ECS service. */
  readonly ResourceId?: string;
  /** `ecs:service:DesiredCount`. */
  readonly ScalableDimension?: string;
  readonly MinCapacity?: number;
  readonly MaxCapacity?: number;
  readonly RoleARN?: string;
  readonly CreationTime?: Date;
  readonly SuspendedState?: { readonly DynamicScalingInSuspended?: boolean; readonly DynamicScalingOutSuspended?: boolean; readonly ScheduledScalingSuspended?: boolean };
}

// ----- RDS (query; DescribeDBInstances) -----

export interface DbInstance {
  readonly DBInstanceIdentifier?: string;
  /** available, backing-up, modifying, rebooting, stopped, storage-full, ... */
  readonly DBInstanceStatus?: string;
  readonly Engine?: string;
  readonly EngineVersion?: string;
  readonly DBInstanceClass?: string;
  readonly Endpoint?: { readonly Address?: string; readonly Port?: number };
  readonly MultiAZ?: boolean;
  readonly StorageEncrypted?: boolean;
  readonly DBInstanceArn?: string;
  readonly AllocatedStorage?: number;
  readonly StorageType?: string;
  /** Days automated backups are kept; 0: automated backups are off. */
  readonly BackupRetentionPeriod?: number;
  /** The latest time a point-in-time restore can reach (typically within 5 minutes of now). */
  readonly LatestRestorableTime?: Date;
}

// ----- ElastiCache (query; DescribeReplicationGroups) -----

export interface ReplicationGroup {
  readonly ReplicationGroupId?: string;
  /** creating, available, modifying, deleting, create-failed, snapshotting. */
  readonly Status?: string;
  readonly Engine?: string;
  readonly CacheNodeType?: string;
  readonly ClusterEnabled?: boolean;
  readonly TransitEncryptionEnabled?: boolean;
  readonly AuthTokenEnabled?: boolean;
  readonly ARN?: string;
  /** The nodes (cache clusters) of the group: the primary and its replicas. */
  readonly MemberClusters?: readonly string[];
  readonly NodeGroups?: readonly {
    readonly NodeGroupId?: string;
    readonly Status?: string;
    readonly PrimaryEndpoint?: { readonly Address?: string; readonly Port?: number };
  }[];
}

// ----- CloudWatch Logs (JSON 1.1; FilterLogEvents) -----

export interface FilteredLogEvent {
  readonly logStreamName?: string;
  readonly timestamp?: number;
  readonly message?: string;
  readonly ingestionTime?: number;
  readonly eventId?: string;
}

export interface ScaleApi {
  describeServices(input: { cluster: string; services: string[] }): Promise<{ services?: EcsService[]; failures?: EcsFailure[] }>;
  listTasks(input: { cluster: string; serviceName: string; desiredStatus?: 'RUNNING' | 'PENDING' | 'STOPPED'; nextToken?: string }): Promise<{
    taskArns?: string[];
    nextToken?: string;
  }>;
  describeTasks(input: { cluster: string; tasks: string[] }): Promise<{ tasks?: EcsTask[]; failures?: EcsFailure[] }>;
  /** Throws ServiceNotFoundException, ServiceNotActiveException, ClusterNotFoundException, AccessDeniedException. */
  updateService(input: { cluster: string; service: string; desiredCount?: number }): Promise<{ service?: EcsService }>;
  /**
   * Registers or updates a scalable target. Updating one moves the resource's current capacity into the new range at
   * once (API reference). Throws ValidationException (e.g. MinCapacity above MaxCapacity).
   */
  registerScalableTarget(input: {
    ServiceNamespace: 'ecs';
    ResourceId: string;
    ScalableDimension: 'ecs:service:DesiredCount';
    MinCapacity?: number;
    MaxCapacity?: number;
  }): Promise<{ ScalableTargetARN?: string }>;
  describeScalableTargets(input: {
    ServiceNamespace: 'ecs';
    ResourceIds?: string[];
    ScalableDimension?: 'ecs:service:DesiredCount';
    NextToken?: string;
  }): Promise<{ ScalableTargets?: ScalableTarget[]; NextToken?: string }>;
  /** Throws DBInstanceNotFoundFault when the instance does not exist. */
  describeDBInstances(input: { DBInstanceIdentifier: string }): Promise<{ DBInstances?: DbInstance[] }>;
  /** Throws ReplicationGroupNotFoundFault when the group does not exist. */
  describeReplicationGroups(input: { ReplicationGroupId: string }): Promise<{ ReplicationGroups?: ReplicationGroup[] }>;
  filterLogEvents(input: {
    logGroupName: string;
    startTime?: number;
    endTime?: number;
    nextToken?: string;
    limit?: number;
  }): Promise<{ events?: FilteredLogEvent[]; nextToken?: string }>;
}

/** The SDK packages behind {@link ScaleApi}. */
export const SCALE_SDK_PACKAGES = [
  '@aws-sdk/client-ecs',
  '@aws-sdk/client-application-auto-scaling',
  '@aws-sdk/client-rds',
  '@aws-sdk/client-elasticache',
  '@aws-sdk/client-cloudwatch-logs',
] as const;

type SdkModule = Record<string, new (...args: unknown[]) => unknown>;
interface SdkClient {
  send(command: unknown): Promise<unknown>;
}

function load(pkg: string): SdkModule {
  try {
    return require(pkg) as SdkModule;
  } catch {
    throw new OpsError(
      `gm-ops cannot read a scale deployment: the AWS SDK package ${pkg} is not installed`,
      `install it in ops/ (npm install ${SCALE_SDK_PACKAGES.join(' ')})`,
    );
  }
}

/** The real API: one SDK client per service, created on first use with the CloudFormation client's region and credentials. */
export function sdkScaleApi(clients: AwsClients, env: NodeJS.ProcessEnv = process.env): ScaleApi {
  const config = clients.cloudFormation.config as unknown as { region: unknown; credentials: unknown };
  // The bounds of every other client (ops/src/aws/clients.ts): an endpoint that never answers ends the command.
  const bounds = callBounds(env);
  const cache = new Map<string, SdkClient>();
  const call = async <T>(pkg: string, clientName: string, commandName: string, input: unknown): Promise<T> => {
    const sdk = load(pkg);
    let client = cache.get(pkg);
    if (!client) {
      client = new sdk[clientName]({
        region: config.region,
        credentials: config.credentials,
        maxAttempts: bounds.maxAttempts,
        requestHandler: { connectionTimeout: bounds.connectionTimeout, requestTimeout: bounds.requestTimeout, throwOnRequestTimeout: true },
      }) as SdkClient;
      cache.set(pkg, client);
    }
    return (await client.send(new sdk[commandName](input))) as T;
  };
  return {
    describeServices: (input) => call('@aws-sdk/client-ecs', 'ECSClient', 'DescribeServicesCommand', input),
    listTasks: (input) => call('@aws-sdk/client-ecs', 'ECSClient', 'ListTasksCommand', input),
    describeTasks: (input) => call('@aws-sdk/client-ecs', 'ECSClient', 'DescribeTasksCommand', input),
    updateService: (input) => call('@aws-sdk/client-ecs', 'ECSClient', 'UpdateServiceCommand', input),
    registerScalableTarget: (input) => call('@aws-sdk/client-application-auto-scaling', 'ApplicationAutoScalingClient', 'RegisterScalableTargetCommand', input),
    describeScalableTargets: (input) => call('@aws-sdk/client-application-auto-scaling', 'ApplicationAutoScalingClient', 'DescribeScalableTargetsCommand', input),
    describeDBInstances: (input) => call('@aws-sdk/client-rds', 'RDSClient', 'DescribeDBInstancesCommand', input),
    describeReplicationGroups: (input) => call('@aws-sdk/client-elasticache', 'ElastiCacheClient', 'DescribeReplicationGroupsCommand', input),
    filterLogEvents: (input) => call('@aws-sdk/client-cloudwatch-logs', 'CloudWatchLogsClient', 'FilterLogEventsCommand', input),
  };
}

/** Why the scale API cannot be used (an SDK package missing), or undefined when it can (or a fake is injected). */
export function scaleApiProblem(clients: AwsClients): string | undefined {
  if ((clients as AwsClients & { scale?: ScaleApi }).scale) return undefined;
  const missing = SCALE_SDK_PACKAGES.filter((pkg) => {
    try {
      require.resolve(pkg);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `the AWS SDK packages ${missing.join(', ')} are not installed (npm install them in ops/)` : undefined;
}

/** The scale API of these clients: a test's fake (`clients.scale`), else the SDK one (kept per clients object). */
const apis = new WeakMap<AwsClients, ScaleApi>();
export function scaleApiOf(clients: AwsClients): ScaleApi {
  const injected = (clients as AwsClients & { scale?: ScaleApi }).scale;
  if (injected) return injected;
  let api = apis.get(clients);
  if (!api) {
    api = sdkScaleApi(clients);
    apis.set(clients, api);
  }
  return api;
}
