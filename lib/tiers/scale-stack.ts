import { CfnOutput, Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  SCALE_HOLD_CONTEXT_KEY, SCALE_OUTPUT_KEYS, SERVICES, TAG_KEYS, scaleAiHostAutoScalingGroupName, scaleClusterName,
} from '../../ops/src/contract';
import { CloudFrontEntry } from '../compute/cloudfront-entry';
import { LOAD_BALANCER_PORT } from '../compute/n8n-load-balancer';
import { cpuInstanceTypes } from '../compute/instance-types';
import { ownDomain } from '../config/own-domain-schema';
import { ScaleOptions, scaleOptions } from '../config/scale-schema';
import { BacklogMetric } from '../scale/backlog/backlog-metric';
import { n8nImages } from '../scale/n8n-images';
import { N8N_PORT, N8nProcess, N8nRole } from '../scale/n8n-process';
import { rdsCaBundleUrl } from '../scale/rds-ca';
import { GeuseScaleDataStack } from '../scale/scale-data-stack';
import { ScaleDataReferences } from '../scale/scale-data-references';
import { WorkerScaling } from '../scale/worker-scaling';
import { al2023MachineImage, GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/** CloudFront's default origin read timeout quota, as on the automation tier. */
const ORIGIN_READ_TIMEOUT = Duration.seconds(60);

/** The AI services the n8n tasks reach on the AI host, and nothing else of it (contract SERVICES). */
export const AI_SERVICE_PORTS: Readonly<Record<'ollama' | 'qdrant' | 'crawl4ai', number>> = {
  ollama: SERVICES.find((s) => s.name === 'ollama')!.port,
  qdrant: SERVICES.find((s) => s.name === 'qdrant')!.port,
  crawl4ai: SERVICES.find((s) => s.name === 'crawl4ai')!.port,
};

/** Rendered with tags by aws-cdk-lib, without them in cfn-lint's schema. */
const SCALABLE_TARGET_TYPE = 'AWS::ApplicationAutoScaling::ScalableTarget';

/**
 * Hashes the stored owner password (ECS secret N8N_OWNER_PASSWORD) with bcryptjs, which n8n itself depends on
 * (n8n 2.36.9 package.json: bcryptjs 2.4.3), into N8N_INSTANCE_OWNER_PASSWORD_HASH, the bcrypt hash n8n's owner
 * loader requires; the plain password leaves the environment before n8n starts.
 */
export const OWNER_PASSWORD_HASH_PRELUDE = [
  'N8N_INSTANCE_OWNER_PASSWORD_HASH="$(node -e "process.stdout.write(require(require.resolve(\'bcryptjs\', { paths: [\'/usr/local/lib/node_modules/n8n\'] })).hashSync(process.env.N8N_OWNER_PASSWORD, 10))")" || exit 1',
  'export N8N_INSTANCE_OWNER_PASSWORD_HASH',
  'unset N8N_OWNER_PASSWORD',
].join('\n');

/** Path of production webhooks, routed to the webhook processors when there are any. */
export const WEBHOOK_PATH = '/webhook/*';

/** The private DNS name of the AI host, which the host registers itself at boot (GM_AI_HOST_NAME). */
export function aiHostName(deployment: string): string {
  return `ai.${deployment}.geusemaker.internal`;
}

export interface GeuseScaleStackProps extends GeuseComputeStackProps {
  /** The deployment's `GeuseScaleData-<name>` (database and queue); this stack depends on it and never changes it. */
  readonly scaleData: GeuseScaleDataStack;
}

/**
 * `GeuseScale-<name>`: n8n in queue mode on ECS Fargate — one main (on-demand, behind CloudFront's VPC origin and the
 * internal load balancer), workers on Fargate Spot scaled on the queue backlog, optional webhook processors — over RDS
 * PostgreSQL and Valkey in `GeuseScaleData-<name>`, with the AI services on one host (GM_ROLE=ai-services) that the
 * n8n tasks reach privately at `ai.<name>.geusemaker.internal`.
 *
 * Network: the tasks run in the data VPC's public subnets with a public IPv4 address and a security group that admits
 * nothing from the internet (only the load balancer, on 5678). They need the internet for Docker Hub's images and for
 * every workflow that calls an outside API; a NAT gateway would cost about $33/month before data (two for two zones),
 * and VPC endpoints would not reach Docker Hub nor those APIs. A public IPv4 address costs $0.005/hour ($3.65/month)
 * per running task.
 */
export class GeuseScaleStack extends GeuseComputeStack {
  public readonly entry: CloudFrontEntry;
  public readonly cluster: ecs.Cluster;
  public readonly main: N8nProcess;
  public readonly workers: N8nProcess;
  public readonly webhooks?: N8nProcess;
  public readonly workerScaling: WorkerScaling;
  public readonly backlog: BacklogMetric;
  /** The n8n tasks' security group. */
  public readonly taskSecurityGroup: ec2.SecurityGroup;
  public readonly options: ScaleOptions;
  /** True while `gm-ops migrate` holds the services at 0 tasks (SCALE_HOLD_CONTEXT_KEY). */
  public readonly held: boolean;

  constructor(scope: Construct, id: string, props: GeuseScaleStackProps) {
    super(scope, id, 'scale', props);
    const { config } = props;
    const options = scaleOptions(config.scale);
    this.options = options;
    this.held = this.node.tryGetContext(SCALE_HOLD_CONTEXT_KEY) === config.name;
    this.addStackDependency(props.scaleData, 'n8n runs on the scale data stack\'s database and queue');
    const scaleData = new ScaleDataReferences(this, 'ScaleData', props.scaleData);
    const vpc = this.data.vpc;
    const images = n8nImages();

    // ---- the AI host: Ollama, Qdrant, Crawl4AI on the host pattern of the other tiers, without n8n and PostgreSQL.
    const zone = new route53.PrivateHostedZone(this, 'PrivateZone', {
      zoneName: `${config.name}.geusemaker.internal`,
      vpc,
      comment: `GeuseMaker ${config.name}: the AI host's private name`,
    });
    const host = this.createHost({
      autoScalingGroupName: scaleAiHostAutoScalingGroupName(config.name),
      machineImage: al2023MachineImage(config.architecture),
      instanceTypes: cpuInstanceTypes(config.instanceSize, config.architecture),
      settings: {
        GM_ROLE: 'ai-services',
        // The AI services listen beyond loopback; the host security group admits only the n8n tasks on their ports.
        GM_AI_SERVICES_BIND: '0.0.0.0',
        GM_AI_HOST_NAME: aiHostName(config.name),
        GM_AI_HOST_ZONE_ID: zone.hostedZoneId,
        // The database the pre-wired credentials are imported into, and the target of gm-ops migrate's restore.
        GM_SCALE_DATABASE_HOST: scaleData.databaseHost,
        GM_SCALE_DATABASE_PORT: scaleData.databasePort,
        GM_SCALE_DATABASE_SECRET: scaleData.databaseSecret.secretArn,
        // The import verifies the database's certificate with the region's RDS bundle, as the n8n tasks do.
        GM_RDS_CA_URL: rdsCaBundleUrl(this.region),
      },
    });
    host.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RegisterOwnPrivateName',
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [zone.hostedZoneArn],
    }));
    scaleData.databaseSecret.grantRead(host.role);

    // ---- network: who reaches what.
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: `GeuseMaker ${config.name} n8n tasks (ingress from the load balancer only)`,
      allowAllOutbound: true,
    });
    const tasks = this.taskSecurityGroup.securityGroupId;
    const hostGroup = this.data.hostSecurityGroup.securityGroupId;
    this.ingress('DatabaseFromTasks', scaleData.databaseSecurityGroupId, tasks, 5432, 'PostgreSQL from the n8n tasks');
    this.ingress('DatabaseFromAiHost', scaleData.databaseSecurityGroupId, hostGroup, 5432, 'PostgreSQL from the AI host (credentials import, gm-ops migrate)');
    this.ingress('QueueFromTasks', scaleData.queueSecurityGroupId, tasks, 6379, 'Valkey from the n8n tasks');
    for (const [service, port] of Object.entries(AI_SERVICE_PORTS)) {
      this.allowToHost(`${service[0].toUpperCase()}${service.slice(1)}FromTasks`, { sourceSecurityGroupId: tasks }, port, `${service} from the n8n tasks`);
    }

    // ---- the cluster, logs and secrets.
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: scaleClusterName(config.name),
      vpc,
      enableFargateCapacityProviders: true,
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ECS4',
      reason: 'Container Insights bills custom metrics per task and service; the services\' own CPU and memory metrics, the backlog metric and the logs cover what gm-ops shows.',
    });
    const logGroup = (process: string) => new logs.LogGroup(this, `${process[0].toUpperCase()}${process.slice(1)}Logs`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logGroups: Record<string, logs.LogGroup> = { main: logGroup('main'), worker: logGroup('worker'), runner: logGroup('runner') };
    if (options.webhooks.count > 0) logGroups.webhook = logGroup('webhook');

    const runnerToken = new secretsmanager.Secret(this, 'RunnerAuthToken', {
      description: `GeuseMaker ${config.name}: the token n8n's task broker and its runner sidecars share`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(runnerToken).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'Read by each task at start, shared only inside a task over loopback; a rotation would have to restart every task. Redeploying the stack makes a new one.',
    });

    // ---- the entry: CloudFront (HTTPS) -> VPC origin -> internal load balancer -> the main (and webhook processors).
    this.entry = new CloudFrontEntry(this, 'Entry', {
      vpc,
      vpcSubnets: this.data.requireOriginSubnets(config.name, config.vpcId, config.tier),
      originReadTimeout: ORIGIN_READ_TIMEOUT,
      loadBalancerIdleTimeout: Duration.seconds(options.idleTimeoutSeconds),
      allowedCidrs: config.allowedCidrs,
      // The user's own name (aliases, its us-east-1 certificate, TLSv1.2_2021): then publicUrl, n8n's editor base and
      // webhook URL on every n8n process, is https://<domainName>/.
      domain: ownDomain(options),
      comment: `GeuseMaker ${config.name}: n8n (scale)`,
    });

    // ---- the n8n processes.
    const secrets: Record<string, ecs.Secret> = {
      // Never changes for a deployment: the same key as on every host tier (contract STORED_SECRET_PURPOSES).
      N8N_ENCRYPTION_KEY: ecs.Secret.fromSecretsManager(this.data.secrets.secrets['n8n-encryption-key']),
      DB_POSTGRESDB_USER: ecs.Secret.fromSecretsManager(scaleData.databaseSecret, 'username'),
      DB_POSTGRESDB_PASSWORD: ecs.Secret.fromSecretsManager(scaleData.databaseSecret, 'password'),
      QUEUE_BULL_REDIS_PASSWORD: ecs.Secret.fromSecretsManager(scaleData.queueAuthToken),
    };
    const shared = this.sharedEnvironment(scaleData);
    // https://<domainName>/ with a domain of the user's own, else the distribution's https://<id>.cloudfront.net/.
    const publicUrls = {
      N8N_WEBHOOK_URL: this.entry.publicUrl,
      N8N_EDITOR_BASE_URL: this.entry.publicUrl,
    };
    const publicUrlSettings = {
      ...publicUrls,
      // CloudFront, then the load balancer (each appends to X-Forwarded-For), as on the automation tier.
      N8N_PROXY_HOPS: '2',
    };
    const n8nProcess = (role: N8nRole, id: string, settings: {
      cpu: number; memoryMiB: number; spot: boolean; architecture?: 'arm64' | 'x86_64'; desiredCount?: number; command: string[]; environment: Record<string, string>;
      singleton?: boolean; behindLoadBalancer?: boolean; runnerConcurrency: number; prelude?: string; secrets?: Record<string, ecs.Secret>;
    }) => new N8nProcess(this, id, {
      role,
      cluster: this.cluster,
      vpcSubnets: this.data.hostSubnets,
      securityGroup: this.taskSecurityGroup,
      cpu: settings.cpu,
      memoryMiB: settings.memoryMiB,
      spot: settings.spot,
      architecture: settings.architecture,
      desiredCount: this.held ? 0 : settings.desiredCount,
      images,
      command: settings.command,
      prelude: settings.prelude,
      environment: { ...shared, ...settings.environment },
      databaseCaBundleUrl: rdsCaBundleUrl(this.region),
      secrets: { ...secrets, ...settings.secrets },
      runnerAuthToken: ecs.Secret.fromSecretsManager(runnerToken),
      runnerConcurrency: settings.runnerConcurrency,
      logGroup: logGroups[role],
      runnerLogGroup: logGroups.runner,
      singleton: settings.singleton,
      healthCheckGracePeriod: settings.behindLoadBalancer ? Duration.minutes(5) : undefined,
    });

    this.main = n8nProcess('main', 'Main', {
      ...options.main,
      spot: false,
      desiredCount: 1,
      singleton: true,
      behindLoadBalancer: true,
      command: ['start'],
      prelude: OWNER_PASSWORD_HASH_PRELUDE,
      secrets: { N8N_OWNER_PASSWORD: ecs.Secret.fromSecretsManager(this.data.secrets.secrets['n8n-owner-password']) },
      runnerConcurrency: 5,
      environment: {
        // The owner exists before n8n listens: n8n 2.36.9 sets it up from these during start-up
        // (instance-settings-loader/loaders/owner.instance-settings-loader.js, overwriting on every start), so no
        // visitor can ever claim a fresh instance. The password is the deployment's stored owner password.
        N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
        N8N_INSTANCE_OWNER_EMAIL: config.n8nOwnerEmail,
        ...publicUrlSettings,
        // Manual runs go to the workers too: the main only serves the UI, triggers and timers (n8n 2.36.9
        // workflow-runner.js enqueues them when this is exactly 'true').
        OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
        ...(options.webhooks.count > 0 ? { N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' } : {}),
      },
    });
    this.main.service.attachToApplicationTargetGroup(this.entry.loadBalancer.targetGroup);

    const { workers } = options;
    this.workers = n8nProcess('worker', 'Workers', {
      cpu: workers.cpu,
      memoryMiB: workers.memoryMiB,
      spot: true,
      architecture: workers.architecture,
      // No count in the template: the backlog scaling owns it, and a deploy must not reset scaled-out workers
      // (CloudFormation sends DesiredCount on every update when the template has one; aws/containers-roadmap#493).
      command: ['worker', `--concurrency=${workers.concurrency}`],
      runnerConcurrency: workers.concurrency,
      environment: {
        // /healthz and /healthz/readiness on the worker (QUEUE_HEALTH_CHECK_PORT, 5678 by default): the container
        // health check, so a worker counts as started only once it takes jobs.
        QUEUE_HEALTH_CHECK_ACTIVE: 'true',
        // n8n opens 2 connections per process by default (@n8n/config PostgresConfig.poolSize); one per two
        // concurrent executions keeps a busy worker from queueing on its own pool.
        DB_POSTGRESDB_POOL_SIZE: String(Math.max(2, Math.ceil(workers.concurrency / 2))),
        // Executions run here, and their URLs are made here: $execution.resumeUrl (Wait node), form and webhook URLs
        // come from the webhook base URL of the process that runs them (n8n's WorkflowExecuteAdditionalData.getBase).
        ...publicUrls,
      },
    });

    if (options.webhooks.count > 0) {
      this.webhooks = n8nProcess('webhook', 'Webhooks', {
        ...options.webhooks,
        spot: false,
        desiredCount: options.webhooks.count,
        behindLoadBalancer: true,
        command: ['webhook'],
        runnerConcurrency: 5,
        environment: publicUrlSettings,
      });
      this.routeWebhooks(this.webhooks);
    }

    // A service on a capacity provider strategy fails to create before the cluster's association with the Fargate
    // providers exists; aws-cdk-lib adds that association during synthesis, inside the cluster construct.
    for (const n8n of [this.main, this.workers, this.webhooks]) n8n?.service.node.addDependency(this.cluster);

    // ---- scaling on the queue backlog.
    const backlogSecurityGroup = new ec2.SecurityGroup(this, 'BacklogSecurityGroup', {
      vpc,
      description: `GeuseMaker ${config.name} backlog function (no ingress)`,
      allowAllOutbound: true,
    });
    this.ingress('QueueFromBacklogFunction', scaleData.queueSecurityGroupId, backlogSecurityGroup.securityGroupId, 6379, 'Valkey from the backlog function');
    this.backlog = new BacklogMetric(this, 'Backlog', {
      deploymentName: config.name,
      vpc,
      vpcSubnets: this.data.requireOriginSubnets(config.name, config.vpcId, config.tier),
      securityGroup: backlogSecurityGroup,
      redisHost: scaleData.queueHost,
      redisPort: scaleData.queuePort,
      authToken: scaleData.queueAuthToken,
      tls: true,
      workerService: this.workers.service,
    });
    this.workerScaling = new WorkerScaling(this, 'WorkerScaling', {
      service: this.workers.service,
      min: this.held ? 0 : workers.min,
      max: this.held ? 0 : workers.max,
      backlogPerWorker: this.backlog.metric.with({ period: Duration.minutes(1) }),
      scaleOutBacklog: workers.scaleOutBacklog,
    });

    // AWS::ApplicationAutoScaling::ScalableTarget takes no Tags in the resource schema cfn-lint 1.51 carries (E3002),
    // although aws-cdk-lib renders them.
    for (const key of [TAG_KEYS.deployment, TAG_KEYS.tier]) {
      Tags.of(this).remove(key, { includeResourceTypes: [SCALABLE_TARGET_TYPE] });
    }

    // ---- what gm-ops reads.
    host.setPublicUrl(this.entry.publicUrl);
    // `functional-check.sh --service n8n` on the AI host (gm-ops health --deep): the owner logs in through the internal
    // load balancer, from inside the VPC, so a viewer allow-list on CloudFront does not shut the check out.
    host.addSetting('GM_N8N_CHECK_URL', `http://${this.entry.loadBalancer.loadBalancer.loadBalancerDnsName}`);
    this.ingress('LoadBalancerFromAiHost', this.entry.loadBalancer.securityGroup.securityGroupId, hostGroup, LOAD_BALANCER_PORT,
      'n8n through the load balancer from the AI host (its functional check)');
    this.entry.addOutputs();
    const outputs: Record<string, string> = {
      [SCALE_OUTPUT_KEYS.clusterName]: this.cluster.clusterName,
      [SCALE_OUTPUT_KEYS.mainServiceName]: this.main.service.serviceName,
      [SCALE_OUTPUT_KEYS.workerServiceName]: this.workers.service.serviceName,
      [SCALE_OUTPUT_KEYS.webhookServiceName]: this.webhooks?.service.serviceName ?? '',
      [SCALE_OUTPUT_KEYS.logGroupNames]: Object.entries(logGroups).map(([name, group]) => `${name}=${group.logGroupName}`).join(','),
      [SCALE_OUTPUT_KEYS.workerMinCount]: String(workers.min),
      [SCALE_OUTPUT_KEYS.workerMaxCount]: String(workers.max),
      [SCALE_OUTPUT_KEYS.workerConcurrency]: String(workers.concurrency),
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });
  }

  /** The settings every n8n process shares: queue mode over the scale data stack, binary data in the database. */
  private sharedEnvironment(scaleData: ScaleDataReferences): Record<string, string> {
    return {
      EXECUTIONS_MODE: 'queue',
      DB_TYPE: 'postgresdb',
      DB_POSTGRESDB_HOST: scaleData.databaseHost,
      DB_POSTGRESDB_PORT: scaleData.databasePort,
      DB_POSTGRESDB_DATABASE: 'n8n',
      // TLS to the database, verified against the region's RDS CA bundle: N8nProcess sets DB_POSTGRESDB_SSL_*.
      QUEUE_BULL_REDIS_HOST: scaleData.queueHost,
      QUEUE_BULL_REDIS_PORT: scaleData.queuePort,
      QUEUE_BULL_REDIS_TLS: 'true',
      // Files up to 512 MiB in PostgreSQL, readable by every process, no licence (n8n-core 2.36.7 BinaryDataConfig).
      N8N_DEFAULT_BINARY_DATA_MODE: 'database',
      N8N_PORT: String(N8N_PORT),
      N8N_SECURE_COOKIE: 'true',
      N8N_DIAGNOSTICS_ENABLED: 'false',
      N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      N8N_PERSONALIZATION_ENABLED: 'false',
      EXECUTIONS_DATA_PRUNE: 'true',
      EXECUTIONS_DATA_MAX_AGE: '336',
      GENERIC_TIMEZONE: 'UTC',
      TZ: 'UTC',
    };
  }

  /** Production webhooks (`/webhook/*`) to the webhook processors; everything else stays with the main. */
  private routeWebhooks(webhooks: N8nProcess): void {
    const targets = new elbv2.ApplicationTargetGroup(this, 'WebhookTargets', {
      vpc: this.data.vpc,
      port: N8N_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: { path: '/healthz/readiness', healthyHttpCodes: '200', interval: Duration.seconds(30), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
    });
    const [listener] = this.entry.loadBalancer.loadBalancer.listeners;
    listener.addTargetGroups('Webhooks', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns([WEBHOOK_PATH])],
      targetGroups: [targets],
    });
    webhooks.service.attachToApplicationTargetGroup(targets);
  }

  /** `port` on the security group `groupId` from `sourceGroupId` only; the rule lives in this stack. */
  private ingress(id: string, groupId: string, sourceGroupId: string, port: number, description: string): ec2.CfnSecurityGroupIngress {
    return new ec2.CfnSecurityGroupIngress(this, id, {
      groupId, sourceSecurityGroupId: sourceGroupId, ipProtocol: 'tcp', fromPort: port, toPort: port, description,
    });
  }
}
