import { z } from 'zod';
import {
  DEPLOYMENT_NAME_PATTERN, DEPLOYMENT_NAME_RULE, Tier, computeStackName, dataStackName,
} from '../../ops/src/contract';
import { configProblem, valueAt } from './config-error';
import { ConfigError, ContextReader, DEPLOYMENTS_CONTEXT_KEY, DeploymentConfig, loadDeployments } from './load-config';

/** Context key holding the declared promotion pipelines (cdk.json, committed: the pipeline synthesizes itself from the repository). */
export const PIPELINES_CONTEXT_KEY = 'geusemaker:pipelines';

/** Environments of a pipeline that declares none, in promotion order. */
export const DEFAULT_ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;

/** The tier of an environment whose deployment settings name none. */
export const DEFAULT_TIER: Tier = 'dev';

/** The environment whose deployment keeps the pipeline's own name and that waits for a manual approval by default. */
export const PRODUCTION_ENVIRONMENT = 'prod';

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const ENVIRONMENT_NAME_RULE = 'lowercase letters, digits and hyphens, starting with a letter, at most 20 characters';
/** CodeStar Connections (now AWS CodeConnections) ARNs, both service prefixes. */
const CONNECTION_ARN = /^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:connection\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A complete, valid example: a placeholder in it would fail the very rule it explains. */
const CONNECTION_ARN_RULE = 'expected a connection ARN (connection/ then the connection id, a UUID) such as '
  + 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
/** GitHub / GitLab / Bitbucket `owner/name` (GitLab groups may nest). */
const OWNER_REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+)+$/;
/** CodeCommit repository names: up to 100 letters, digits, `.`, `_`, `-`. */
const CODECOMMIT_REPOSITORY = /^[A-Za-z0-9_.-]{1,100}$/;
/** A git branch name (git check-ref-format, simplified): no spaces, `..`, `~^:?*[\`, leading/trailing `/` or `.lock`. */
const BRANCH = /^(?!\/)(?!.*\/$)(?!.*\.lock$)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[^\s~^:?*[\\\x00-\x1f\x7f]{1,255}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/;
const AVAILABILITY_ZONE = /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/;

/** How many availability zones a deployment's VPC spans (the data stack's maxAzs). */
export const VPC_AVAILABILITY_ZONES = 2;

/**
 * The VPC of an environment-specific data stack spans availability zones that `cdk synth` would look up (with
 * credentials) under this context key. Pipeline environments take them from the config or a committed cdk.context.json.
 */
export function availabilityZonesContextKey(account: string, region: string): string {
  return `availability-zones:account=${account}:region=${region}`;
}

const availabilityZones = z.array(
  z.string().regex(AVAILABILITY_ZONE, { message: 'expected availability zone names such as eu-west-1a' }),
  { message: 'expected a list of availability zone names such as ["eu-west-1a", "eu-west-1b"]' },
).min(VPC_AVAILABILITY_ZONES, { message: `expected at least ${VPC_AVAILABILITY_ZONES} availability zone names such as ["eu-west-1a", "eu-west-1b"]` });

const branch = z.string({ message: 'expected a git branch name such as main' })
  .regex(BRANCH, { message: 'expected a git branch name such as main' });

export const sourceSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('codestar-connection'),
    /** The connection (console: Developer Tools > Connections), authorised for the repository. */
    connectionArn: z.string({ message: CONNECTION_ARN_RULE }).regex(CONNECTION_ARN, { message: CONNECTION_ARN_RULE }),
    /** `owner/name` on GitHub, GitHub Enterprise, GitLab or Bitbucket. */
    repository: z.string({ message: 'expected owner/name of the repository, such as my-org/geusemaker' })
      .regex(OWNER_REPOSITORY, { message: 'expected owner/name of the repository, such as my-org/geusemaker' }),
    branch,
  }),
  z.strictObject({
    type: z.literal('codecommit'),
    /** An existing CodeCommit repository in the pipeline's account and region. */
    repository: z.string({ message: 'expected a CodeCommit repository name (letters, digits, ., _, -; at most 100)' })
      .regex(CODECOMMIT_REPOSITORY, { message: 'expected a CodeCommit repository name (letters, digits, ., _, -; at most 100)' }),
    branch,
  }),
], { message: 'expected type "codestar-connection" (connectionArn, repository, branch) or "codecommit" (repository, branch)' });

