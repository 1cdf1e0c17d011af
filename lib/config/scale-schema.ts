import { z } from 'zod';
import { ownDomainSettings } from './own-domain-schema';

/**
 * Fargate's CPU units and the task memory (MiB) each allows
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size).
 */
export const FARGATE_TASK_SIZES: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};
const FARGATE_CPUS = Object.keys(FARGATE_TASK_SIZES).map(Number);

/** What is wrong with a Fargate task size, or undefined. */
export function fargateSizeProblem(cpu: number, memoryMiB: number): string | undefined {
  const allowed = FARGATE_TASK_SIZES[cpu];
  if (allowed === undefined) return `expected cpu ${FARGATE_CPUS.join(', ')} (Fargate CPU units: 1024 = 1 vCPU)`;
  if (allowed.includes(memoryMiB)) return undefined;
  return `Fargate gives ${cpu} CPU units ${allowed[0]} to ${allowed[allowed.length - 1]} MiB in steps of ${cpu === 256 ? '512 or 1024' : '1024'} (${allowed.join(', ')}), not ${memoryMiB}`;
}

const count = (min: number, max: number, what: string) => z.number()
  .int({ message: `expected a whole number of ${what} from ${min} to ${max}` })
  .min(min, { message: `expected a whole number of ${what} from ${min} to ${max}` })
  .max(max, { message: `expected a whole number of ${what} from ${min} to ${max}` });

/** A Fargate task size: CPU units and memory, checked together against Fargate's table. */
function taskSize(cpu: number, memoryMiB: number) {
  return {
    /** CPU units of the task (1024 = 1 vCPU); both containers (n8n and its task runner) share them. */
    cpu: z.number().int().default(cpu),
    /** Memory of the task in MiB, shared by n8n and its task runner. */
    memoryMiB: z.number().int().default(memoryMiB),
  };
}

function refineSize(value: { cpu: number; memoryMiB: number }, ctx: z.RefinementCtx): void {
  const problem = fargateSizeProblem(value.cpu, value.memoryMiB);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['memoryMiB'], message: problem });
}

/** The one n8n main: UI, triggers, timers, the queue's producer. On-demand Fargate, arm64 (Graviton). */
export const scaleMainSchema = z.strictObject({ ...taskSize(512, 2048) }).superRefine(refineSize);

/** The workers: `n8n worker --concurrency N` on Fargate Spot. */
export const scaleWorkersSchema = z.strictObject({
  /** Fewest running workers. 0 lets the queue wait until the backlog alarm starts one (about two minutes). */
  min: count(0, 50, 'workers').default(1),
  /** Most running workers: the ceiling of executions in flight is max x concurrency. */
  max: count(1, 50, 'workers').default(4),
  /** Executions one worker runs at once (`n8n worker --concurrency`); n8n warns below 5 that the worker may be unstable. */
  concurrency: count(5, 100, 'executions').default(10),
  /** Waiting jobs per running worker above which one more worker starts (three more above three times this). */
  scaleOutBacklog: count(1, 1000, 'waiting jobs').default(2),
  /** CPU architecture of the workers: arm64 (Graviton, the cheaper Spot price) or x86_64. */
  architecture: z.enum(['arm64', 'x86_64'], { message: 'expected arm64 or x86_64' }).default('arm64'),
  ...taskSize(512, 2048),
}).superRefine((value, ctx) => {
  refineSize(value, ctx);
  if (value.min > value.max) ctx.addIssue({ code: 'custom', path: ['min'], message: `min (${value.min}) is above max (${value.max}): set min at most max` });
});

/** Webhook processors (`n8n webhook`): production webhooks served beside the main. None by default. */
export const scaleWebhooksSchema = z.strictObject({
  /** Running webhook processors; 0 leaves webhooks to the main. */
  count: count(0, 20, 'processors').default(0),
  ...taskSize(512, 1024),
}).superRefine(refineSize);

/** RDS PostgreSQL 17: n8n's database, shared by every n8n process. */
export const scaleDatabaseSchema = z.strictObject({
  /** Instance class; the smallest Graviton burstable class by default. */
  instanceClass: z.string().regex(/^db\.[a-z][a-z0-9-]*\.(micro|small|medium|large|\d*xlarge)$/, {
    message: 'expected an RDS instance class such as db.t4g.micro, db.t4g.small or db.m7g.large',
  }).default('db.t4g.micro'),
  /** Allocated gp3 storage in GiB (binary data lives in the database in queue mode). */
  storageGiB: count(20, 16384, 'GiB').default(20),
  /** A standby in a second availability zone (doubles the instance price). */
  multiAz: z.boolean().default(false),
  /** Days of automated backups (point-in-time recovery). */
  backupRetentionDays: count(1, 35, 'days').default(7),
  /** Refuse to delete the database (turn off, deploy, then delete the stack; a final snapshot is taken either way). */
  deletionProtection: z.boolean().default(true),
});

/** ElastiCache for Valkey, node-based, cluster mode off: n8n's queue. */
export const scaleQueueSchema = z.strictObject({
  /** Node type; the smallest Graviton node by default. */
  nodeType: z.string().regex(/^cache\.[a-z][a-z0-9-]*\.(micro|small|medium|large|\d*xlarge)$/, {
    message: 'expected an ElastiCache node type such as cache.t4g.micro or cache.t4g.small',
  }).default('cache.t4g.micro'),
});

/** Options of the scale tier (`scale: { workers: { min, max, concurrency }, ... }`). */
export const scaleOptionsSchema = z.strictObject({
  /** n8n (editor and webhooks) under the user's own name, as on automation: domainName + certificateArn (us-east-1) together. */
  ...ownDomainSettings,
  main: scaleMainSchema.default({ cpu: 512, memoryMiB: 2048 }),
  workers: scaleWorkersSchema.default({ min: 1, max: 4, concurrency: 10, scaleOutBacklog: 2, architecture: 'arm64', cpu: 512, memoryMiB: 2048 }),
  webhooks: scaleWebhooksSchema.default({ count: 0, cpu: 512, memoryMiB: 1024 }),
  database: scaleDatabaseSchema.default({ instanceClass: 'db.t4g.micro', storageGiB: 20, multiAz: false, backupRetentionDays: 7, deletionProtection: true }),
  queue: scaleQueueSchema.default({ nodeType: 'cache.t4g.micro' }),
  /** Idle timeout of the load balancer, seconds (long n8n requests, LLM calls). */
  idleTimeoutSeconds: z.number().int().min(60, { message: 'expected 60 to 4000 seconds' })
    .max(4000, { message: 'expected 60 to 4000 seconds' }).default(900),
});

export type ScaleOptions = z.output<typeof scaleOptionsSchema>;

/** The scale options of a deployment with every default filled in. */
export function scaleOptions(input: unknown): ScaleOptions {
  return scaleOptionsSchema.parse(input ?? {});
}
