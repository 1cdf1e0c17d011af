/**
 * The stack contract shared by the CDK app (`lib/`) and gm-ops (`ops/`).
 *
 * Stack names, tag keys, output keys, secret purposes and service facts live here and nowhere else.
 * This module must stay dependency-free: gm-ops imports it without the CDK toolchain.
 */

/** Compute tiers, in order of exposure. */
export const TIERS = ['dev', 'automation', 'gpu'] as const;
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
 * The name of a deployment's auto scaling group. Every tier uses the same name, so a second compute stack for a
 * deployment fails to create (the name is taken) before it could launch a second host against the same data.
 */
export function autoScalingGroupName(deployment: string): string {
  return `geusemaker-${deployment}`;
}

/** Tags carried by every resource. */
export const TAG_KEYS = {
  deployment: 'geuse:deployment',
  tier: 'geuse:tier',
} as const;

/** CloudFormation output keys that gm-ops reads. Renaming one is a breaking change. */
export const OUTPUT_KEYS = {
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
export type SecretPurpose = (typeof SECRET_PURPOSES)[number]['purpose'];

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