export const healthGateSchema = z.strictObject({
  /** Run `gm-ops health` after the environment's deployment; an unhealthy service fails the stage. */
  enabled: z.boolean({ message: 'expected true or false' }).default(true),
  /**
   * A role in the environment's account that the gate assumes (cross-account environments only): it needs the
   * gate's read and SSM permissions there and must trust the pipeline account.
   */
  roleArn: z.string().regex(ROLE_ARN, { message: 'expected an IAM role ARN such as arn:aws:iam::123456789012:role/geuse-health-gate' }).optional(),
  /** Probes before the gate gives up, 30 seconds apart (a freshly replaced host may still be settling). */
  attempts: z.number().int({ message: 'expected 1 to 10 attempts' }).min(1, { message: 'expected 1 to 10 attempts' })
    .max(10, { message: 'expected 1 to 10 attempts' }).default(3),
});

const deploymentSettings = z.record(z.string(), z.unknown(), { message: 'expected an object of deployment settings (as in geusemaker:deployments)' });

export const environmentSchema = z.strictObject({
  /** Where the environment's stacks go; defaults to the pipeline's account and region. */
  account: z.string().regex(ACCOUNT, { message: 'expected a 12-digit AWS account id' }).optional(),
  region: z.string().regex(REGION, { message: 'expected an AWS region such as eu-west-1' }).optional(),
  /** Availability zones of the environment's region for its VPC (the first two are used); default: the pipeline's when in its region. */
  availabilityZones: availabilityZones.optional(),
  /** The deployment name of this environment (stack names Geuse<Tier>-<deploymentName>); default `<pipeline>-<env>`, `<pipeline>` for prod. */
  deploymentName: z.string().regex(DEPLOYMENT_NAME_PATTERN, { message: `expected ${DEPLOYMENT_NAME_RULE}` }).optional(),
  /** A manual approval before the environment's deploy actions; default: only for prod. */
  approval: z.boolean({ message: 'expected true or false' }).optional(),
  healthGate: healthGateSchema.default({ enabled: true, attempts: 3 }),
  /** The deployment settings of this environment (tier, market, …: the schema of geusemaker:deployments), over the pipeline's `deployment`. */
  deployment: deploymentSettings.default({}),
});

export const pipelineSchema = z.strictObject({
  /** The account and region of the pipeline stack (required: cross-account and cross-region stages need a concrete pipeline env). */
  account: z.string({ message: 'expected a 12-digit AWS account id' }).regex(ACCOUNT, { message: 'expected a 12-digit AWS account id' }),
  region: z.string({ message: 'expected an AWS region such as eu-west-1' }).regex(REGION, { message: 'expected an AWS region such as eu-west-1' }),
  source: sourceSchema,
  /**
   * Availability zones of the pipeline's region, for the VPCs of the environments there (the first two are used).
   * Synthesis would otherwise look them up with AWS credentials; alternatively commit that lookup in cdk.context.json.
   */
  availabilityZones: availabilityZones.optional(),
  /** Deployment settings shared by every environment (each environment's `deployment` overrides them key by key). */
  deployment: deploymentSettings.default({}),
  /** Environments in promotion order (the order of the keys). */
  environments: z.record(
    z.string().regex(ENVIRONMENT_NAME, { message: `expected an environment name of ${ENVIRONMENT_NAME_RULE}` }),
    environmentSchema,
  ).default(() => Object.fromEntries(DEFAULT_ENVIRONMENTS.map((name) => [name, environmentSchema.parse({})]))),
  notifications: z.strictObject({
    /** Subscribed to pipeline failures and pending approvals (the address must confirm the subscription). */
    email: z.email({ message: 'expected an email address such as ops@example.com' }).optional(),
  }).default({}),
});

export type PipelineInput = z.input<typeof pipelineSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type HealthGateConfig = z.output<typeof healthGateSchema>;

/** One environment of a pipeline, validated: its deployment is a full DeploymentConfig with a concrete env. */
export interface PipelineEnvironmentConfig {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly approval: boolean;
  readonly healthGate: HealthGateConfig;
  /** Set as the stage's availability-zones context; undefined when cdk.context.json already holds them. */
  readonly availabilityZones?: readonly string[];
  readonly deployment: DeploymentConfig & { readonly env: { readonly account: string; readonly region: string } };
}

/** A validated promotion pipeline. */
export interface PipelineConfig {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly source: SourceConfig;
  readonly environments: readonly PipelineEnvironmentConfig[];
  readonly notifications: { readonly email?: string };
  /** True when some environment is in another account than the pipeline (KMS-encrypted artifacts, cross-account roles). */
  readonly crossAccount: boolean;
}

