import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { N8nImages } from './n8n-images';
import {
  RDS_CA_FETCH_SCRIPT, RDS_CA_FILE, RDS_CA_MOUNT, RDS_CA_START_TIMEOUT, RDS_CA_VOLUME, rdsCaFetchEnvironment,
} from './rds-ca';

/** The n8n processes of the scale tier, each its own ECS service (contract SCALE_SERVICES). */
export type N8nRole = 'main' | 'worker' | 'webhook';

/** n8n's HTTP port: the UI and webhooks (main, webhook processors) and the worker's health server (QUEUE_HEALTH_CHECK_PORT). */
export const N8N_PORT = 5678;
/** The task broker inside n8n that the runner sidecar connects to (N8N_RUNNERS_BROKER_PORT, loopback by default). */
export const RUNNER_BROKER_PORT = 5679;

/**
 * Fargate Spot gives a task two minutes between its SIGTERM and its end, and Fargate's stopTimeout is at most 120 s
 * (ContainerDefinition.stopTimeout, ECS API reference): n8n gets all of it.
 */
export const STOP_TIMEOUT = Duration.seconds(120);
/**
 * How long n8n waits for running executions after SIGTERM (N8N_GRACEFUL_SHUTDOWN_TIMEOUT, @n8n/config GenericConfig):
 * below STOP_TIMEOUT, so n8n closes its connections and exits before Fargate kills it.
 */
export const GRACEFUL_SHUTDOWN_SECONDS = 100;

/**
 * `GET /healthz/readiness` with the image's own node (no curl in n8nio/n8n): 200 once the database is connected and
 * migrated and, on a worker, Redis is connected and the worker has started taking jobs (n8n 2.36.9
 * dist/scaling/worker-server.js `readiness`); 503 before.
 */
export const READINESS_COMMAND = 'node -e "require(\'http\').get(\'http://127.0.0.1:5678/healthz/readiness\','
  + ' (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on(\'error\', () => process.exit(1))"';

export interface N8nProcessProps {
  /** Which n8n process the tasks run. */
  readonly role: N8nRole;
  readonly cluster: ecs.ICluster;
  /** Subnets of the tasks: the data VPC's public ones (see ScaleNetwork for why). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The tasks' security group: no ingress from the internet. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Task CPU units and memory (validated by the config schema against Fargate's table). */
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Fargate Spot (workers) or on-demand Fargate. */
  readonly spot: boolean;
  /**
   * CPU architecture of the task.
   * @default arm64 (Graviton: about 20% cheaper per vCPU-hour, on demand and on Spot)
   */
  readonly architecture?: 'arm64' | 'x86_64';
  /**
   * Running tasks, written into the template.
   * @default - none written: a new service starts with 1 and every later deploy keeps the running count (the
   * workers: their scaling owns it; a DesiredCount in the template would reset it on each deploy)
   */
  readonly desiredCount?: number;
  readonly images: N8nImages;
  /** n8n's arguments (`start`, `worker --concurrency=N`, `webhook`). */
  readonly command: string[];
  /**
   * A POSIX shell script run before n8n, in the container's environment (e.g. to derive a setting from a secret);
   * n8n then replaces the shell (`exec`), so it still receives SIGTERM directly.
   * @default - n8n runs directly under the image's init
   */
  readonly prelude?: string;
  /** Non-secret settings of the n8n container; never DB_POSTGRESDB_SSL_* (this construct sets those). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The RDS certificate bundle of the database's region (rdsCaBundleUrl): fetched over HTTPS at every task start by
   * the `rds-ca` init container, and the only CAs n8n trusts for the database, whose name it verifies too.
   */
  readonly databaseCaBundleUrl: string;
  /** Secrets of the n8n container, injected by ECS from Secrets Manager. */
  readonly secrets: Readonly<Record<string, ecs.Secret>>;
  /** The token n8n's task broker and the runner sidecar share. */
  readonly runnerAuthToken: ecs.Secret;
  /** Concurrent tasks of the runner sidecar (N8N_RUNNERS_MAX_CONCURRENCY). */
  readonly runnerConcurrency: number;
  readonly logGroup: logs.ILogGroup;
  readonly runnerLogGroup: logs.ILogGroup;
  /**
   * Never run two of these at once during a deployment (stop the old task first). The main must not: without
   * multi-main (Enterprise) two mains would both fire every trigger and timer.
   * @default false - start the new task, wait for its readiness, then stop the old one
   */
  readonly singleton?: boolean;
  /**
   * Grace period before load balancer health checks count (services behind the load balancer only).
   * @default - none
   */
  readonly healthCheckGracePeriod?: Duration;
}

