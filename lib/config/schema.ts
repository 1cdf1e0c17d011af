import { z } from 'zod';
import { DEPLOYMENT_NAME_PATTERN, DEPLOYMENT_NAME_RULE, TIERS } from '../../ops/src/contract';
import { ownDomainSettings } from './own-domain-schema';
import { scaleOptionsSchema } from './scale-schema';

/** Instance sizes a CPU host may have; each maps to several instance families of the same shape. */
export const INSTANCE_SIZES = ['large', 'xlarge', '2xlarge', '4xlarge'] as const;
export type InstanceSize = (typeof INSTANCE_SIZES)[number];

/** GPU instance families the gpu tier accepts (NVIDIA, supported by the Deep Learning Base AMI). */
export const GPU_FAMILIES = ['g4dn', 'g5', 'g6', 'g6e', 'gr6', 'p4d', 'p5'] as const;

export const MARKETS = ['spot', 'on-demand'] as const;

/** CPU architectures of the host: arm64 (Graviton, the default on the CPU tiers) or x86_64 (the gpu tier's only one). */
export const ARCHITECTURES = ['arm64', 'x86_64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** The smallest root volume a deployment may configure: the pinned images and AL2023 need most of it. */
export const MIN_ROOT_VOLUME_GIB = 20;

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const VPC_ID = /^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const MODEL = /^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?$/;
const GPU_INSTANCE_TYPE = new RegExp(`^(${GPU_FAMILIES.join('|')})\\.(\\d*xlarge|metal)$`);

const cidr = z.string().regex(IPV4_CIDR, { message: 'expected an IPv4 CIDR such as 203.0.113.0/24' })
  .superRefine((value, ctx) => {
    const problem = cidrProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * What is wrong with a well-formed IPv4 CIDR as an allowed network, or undefined. A /0 is the whole internet, which
 * the dev tier must never open n8n to; host bits are masked away by EC2 without a word, so the user gets a different
 * network than the one written.
 */
export function cidrProblem(value: string): string | undefined {
  if (!IPV4_CIDR.test(value)) return undefined;
  const [address, prefix] = value.split('/');
  const length = Number(prefix);
  if (length === 0) {
    return 'expected specific networks such as 203.0.113.0/24, not /0 (every address); to serve n8n to everyone, use the automation tier without allowedCidrs';
  }
  const octets = address.split('.').map(Number);
  const bits = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const blockSize = 2 ** (32 - length);
  const network = bits - (bits % blockSize);
  if (network === bits) return undefined;
  const networkAddress = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
  return `host bits are set; expected the network address ${networkAddress}/${length}`;
}

const positiveMinutes = (max: number) =>
  z.number().int({ message: 'expected a whole number of minutes' })
    .min(1, { message: `expected a whole number of minutes from 1 to ${max}` })
    .max(max, { message: `expected a whole number of minutes from 1 to ${max}` });

export const automationOptionsSchema = z.strictObject({
  ...ownDomainSettings,
  /** Idle timeout of the load balancer, seconds (long n8n requests, LLM calls). */
  idleTimeoutSeconds: z.number().int().min(60, { message: 'expected 60 to 4000 seconds' })
    .max(4000, { message: 'expected 60 to 4000 seconds' }).default(900),
});

export const gpuOptionsSchema = z.strictObject({
  /** GPU instance types, several for spot capacity. */
  instanceTypes: z.array(z.string().regex(GPU_INSTANCE_TYPE, {
    message: `expected a GPU instance type of the families ${GPU_FAMILIES.join(', ')} (e.g. g5.xlarge)`,
  })).min(1, { message: 'expected at least one GPU instance type' })
    .default(['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge']),
  ...ownDomainSettings,
  /** CloudFront origin read timeout, seconds (LLM streaming); above 60 needs a quota increase. */
  originReadTimeoutSeconds: z.number().int().min(1, { message: 'expected 1 to 180 seconds' })
    .max(180, { message: 'expected 1 to 180 seconds' }).default(60),
});

/** Day names of a cron day-of-week field, Sunday first. */
export const CRON_DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const TIME_ZONE_NAME = /^(UTC|[A-Z][A-Za-z_-]*(\/[A-Za-z0-9_+-]+){1,2})$/;

/** What is wrong with a cron day-of-week field of day names (`*`, `MON-FRI`, `MON,WED,FRI`, `SAT-SUN`...), or undefined. */
export function cronDaysProblem(value: string): string | undefined {
  const expected = `expected "*" or day names ${CRON_DAYS.join(', ')} as a list and/or ranges such as "MON-FRI" or "MON,WED,FRI"`;
  if (value === '*') return undefined;
  for (const part of value.split(',')) {
    const ends = part.split('-');
    if (ends.length > 2 || ends.some((day) => !(CRON_DAYS as readonly string[]).includes(day))) return expected;
    if (ends.length === 2 && CRON_DAYS.indexOf(ends[0] as never) >= CRON_DAYS.indexOf(ends[1] as never)) {
      return `${expected}; a range runs forwards within one week (SUN first), so "${part}" is not one`;
    }
  }
  return undefined;
}

/** Whether the IANA time zone database this Node.js carries knows `name`. */
function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * When the host runs: started at `start` and stopped at `stop` on `days`, in `timeZone`, by two auto scaling
 * scheduled actions. Outside these hours the deployment costs what a stopped one does.
 */
export const scheduleSchema = z.strictObject({
  /** IANA time zone the times are in, e.g. Europe/Berlin (auto scaling scheduled actions take IANA names). */
  timeZone: z.string({ message: 'expected an IANA time zone name such as Europe/Berlin, America/New_York or UTC' }).refine((value) => TIME_ZONE_NAME.test(value) && isKnownTimeZone(value), {
    message: 'expected an IANA time zone name such as Europe/Berlin, America/New_York or UTC',
  }),
  /** Days the host is started and stopped, as a cron day-of-week field. */
  days: z.string().superRefine((value, ctx) => {
    const problem = cronDaysProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }).default('MON-FRI'),
  /** Time of day the host starts, HH:MM (24-hour clock). */
  start: z.string({ message: 'expected a time of day HH:MM from 00:00 to 23:59, such as 08:00' })
    .regex(CLOCK_TIME, { message: 'expected a time of day HH:MM from 00:00 to 23:59, such as 08:00' }),
  /** Time of day the host stops, HH:MM (24-hour clock). */
  stop: z.string({ message: 'expected a time of day HH:MM from 00:00 to 23:59, such as 20:00' })
    .regex(CLOCK_TIME, { message: 'expected a time of day HH:MM from 00:00 to 23:59, such as 20:00' }),
}).superRefine((value, ctx) => {
  if (CLOCK_TIME.test(value.start) && value.start === value.stop) {
    ctx.addIssue({ code: 'custom', path: ['stop'], message: `start and stop are both ${value.start}: the host would start and stop at once; set different times` });
  }
});
export type Schedule = z.output<typeof scheduleSchema>;

export const backupOptionsSchema = z.strictObject({
  /** When the host writes a backup set: a systemd calendar expression, in UTC (docker/host/lib.sh accepts the same characters). */
  schedule: z.string().regex(/^[A-Za-z0-9*:,./~ -]{1,64}$/, {
    message: 'expected a systemd calendar expression such as "*-*-* 03:00:00" or "daily"',
  }).default('*-*-* 03:00:00'),
  /** How many scheduled backup sets stay on EFS (the newest; pre-upgrade sets are kept apart). */
  keep: z.number().int({ message: 'expected a whole number of sets from 1 to 365' })
    .min(1, { message: 'expected a whole number of sets from 1 to 365' })
    .max(365, { message: 'expected a whole number of sets from 1 to 365' }).default(7),
});

export const deploymentSchema = z.strictObject({
  tier: z.enum(TIERS, { message: `expected one of ${TIERS.join(', ')}` }),
  /** Account and region; omit both for an environment-agnostic deployment. */
  env: z.strictObject({
    account: z.string().regex(ACCOUNT, { message: 'expected a 12-digit AWS account id' }),
    region: z.string().regex(REGION, { message: 'expected an AWS region such as eu-west-1' }),
  }).optional(),
  /** An existing VPC (looked up, so `env` is required) instead of a new one. */
  vpcId: z.string().regex(VPC_ID, { message: 'expected a VPC id such as vpc-0abc1234 (vpc- and 8 or 17 hex digits)' }).optional(),
  /** spot (default, cheapest) or on-demand. */
  market: z.enum(MARKETS, { message: `expected one of ${MARKETS.join(', ')}` }).default('spot'),
  /** CPU architecture of the host: arm64 (Graviton) by default on dev and automation; the gpu tier is x86_64 only. */
  architecture: z.enum(ARCHITECTURES, { message: `expected one of ${ARCHITECTURES.join(', ')}` }).optional(),
  /** Size of the CPU host; several families of this size are offered to spot. */
  instanceSize: z.enum(INSTANCE_SIZES, { message: `expected one of ${INSTANCE_SIZES.join(', ')}` }).default('large'),
  /** CIDRs allowed to reach the entry point. dev: n8n on 5678, none by default; automation and gpu: CloudFront (a viewer-IP allow-list), the internet by default. */
  allowedCidrs: z.array(cidr).default([]),
  /** Login of n8n's owner, set up by the bootstrap (password: the `n8n-owner-password` secret). */
  n8nOwnerEmail: z.email({ message: 'expected an email address such as ops@example.com' }).default('owner@example.com'),
  /** How long CloudFormation waits for the host's success signal. */
  bootstrapTimeoutMinutes: positiveMinutes(120).optional(),
  /** Root volume size in GiB (OS, container images, Docker's writable layers); 30 by default on the CPU tiers, 100 on gpu (the AMI carries CUDA). */
  rootVolumeGiB: z.number().int({ message: `expected a whole number of GiB from ${MIN_ROOT_VOLUME_GIB} to 1000` })
    .min(MIN_ROOT_VOLUME_GIB, { message: `expected ${MIN_ROOT_VOLUME_GIB} to 1000 GiB` })
    .max(1000, { message: `expected ${MIN_ROOT_VOLUME_GIB} to 1000 GiB` }).optional(),
  /** Start and stop the host on a weekly schedule (auto scaling scheduled actions); always on without one. */
  schedule: scheduleSchema.optional(),
  /** Ollama models pulled after the stack is healthy, kept on EFS. */
  models: z.array(z.string().regex(MODEL, { message: 'expected an Ollama model name such as llama3.2:1b' })).default(['llama3.2:1b']),
  /** Minutes between Qdrant snapshots to EFS. */
  qdrantSnapshotMinutes: positiveMinutes(1440).default(15),
  /** Consistent backup sets on EFS (database dump, Qdrant snapshot, n8n's files, manifest). */
  backups: backupOptionsSchema.optional(),
  /** Rebuild the data stack around a file system and secrets retained from an earlier one (gm-ops restore). */
  retainedData: z.strictObject({
    fileSystemId: z.string().regex(/^fs-[0-9a-f]{8}([0-9a-f]{9})?$/, { message: 'expected an EFS file system id such as fs-0123456789abcdef0' }),
  }).optional(),
  /** Options of the automation tier. */
  automation: automationOptionsSchema.optional(),
  /** Options of the gpu tier. */
  gpu: gpuOptionsSchema.optional(),
  /** Options of the scale tier (n8n in queue mode on ECS, RDS, Valkey). */
  scale: scaleOptionsSchema.optional(),
});

export const deploymentsSchema = z.record(
  z.string().regex(DEPLOYMENT_NAME_PATTERN, { message: `expected ${DEPLOYMENT_NAME_RULE}` }),
  deploymentSchema,
);

export type DeploymentInput = z.input<typeof deploymentSchema>;
export type ParsedDeployment = z.output<typeof deploymentSchema>;