/**
 * Reads and validates `geusemaker:pipelines`. `deployments` are the app's top-level deployments: a pipeline
 * environment may not reuse the stack names of one that is pinned to the same account and region.
 */
export function loadPipelines(readContext: ContextReader, deployments: readonly DeploymentConfig[] = []): PipelineConfig[] {
  const declared = parseDeclared(readContext(PIPELINES_CONTEXT_KEY));
  const pipelines = Object.entries(declared).map(([name, raw]) => validatePipeline(name, raw, readContext));
  checkCollisions(pipelines, deployments);
  return pipelines;
}

function validatePipeline(name: string, raw: unknown, readContext: ContextReader): PipelineConfig {
  const field = `${PIPELINES_CONTEXT_KEY}.${name}`;
  if (!DEPLOYMENT_NAME_PATTERN.test(name)) {
    throw configProblem(field, name, `pipeline names must be ${DEPLOYMENT_NAME_RULE}`);
  }
  const input = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : undefined;
  if (input === undefined) {
    throw configProblem(field, raw, 'expected an object with account, region, source and optionally availabilityZones, deployment, environments, notifications');
  }
  const result = pipelineSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(field, input, issue)).join('\n'));
  }
  const parsed = result.data;
  const environmentNames = Object.keys(parsed.environments);
  if (environmentNames.length === 0) {
    throw configProblem(`${field}.environments`, {}, `expected at least one environment (default: ${DEFAULT_ENVIRONMENTS.join(', ')})`);
  }
  rejectPinnedSettings(`${field}.deployment`, parsed.deployment);

  const environments = environmentNames.map((envName): PipelineEnvironmentConfig => {
    const env = parsed.environments[envName];
    const envField = `${field}.environments.${envName}`;
    const account = env.account ?? parsed.account;
    const region = env.region ?? parsed.region;
    rejectPinnedSettings(`${envField}.deployment`, env.deployment);
    const zones = env.availabilityZones ?? (region === parsed.region ? parsed.availabilityZones : undefined);
    const zonesField = env.availabilityZones !== undefined ? `${envField}.availabilityZones` : `${field}.availabilityZones`;
    const foreign = zones?.find((zone) => !zone.startsWith(region) || !/^[a-z]$/.test(zone.slice(region.length)));
    if (foreign !== undefined) {
      throw configProblem(zonesField, zones, `${foreign} is not an availability zone of ${region}, the region of environment ${envName}`);
    }
    if (zones === undefined && readContext(availabilityZonesContextKey(account, region)) === undefined) {
      throw configProblem(`${envField}.availabilityZones`, undefined,
        `the deployment's VPC spans ${VPC_AVAILABILITY_ZONES} availability zones of ${account}/${region}, which synthesis would look up with AWS credentials; `
        + `list them (e.g. ["${region}a", "${region}b"]; the pipeline's availabilityZones serve its own region) or commit that lookup in cdk.context.json`);
    }

    const deploymentName = env.deploymentName ?? (envName === PRODUCTION_ENVIRONMENT ? name : `${name}-${envName}`);
    if (!DEPLOYMENT_NAME_PATTERN.test(deploymentName)) {
      throw configProblem(`${envField}.deploymentName`, deploymentName,
        `the derived deployment name must be ${DEPLOYMENT_NAME_RULE}; set deploymentName to a shorter one`);
    }
    if (env.healthGate.enabled && account !== parsed.account && env.healthGate.roleArn === undefined) {
      throw configProblem(`${envField}.healthGate.roleArn`, undefined,
        `environment account ${account} differs from the pipeline account ${parsed.account}: the health gate needs a role in ${account} to assume (see the README), or set healthGate.enabled to false`);
    }
    if (env.healthGate.roleArn !== undefined && accountOfRole(env.healthGate.roleArn) !== account) {
      throw configProblem(`${envField}.healthGate.roleArn`, env.healthGate.roleArn, `expected a role in the environment's account ${account}`);
    }
    const deployment = validateDeployment(`${envField}.deployment`, deploymentName, {
      tier: DEFAULT_TIER,
      ...parsed.deployment,
      ...env.deployment,
      env: { account, region },
    });
    return {
      name: envName,
      account,
      region,
      approval: env.approval ?? envName === PRODUCTION_ENVIRONMENT,
      healthGate: env.healthGate,
      availabilityZones: zones,
      deployment: { ...deployment, env: { account, region } },
    };
  });

  return {
    name,
    account: parsed.account,
    region: parsed.region,
    source: parsed.source,
    environments,
    notifications: parsed.notifications,
    crossAccount: environments.some((e) => e.account !== parsed.account),
  };
}