/**
 * One n8n process as an ECS service on Fargate: the n8n container and its external task-runner sidecar
 * (`n8nio/runners` at the same version, connected to n8n's broker over the task's loopback). n8n's readiness is the
 * container health check, so a task counts as started only when n8n is ready (deployments, with the circuit breaker
 * rolling a failing one back). On stop, ECS sends SIGTERM and waits STOP_TIMEOUT; n8n depends on the sidecar, so the
 * sidecar stops after n8n (container dependencies are reversed on shutdown, ECS ContainerDependency).
 *
 * The database connection is TLS with the server's certificate and name verified: before n8n starts, the `rds-ca`
 * init container (the n8n image's node, non-essential) writes the region's RDS CA bundle to a task volume, and n8n
 * starts only after it exited 0 (SUCCESS). If it cannot, n8n never starts and the task stops: no n8n process talks to
 * the database unverified.
 */
export class N8nProcess extends Construct {
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly service: ecs.FargateService;
  public readonly n8n: ecs.ContainerDefinition;
  public readonly runner: ecs.ContainerDefinition;
  /** The init container that fetches the RDS CA bundle. */
  public readonly rdsCa: ecs.ContainerDefinition;

  constructor(scope: Construct, id: string, props: N8nProcessProps) {
    super(scope, id);
    if (props.desiredCount !== undefined && props.desiredCount < 0) throw new Error(`N8nProcess ${props.role}: desiredCount must be 0 or more, got ${props.desiredCount}`);
    if (props.singleton && (props.desiredCount ?? 1) > 1) {
      throw new Error(`N8nProcess ${props.role}: a singleton process runs at most one task, got desiredCount ${props.desiredCount}`);
    }
    const sslSettings = Object.keys(props.environment).filter((name) => name.startsWith('DB_POSTGRESDB_SSL_'));
    if (sslSettings.length > 0) {
      throw new Error(`N8nProcess ${props.role}: ${sslSettings.join(', ')} must not be set: the construct sets the database's TLS settings itself`);
    }
    // Fargate Spot runs ARM64 tasks: the ECS API reference's CapacityProviderStrategyItem since 2024-10 ("FARGATE_SPOT
    // supports Linux tasks with the ARM64 architecture on platform version 1.4.0 or later"), AWS's Fargate Spot price
    // feed lists Linux/ARM prices; one page of the ECS Developer Guide still says otherwise, hence the x86_64 escape hatch.
    const cpuArchitecture = props.architecture === 'x86_64' ? ecs.CpuArchitecture.X86_64 : ecs.CpuArchitecture.ARM64;

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: { cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });

