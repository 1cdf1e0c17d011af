/**
 * The stack contract shared by the CDK app (`lib/`) and gm-ops (`ops/`).
 *
 * Stack names, tag keys, output keys, secret purposes and service facts live here and nowhere else.
 * This module must stay dependency-free: gm-ops imports it without the CDK toolchain.
 */

/** Compute tiers, in order of exposure. */
export const TIERS = ['dev', 'automation', 'gpu', 'scale'] as const;
export type Tier = (typeof TIERS)[number];

/** The tag value of the long-lived data stack. */
export const DATA_TIER = 'data';

/** A deployment name: lowercase, starts with a letter, does not end with a hyphen, at most 31 characters. */
export const DEPLOYMENT_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,29}[a-z0-9])?$/;
export const DEPLOYMENT_NAME_RULE = 'lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters';

const TIER_STACK_PREFIX: Record<Tier, string> = {
  dev: 'GeuseDev',
  automation: 'GeuseAutomation',
  gpu: 'GeuseGpu',
  scale: 'GeuseScale',
};
const DATA_STACK_PREFIX = 'GeuseData';
const PIPELINE_STACK_PREFIX = 'GeusePipeline';

export function dataStackName(deployment: string): string {
  return `${DATA_STACK_PREFIX}-${deployment}`;
}

export function computeStackName(tier: Tier, deployment: string): string {
  return `${TIER_STACK_PREFIX[tier]}-${deployment}`;
}

export function pipelineStackName(deployment: string): string {
  return `${PIPELINE_STACK_PREFIX}-${deployment}`;
}

/** What a stack name says about itself, or undefined when it is not a GeuseMaker stack. */
export type ParsedStackName =
  | { readonly kind: 'compute'; readonly tier: Tier; readonly deployment: string }
  | { readonly kind: 'data'; readonly deployment: string };

export function parseStackName(stackName: string): ParsedStackName | undefined {
  const dash = stackName.indexOf('-');
  if (dash < 0) return undefined;
  const prefix = stackName.slice(0, dash);
  const deployment = stackName.slice(dash + 1);
  if (!DEPLOYMENT_NAME_PATTERN.test(deployment)) return undefined;
  if (prefix === DATA_STACK_PREFIX) return { kind: 'data', deployment };
  const tier = TIERS.find((t) => TIER_STACK_PREFIX[t] === prefix);
  return tier ? { kind: 'compute', tier, deployment } : undefined;
}

/**
 * The name of a deployment's auto scaling group. Every single-host tier uses the same name, so a second compute stack for a
 * deployment fails to create (the name is taken) before it could launch a second host against the same data.
 */
export function autoScalingGroupName(deployment: string): string {
  return `geusemaker-${deployment}`;
}

// ---- scale tier (issue 15) — begin -------------------------------------------------------------------------
/**
 * The scale tier: n8n in queue mode on ECS Fargate (one main, Spot workers, optional webhook processors), RDS
 * PostgreSQL and node-based Valkey, the AI services on one host as in the other tiers.
 *
 * A scale deployment has three stacks: the usual `GeuseData-<name>` (VPC, EFS, secrets: the AI host keeps using
 * them), `GeuseScaleData-<name>` (RDS + Valkey + their secrets; deleting it never loses the database: snapshot
 * on delete, retained secrets) and the compute stack `GeuseScale-<name>` (ECS cluster and services, the AI host,
 * the backlog function, the CloudFront entry). gm-ops reads the outputs below from those stacks.
 */
export const SCALE_DATA_STACK_PREFIX = 'GeuseScaleData';
/** The scale compute stack's prefix: TIER_STACK_PREFIX.scale must be this. */
export const SCALE_COMPUTE_STACK_PREFIX = 'GeuseScale';

export function scaleComputeStackName(deployment: string): string {
  return `${SCALE_COMPUTE_STACK_PREFIX}-${deployment}`;
}

export function scaleDataStackName(deployment: string): string {
  return `${SCALE_DATA_STACK_PREFIX}-${deployment}`;
}

/** The services of the scale tier's AI host (GM_ROLE=ai-services; docker/host/lib.sh GM_AI_SERVICES): n8n and PostgreSQL run on ECS and RDS. */
export const AI_HOST_SERVICES = ['ollama', 'qdrant', 'crawl4ai'] as const;

/**
 * The AI host's auto scaling group in the scale tier. It differs from `autoScalingGroupName` on purpose: `gm-ops
 * migrate` deploys the target compute stack while the source one still exists (its host fenced), and removes the
 * source only once the target passes its functional check. The AI host runs no PostgreSQL and no n8n, but it takes
 * the single-writer fence on EFS as every host does (it writes Qdrant's snapshots there): migrate stops the source
 * host's stack (which releases the fence) before the target's host boots, and a host of the other tier never
 * starts writing beside it.
 */
export function scaleAiHostAutoScalingGroupName(deployment: string): string {
  return `geusemaker-${deployment}-ai`;
}