/**
 * Pipeline environments pin their account and region themselves, and synthesize in CodeBuild without credentials:
 * no `env` (use the environment's account/region) and no `vpcId` (Vpc.fromLookup would need a context lookup).
 */
function rejectPinnedSettings(field: string, settings: Record<string, unknown>): void {
  if (settings.env !== undefined) {
    throw configProblem(`${field}.env`, settings.env, 'a pipeline environment sets its account and region with environments.<env>.account and .region');
  }
  if (settings.vpcId !== undefined) {
    throw configProblem(`${field}.vpcId`, settings.vpcId,
      'pipeline environments cannot use an existing VPC: its lookup needs AWS credentials at synth time; leave it out to create the deployment\'s own VPC');
  }
}

/** Validated by exactly the rules of geusemaker:deployments (schema, tier options, defaults); errors name the pipeline field. */
function validateDeployment(field: string, deploymentName: string, settings: Record<string, unknown>): DeploymentConfig {
  const reader: ContextReader = (key) => (key === DEPLOYMENTS_CONTEXT_KEY ? { [deploymentName]: settings } : undefined);
  try {
    const [deployment] = loadDeployments(reader);
    return deployment;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const original = `${DEPLOYMENTS_CONTEXT_KEY}.${deploymentName}`;
    throw new ConfigError(error.message.split('\n').map((line) => line.split(original).join(field)).join('\n'));
  }
}

/** Two deployments with one name in one account and region would share every stack name: refuse before any construct exists. */
function checkCollisions(pipelines: readonly PipelineConfig[], deployments: readonly DeploymentConfig[]): void {
  const owners = new Map<string, string>();
  for (const deployment of deployments) {
    if (deployment.env) owners.set(collisionKey(deployment.env.account, deployment.env.region, deployment.name), `${DEPLOYMENTS_CONTEXT_KEY}.${deployment.name}`);
  }
  for (const pipeline of pipelines) {
    for (const env of pipeline.environments) {
      const key = collisionKey(env.account, env.region, env.deployment.name);
      const field = `${PIPELINES_CONTEXT_KEY}.${pipeline.name}.environments.${env.name}.deploymentName`;
      const owner = owners.get(key);
      if (owner !== undefined) {
        throw configProblem(field, env.deployment.name,
          `stacks ${describeStacks(env.deployment.name, env.deployment.tier)} would collide with ${owner} in ${env.account}/${env.region}; give each environment sharing an account and region its own deploymentName`);
      }
      owners.set(key, `${PIPELINES_CONTEXT_KEY}.${pipeline.name}.environments.${env.name}`);
    }
  }
}

function collisionKey(account: string, region: string, deployment: string): string {
  return `${account}/${region}/${deployment}`;
}

function describeStacks(deployment: string, tier: Tier): string {
  return `${dataStackName(deployment)} and ${computeStackName(tier, deployment)}`;
}

function accountOfRole(roleArn: string): string {
  return roleArn.split(':')[4];
}

function parseDeclared(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw configProblem(PIPELINES_CONTEXT_KEY, value, 'expected a JSON object of pipelines');
    }
    return parseDeclared(parsed);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw configProblem(PIPELINES_CONTEXT_KEY, value, 'expected an object mapping pipeline names to their settings');
  }
  return { ...(value as Record<string, unknown>) };
}

function describeIssue(field: string, input: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  const where = [field, ...path].join('.');
  if (issue.code === 'unrecognized_keys') {
    return `Invalid configuration: ${where}: unknown setting ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowedKeys(input, path)}`;
  }
  if (issue.code === 'invalid_key') {
    return configProblem(where, path[path.length - 1], issue.issues[0]?.message ?? issue.message).message;
  }
  return configProblem(where, valueAt(input, issue.path), issue.message).message;
}

/** The settings allowed where an unknown one was found. */
function allowedKeys(input: unknown, path: string[]): string {
  if (path.length === 0) return Object.keys(pipelineSchema.shape).join(', ');
  if (path[0] === 'source') {
    const type = (valueAt(input, ['source', 'type']) as string | undefined) ?? '';
    const option = sourceSchema.options.find((o) => o.shape.type.value === type);
    return option ? Object.keys(option.shape).join(', ') : 'type';
  }
  if (path[0] === 'notifications') return 'email';
  if (path[0] === 'environments' && path.length === 2) return Object.keys(environmentSchema.shape).join(', ');
  if (path[0] === 'environments' && path[2] === 'healthGate') return Object.keys(healthGateSchema.shape).join(', ');
  return '(none)';
}
