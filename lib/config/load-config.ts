import { z } from 'zod';
import { DEPLOYMENT_NAME_PATTERN, DEPLOYMENT_NAME_RULE, TIERS, Tier } from '../../ops/src/contract';
import { ConfigError, configProblem, valueAt } from './config-error';
import { Architecture, DeploymentInput, deploymentSchema, ParsedDeployment } from './schema';

export { ConfigError } from './config-error';

/** Context key holding the declared deployments (cdk.json or `-c`). */
export const DEPLOYMENTS_CONTEXT_KEY = 'geusemaker:deployments';
/** `-c name=<name>` declares or selects one deployment. */
export const NAME_CONTEXT_KEY = 'name';
/** `-c tier=<tier>` sets the tier of the selected deployment. */
export const TIER_CONTEXT_KEY = 'tier';
/** `-c retainedFileSystemId=<fs-id>` rebuilds the selected deployment's data stack around a retained file system (gm-ops restore). */
export const RETAINED_FILE_SYSTEM_CONTEXT_KEY = 'retainedFileSystemId';

/** Signal timeouts when the config gives none: the GPU AMI and model pulls take longer. */
const DEFAULT_BOOTSTRAP_TIMEOUT_MINUTES: Record<Tier, number> = { dev: 30, automation: 30, gpu: 45, scale: 30 };

/**
 * Root volume of a CPU host when the config gives none: AL2023 plus the five pinned images and Docker's writable
 * layers, with headroom for one image upgrade pulled beside the old one (models and data live on EFS, not here).
 */
export const DEFAULT_CPU_ROOT_VOLUME_GIB = 30;
/** Root volume of a GPU host when the config gives none: the Deep Learning AMI's own snapshot is far larger than AL2023's. */
export const DEFAULT_GPU_ROOT_VOLUME_GIB = 100;

/** The only architecture of the gpu tier: its Deep Learning AMI and NVIDIA instance families are x86_64. */
const GPU_ARCHITECTURE: Architecture = 'x86_64';
/** The architecture of a CPU tier when the config gives none: Graviton, the shape the cost targets of issue 12 are priced on. */
const DEFAULT_CPU_ARCHITECTURE: Architecture = 'arm64';

/** A validated deployment, ready for the constructs. */
export interface DeploymentConfig extends Omit<ParsedDeployment, 'bootstrapTimeoutMinutes' | 'rootVolumeGiB' | 'architecture'> {
  readonly name: string;
  readonly bootstrapTimeoutMinutes: number;
  readonly rootVolumeGiB: number;
  /** The host's CPU architecture, resolved for the tier. */
  readonly architecture: Architecture;
}


/** Reads context values; `app.node.tryGetContext` fits. */
export type ContextReader = (key: string) => unknown;

export function loadDeployments(readContext: ContextReader): DeploymentConfig[] {
  const declared = parseDeclared(readContext(DEPLOYMENTS_CONTEXT_KEY));
  const nameOverride = readContext(NAME_CONTEXT_KEY);
  const tierOverride = readContext(TIER_CONTEXT_KEY);

  let selected: Record<string, unknown>;
  if (nameOverride !== undefined) {
    const name = String(nameOverride);
    if (!DEPLOYMENT_NAME_PATTERN.test(name)) {
      throw configProblem('name', name, `expected ${DEPLOYMENT_NAME_RULE}`);
    }
    selected = { [name]: { ...asObject(declared[name]) } };
  } else {
    selected = declared;
  }
  if (tierOverride !== undefined) {
    const names = Object.keys(selected);
    if (names.length !== 1) {
      throw configProblem('tier', tierOverride, `-c tier applies to one deployment; add -c name=<name> (declared: ${names.join(', ') || 'none'})`);
    }
    selected[names[0]] = { ...asObject(selected[names[0]]), tier: tierOverride };
  }
  const retainedOverride = readContext(RETAINED_FILE_SYSTEM_CONTEXT_KEY);
  if (retainedOverride !== undefined) {
    const names = Object.keys(selected);
    if (names.length !== 1) {
      throw configProblem(RETAINED_FILE_SYSTEM_CONTEXT_KEY, retainedOverride, `-c ${RETAINED_FILE_SYSTEM_CONTEXT_KEY} applies to one deployment; add -c name=<name> (declared: ${names.join(', ') || 'none'})`);
    }
    selected[names[0]] = { ...asObject(selected[names[0]]), retainedData: { fileSystemId: retainedOverride } };
  }
  if (nameOverride !== undefined && tierOverride === undefined && !('tier' in asObject(selected[String(nameOverride)]))) {
    selected[String(nameOverride)] = { ...asObject(selected[String(nameOverride)]), tier: 'dev' };
  }

  const names = Object.keys(selected);
  if (names.length === 0) {
    throw new ConfigError(`Invalid configuration: ${DEPLOYMENTS_CONTEXT_KEY} declares no deployment; add one in cdk.json or pass -c name=<name>`);
  }
  return names.map((name) => validateDeployment(name, selected[name]));
}