/** The ECS cluster of a scale deployment (also the CloudWatch dimension `ClusterName` of its services). */
export function scaleClusterName(deployment: string): string {
  return `geusemaker-${deployment}`;
}

/** The n8n processes of the scale tier, as ECS services. `webhook` is optional (0 processors: no service). */
export const SCALE_SERVICES = ['main', 'worker', 'webhook'] as const;
export type ScaleService = (typeof SCALE_SERVICES)[number];

/**
 * The queue backlog the scheduled function reads from Valkey and publishes (one datum per minute or faster).
 * Dimension `Deployment=<name>`. `BacklogPerWorker` = waiting jobs / max(1, running worker tasks): the scaling
 * policy's target metric. `WaitingJobs` = the raw length of the waiting list (what gm-ops status shows).
 */
export const SCALE_BACKLOG_METRIC = {
  namespace: 'GeuseMaker/Scale',
  backlogPerWorker: 'BacklogPerWorker',
  waitingJobs: 'WaitingJobs',
  dimension: 'Deployment',
} as const;

/**
 * `gm-ops migrate` deploys the scale compute stack once with `-c geusemaker:scale-hold=<name>`: every n8n
 * service then has desired count 0 (and the worker scaling minimum 0), so nothing writes to the fresh database
 * before the dump is restored into it. The following deploy without the key starts the services on the restored
 * data. Migrating back deploys the scale stack with the same key first: that is the fence of the scale tier.
 */
export const SCALE_HOLD_CONTEXT_KEY = 'geusemaker:scale-hold';

/**
 * CloudFormation output keys of the scale tier. Renaming one is a breaking change.
 * Compute stack `GeuseScale-<name>` publishes: Tier (=scale), EntryUrl (and N8nUrl), CloudFrontUrl,
 * AutoScalingGroupName (= the AI host's group, `scaleAiHostAutoScalingGroupName`), and the keys below marked
 * [compute]. Data stack `GeuseScaleData-<name>` publishes those marked [scale data].
 */
export const SCALE_OUTPUT_KEYS = {
  /** [compute] the ECS cluster name. */
  clusterName: 'ClusterName',
  /** [compute] ECS service names; WebhookServiceName is '' when there are no webhook processors. */
  mainServiceName: 'MainServiceName',
  workerServiceName: 'WorkerServiceName',
  webhookServiceName: 'WebhookServiceName',
  /** [compute] `process=logGroupName` pairs joined by ',' (main, worker, webhook, runner, backlog): see parsePairs. */
  logGroupNames: 'LogGroupNames',
  /** [compute] the worker scaling bounds, as decimal strings. */
  workerMinCount: 'WorkerMinCount',
  workerMaxCount: 'WorkerMaxCount',
  /** [compute] `n8n worker --concurrency` of each worker task. */
  workerConcurrency: 'WorkerConcurrency',
  /** [scale data] `host:port` of the RDS instance, its identifier (for DescribeDBInstances) and database name. */
  databaseEndpoint: 'DatabaseEndpoint',
  databaseInstanceId: 'DatabaseInstanceId',
  databaseName: 'DatabaseName',
  /**
   * [scale data] the Secrets Manager secret of the database user (JSON with username, password, host, port,
   * dbname: the shape RDS-generated secrets have). The AI host's role may read it: `gm-ops migrate` restores
   * the dump from the AI host.
   */
  databaseSecretArn: 'DatabaseSecretArn',
  /** [scale data] `host:port` of the Valkey primary endpoint and the replication group id (DescribeReplicationGroups). */
  queueEndpoint: 'QueueEndpoint',
  queueReplicationGroupId: 'QueueReplicationGroupId',
  /** [scale data] the Secrets Manager secret holding the Valkey auth token. */
  queueAuthSecretArn: 'QueueAuthSecretArn',
} as const;