    this.n8n = this.taskDefinition.addContainer('n8n', {
      containerName: 'n8n',
      image: ecs.ContainerImage.fromRegistry(props.images.n8n),
      essential: true,
      // The image's own init (tini) runs n8n directly with these arguments: no shell between them and SIGTERM.
      entryPoint: props.prelude
        ? ['tini', '--', 'sh', '-c', `${props.prelude}\nexec n8n "$@"`, 'n8n']
        : ['tini', '--', 'n8n'],
      command: props.command,
      environment: {
        ...props.environment,
        // The instance requires TLS (rds.force_ssl). @n8n/config reads DB_POSTGRESDB_SSL_CA (PEM text) from the file
        // named by DB_POSTGRESDB_SSL_CA_FILE, and @n8n/db hands it to the pg driver as `ca` with rejectUnauthorized
        // (n8n 2.36.9: @n8n/config decorators readEnv, @n8n/db getPostgresConnectionOptions); pg sets the TLS
        // servername to DB_POSTGRESDB_HOST, so the certificate must chain to the RDS CAs and name the endpoint.
        DB_POSTGRESDB_SSL_ENABLED: 'true',
        DB_POSTGRESDB_SSL_CA_FILE: RDS_CA_FILE,
        DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED: 'true',
        N8N_RUNNERS_MODE: 'external',
        N8N_GRACEFUL_SHUTDOWN_TIMEOUT: String(GRACEFUL_SHUTDOWN_SECONDS),
      },
      secrets: { ...props.secrets, N8N_RUNNERS_AUTH_TOKEN: props.runnerAuthToken },
      portMappings: [{ containerPort: N8N_PORT, protocol: ecs.Protocol.TCP }],
      healthCheck: {
        command: ['CMD-SHELL', READINESS_COMMAND],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 4,
        // A first start migrates the database (about 18 s on a 2-core machine for a fresh one, reference/n8n-2.36.9-observed.md).
        startPeriod: Duration.seconds(180),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: props.role }),
      stopTimeout: STOP_TIMEOUT,
    });
    // Added second: the n8n container stays the task's default container (the load balancer's target).
    this.runner = this.taskDefinition.addContainer('runners', {
      containerName: 'runners',
      image: ecs.ContainerImage.fromRegistry(props.images.runners),
      essential: true,
      environment: {
        // n8n-io/task-runner-launcher internal/config/config.go: the broker URI (its default, stated) and how many
        // tasks a runner takes at once; the runner image's launcher config passes these to the runners.
        N8N_RUNNERS_TASK_BROKER_URI: `http://127.0.0.1:${RUNNER_BROKER_PORT}`,
        N8N_RUNNERS_MAX_CONCURRENCY: String(props.runnerConcurrency),
        GENERIC_TIMEZONE: props.environment.GENERIC_TIMEZONE ?? 'UTC',
      },
      secrets: { N8N_RUNNERS_AUTH_TOKEN: props.runnerAuthToken },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.runnerLogGroup, streamPrefix: props.role }),
      stopTimeout: STOP_TIMEOUT,
    });

    this.taskDefinition.addVolume({ name: RDS_CA_VOLUME });
    this.rdsCa = this.taskDefinition.addContainer('rds-ca', {
      containerName: 'rds-ca',
      // Already pulled for n8n: its node fetches, no other image to pin.
      image: ecs.ContainerImage.fromRegistry(props.images.n8n),
      essential: false,
      entryPoint: ['node', '-e', RDS_CA_FETCH_SCRIPT],
      environment: rdsCaFetchEnvironment(props.databaseCaBundleUrl),
      // Root only to write into the task volume, which Fargate creates owned by root with mode 0755 (ECS Developer
      // Guide, bind mounts); no secrets, no port, a read-only root file system, and it exits within RDS_CA_FETCH's bound.
      user: '0',
      readonlyRootFilesystem: true,
      startTimeout: RDS_CA_START_TIMEOUT,
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: props.role }),
    });
    this.rdsCa.addMountPoints({ sourceVolume: RDS_CA_VOLUME, containerPath: RDS_CA_MOUNT, readOnly: false });
    this.n8n.addMountPoints({ sourceVolume: RDS_CA_VOLUME, containerPath: RDS_CA_MOUNT, readOnly: true });

    this.n8n.addContainerDependencies(
      { container: this.rdsCa, condition: ecs.ContainerDependencyCondition.SUCCESS },
      { container: this.runner, condition: ecs.ContainerDependencyCondition.START },
    );

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      assignPublicIp: true,
      capacityProviderStrategies: [{ capacityProvider: props.spot ? 'FARGATE_SPOT' : 'FARGATE', weight: 1 }],
      minHealthyPercent: props.singleton ? 0 : 100,
      maxHealthyPercent: props.singleton ? 100 : 200,
      circuitBreaker: { enable: true, rollback: true },
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      healthCheckGracePeriod: props.healthCheckGracePeriod,
    });

    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ECS2',
      reason: 'Only non-secret settings are environment variables (asserted by test/scale); every secret is an ECS secret read from Secrets Manager by the execution role.',
    });
  }
}