function validateDeployment(name: string, raw: unknown): DeploymentConfig {
  const field = `${DEPLOYMENTS_CONTEXT_KEY}.${name}`;
  if (!DEPLOYMENT_NAME_PATTERN.test(name)) {
    throw configProblem(field, name, `deployment names must be ${DEPLOYMENT_NAME_RULE}`);
  }
  const input = asObject(raw);
  if (Array.isArray(input.tier)) {
    throw configProblem(`${field}.tier`, input.tier, `a deployment has exactly one compute tier at a time (one of ${TIERS.join(', ')})`);
  }
  const result = deploymentSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => describeIssue(field, input, issue)).join('\n'));
  }
  const parsed = result.data;
  const ignored = ignoredSettings(parsed.tier)
    .filter(([setting]) => input[setting] !== undefined)
    .map(([setting, instead]) => configProblem(`${field}.${setting}`, input[setting], instead).message);
  if (ignored.length > 0) throw new ConfigError(ignored.join('\n'));
  const ownDomain = unpairedOwnDomain(parsed);
  if (ownDomain) throw configProblem(`${field}.${ownDomain.setting}`, ownDomain.value, ownDomain.instead);
  if (parsed.vpcId !== undefined && parsed.env === undefined) {
    throw configProblem(`${field}.vpcId`, parsed.vpcId, 'an existing VPC is looked up in its account: set env.account and env.region too');
  }
  const gpu = parsed.tier === 'gpu';
  if (gpu && parsed.architecture !== undefined && parsed.architecture !== GPU_ARCHITECTURE) {
    throw configProblem(`${field}.architecture`, parsed.architecture,
      `the gpu tier runs ${GPU_ARCHITECTURE} only (its Deep Learning AMI and NVIDIA instance types): remove architecture, or use the dev or automation tier for arm64`);
  }
  return {
    ...parsed,
    name,
    bootstrapTimeoutMinutes: parsed.bootstrapTimeoutMinutes ?? DEFAULT_BOOTSTRAP_TIMEOUT_MINUTES[parsed.tier],
    rootVolumeGiB: parsed.rootVolumeGiB ?? (gpu ? DEFAULT_GPU_ROOT_VOLUME_GIB : DEFAULT_CPU_ROOT_VOLUME_GIB),
    architecture: parsed.architecture ?? (gpu ? GPU_ARCHITECTURE : DEFAULT_CPU_ARCHITECTURE),
  };
}

/**
 * Settings a tier would silently ignore, each with what to do instead. A setting given explicitly (in the raw input:
 * zod's defaults do not count) that the tier ignores is refused, so no setting is ever dropped without a word.
 */
const IGNORED_BY_TIER: Record<Tier, Partial<Record<keyof DeploymentInput, string>>> = {
  dev: {},
  automation: {},
  gpu: {
    instanceSize: 'the gpu tier runs GPU instance types, not CPU sizes: remove instanceSize and list the types in gpu.instanceTypes (e.g. ["g5.xlarge"])',
  },
  scale: {
    schedule: 'the scale tier\'s n8n runs on ECS, which a host schedule does not stop: remove schedule (set scale.workers.min to 0 to pay for no idle worker)',
  },
};

/** A user's own domain needs both its name and its certificate: CloudFront serves an alternate name only with a certificate for it. */
function unpairedOwnDomain(parsed: ParsedDeployment): { setting: string; value: string; instead: string } | undefined {
  for (const tier of ['automation', 'gpu', 'scale'] as const) {
    const options = parsed[tier];
    if (!options) continue;
    if (options.domainName && !options.certificateArn) {
      return { setting: `${tier}.domainName`, value: options.domainName, instead: `a domain of your own needs ${tier}.certificateArn too (an ACM certificate for it in us-east-1); remove domainName to use the distribution's own *.cloudfront.net name` };
    }
    if (options.certificateArn && !options.domainName) {
      return { setting: `${tier}.certificateArn`, value: options.certificateArn, instead: `a certificate needs ${tier}.domainName too (the name it was issued for); remove certificateArn to use the distribution's own *.cloudfront.net name` };
    }
  }
  return undefined;
}

function ignoredSettings(tier: Tier): Array<[string, string]> {
  const otherTierOptions = TIERS.filter((other) => other !== tier && other !== 'dev').map((other): [string, string] => [other,
    `options for tier ${other} given, but the tier is ${tier}; a deployment has one compute tier at a time — remove them or set tier to ${other}`]);
  return [...otherTierOptions, ...Object.entries(IGNORED_BY_TIER[tier]) as Array<[string, string]>];
}

function parseDeclared(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === 'string') {
    try {
      return parseDeclared(JSON.parse(value));
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw configProblem(DEPLOYMENTS_CONTEXT_KEY, value, 'expected a JSON object of deployments');
    }
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw configProblem(DEPLOYMENTS_CONTEXT_KEY, value, 'expected an object mapping deployment names to their settings');
  }
  return { ...(value as Record<string, unknown>) };
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function describeIssue(field: string, input: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  const where = [field, ...path].join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return `Invalid configuration: ${where}: unknown setting ${keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowedKeys(path)}`;
  }
  return configProblem(where, valueAt(input, issue.path), issue.message).message;
}

function allowedKeys(path: string[]): string {
  let shape: z.ZodType = deploymentSchema;
  for (const key of path) {
    const inner = unwrap(shape);
    if (inner instanceof z.ZodObject) shape = inner.shape[key];
  }
  const inner = unwrap(shape);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape).join(', ') : '(none)';
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault) s = s.unwrap() as z.ZodType;
  return s;
}