/** `key=value` pairs joined by ',' (the shape of SecretArns and LogGroupNames). */
export function parsePairs(value: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    result[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return result;
}
// ---- scale tier (issue 15) — end ---------------------------------------------------------------------------

/** Tags carried by every resource. */
export const TAG_KEYS = {
  deployment: 'geuse:deployment',
  tier: 'geuse:tier',
} as const;

/** CloudFormation output keys that gm-ops reads. Renaming one is a breaking change. */
export const OUTPUT_KEYS = {
  /** [data] the IAM role AWS Backup backs up and restores the file system with (gm-ops drill restores with it). */
  backupRoleArn: 'BackupRoleArn',
  // data stack
  fileSystemId: 'FileSystemId',
  secretArns: 'SecretArns',
  vpcId: 'VpcId',
  hostSubnetIds: 'HostSubnetIds',
  hostSecurityGroupId: 'HostSecurityGroupId',
  fileSystemSecurityGroupId: 'FileSystemSecurityGroupId',
  // compute stacks
  tier: 'Tier',
  autoScalingGroupName: 'AutoScalingGroupName',
  bootstrapTimeoutMinutes: 'BootstrapTimeoutMinutes',
  n8nUrl: 'N8nUrl',
  entryUrl: 'EntryUrl',
  portForwardCommand: 'PortForwardCommand',
  loadBalancerDns: 'LoadBalancerDnsName',
  cloudFrontUrl: 'CloudFrontUrl',
} as const;

/**
 * Context key naming the throwaway deployment of `gm-ops drill` (`-c geusemaker:drill=<name>-drill`): its data stack
 * gets no AWS Backup plan and no vault of its own, so a drill leaves nothing behind.
 */
export const DRILL_CONTEXT_KEY = 'geusemaker:drill';

/**
 * The termination lifecycle hook of every host's auto scaling group: when the group scales in (gm-ops stop, a
 * schedule, a replacement), the host stops cleanly (database flushed, vectors snapshotted, fence released) and
 * completes this hook before it is terminated.
 */
export const CLEAN_STOP_HOOK_NAME = 'geusemaker-clean-stop';

/**
 * The secret values a host runs with. `envVar` is the name the host's root-only env file uses.
 * - `stored`: one Secrets Manager secret each, named `geusemaker/<deployment>/<purpose>`, generated and retained by
 *   the data stack. The n8n encryption key is the root of every derived value and must never change; the owner
 *   password is the one value a person reads.
 * - `derived`: computed on the host from the encryption key (HMAC-SHA256 of `geusemaker/<purpose>`, see
 *   docker/host/lib.sh), so they cost nothing and are as stable as the key. A secret of the same name retained from a
 *   deployment made before this layout wins over the derived value: its value is already inside the data.
 */
export const SECRET_PURPOSES = [
  { purpose: 'postgres-password', envVar: 'POSTGRES_PASSWORD', source: 'derived' },
  { purpose: 'n8n-encryption-key', envVar: 'N8N_ENCRYPTION_KEY', source: 'stored' },
  { purpose: 'n8n-jwt-secret', envVar: 'N8N_USER_MANAGEMENT_JWT_SECRET', source: 'derived' },
  { purpose: 'qdrant-api-key', envVar: 'QDRANT_API_KEY', source: 'derived' },
  { purpose: 'crawl4ai-api-token', envVar: 'CRAWL4AI_API_TOKEN', source: 'derived' },
  { purpose: 'n8n-owner-password', envVar: 'N8N_OWNER_PASSWORD', source: 'stored' },
] as const;
export type SecretPurpose = (typeof SECRET_PURPOSES)[number]['purpose'];
/** The purposes kept as Secrets Manager secrets (what the data stack creates and the deployment pays for). */
export const STORED_SECRET_PURPOSES = SECRET_PURPOSES.filter((s) => s.source === 'stored');
export type StoredSecretPurpose = Extract<(typeof SECRET_PURPOSES)[number], { source: 'stored' }>['purpose'];
/** The purposes the host derives from the encryption key (unless a legacy secret of that name exists). */
export const DERIVED_SECRET_PURPOSES = SECRET_PURPOSES.filter((s) => s.source === 'derived');

export function secretName(deployment: string, purpose: SecretPurpose): string {
  return `geusemaker/${deployment}/${purpose}`;
}

/**
 * `SecretArns` output: `purpose=arn` pairs joined by `,` (secret ARNs contain no `,` or `=`).
 */
export function parseSecretArns(value: string): Partial<Record<SecretPurpose, string>> {
  const result: Partial<Record<SecretPurpose, string>> = {};
  for (const pair of value.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    result[pair.slice(0, eq).trim() as SecretPurpose] = pair.slice(eq + 1).trim();
  }
  return result;
}

/** The services of the on-host runtime (docker/compose.yml) and how each one's health is read. */
export const SERVICES = [
  // readiness: 503 until n8n's database is connected and migrated (plain /healthz is up before that).
  { name: 'n8n', port: 5678, health: { kind: 'http', path: '/healthz/readiness' } },
  { name: 'postgres', port: 5432, health: { kind: 'tcp' } },
  { name: 'ollama', port: 11434, health: { kind: 'http', path: '/api/version' } },
  { name: 'qdrant', port: 6333, health: { kind: 'http', path: '/readyz' } },
  { name: 'crawl4ai', port: 11235, health: { kind: 'http', path: '/health' } },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

/** Paths on the host. */
export const HOST_PATHS = {
  efsMount: '/mnt/efs',
  runtimeDir: '/opt/geusemaker',
  envFile: '/etc/geusemaker/runtime.env',
  bootstrapLog: '/var/log/geusemaker-bootstrap.log',
  /** The host watchdog's last action, `<epoch seconds> <action> <service> <reason>` (docker/host/watchdog.sh). */
  watchdogLastAction: '/run/geusemaker/watchdog/last-action',
} as const;

/** Hours in a billing month, as AWS prices it. */
export const HOURS_PER_MONTH = 730;
