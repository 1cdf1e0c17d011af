/**
 * The backlog function's logic, free of I/O so tests drive it with a real Redis and fake AWS clients.
 *
 * n8n 2.36.9 (npm n8n@2.36.9, dist/scaling/scaling.service.js) creates its queue with Bull 4.16.4:
 * `new BullQueue('jobs', { prefix: QUEUE_BULL_PREFIX (default 'bull'), … })`, and adds every execution with
 * `queue.add('job', data, { priority, removeOnComplete, removeOnFail })` (no delay). Bull 4.16.4
 * (lib/queue.js `toKey`, lib/commands/addJob-6.lua, includes/addJobWithPriority.lua, includes/getTargetQueueList.lua)
 * keeps a waiting job's id in the list `<prefix>:jobs:wait` (or `<prefix>:jobs:paused` while the queue is paused
 * globally: the key `<prefix>:jobs:meta-paused` exists), a job being processed in the list `<prefix>:jobs:active`,
 * a delayed one in the sorted set `<prefix>:jobs:delayed`. Its own waiting count (lib/getters.js getWaitingCount)
 * is LLEN wait + LLEN paused: the backlog here is the same.
 */
import type { RedisConnection } from './resp';

/** n8n's queue name (packages/cli/src/scaling/constants.ts QUEUE_NAME). */
export const N8N_QUEUE_NAME = 'jobs';
/** n8n's default QUEUE_BULL_PREFIX (@n8n/config scaling-mode.config BullConfig.prefix). */
export const DEFAULT_BULL_PREFIX = 'bull';

export interface QueueKeys {
  readonly wait: string;
  readonly paused: string;
  readonly active: string;
  readonly delayed: string;
}

/** Bull's key for a queue list or set: `<prefix>:<queue>:<type>` (Bull lib/queue.js Queue.prototype.toKey). */
export function bullQueueKeys(prefix: string = DEFAULT_BULL_PREFIX, queue: string = N8N_QUEUE_NAME): QueueKeys {
  const key = (type: string) => [prefix, queue, type].join(':');
  return { wait: key('wait'), paused: key('paused'), active: key('active'), delayed: key('delayed') };
}

export interface QueueCounts {
  /** Waiting jobs: LLEN wait + LLEN paused. */
  readonly waiting: number;
  /** Jobs a worker is processing: LLEN active. */
  readonly active: number;
  /** Delayed jobs (ZCARD delayed): n8n adds none, counted only to be seen. */
  readonly delayed: number;
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`${what}: not a count (${JSON.stringify(value)})`);
  return value;
}

/**
 * Reads the queue's counts in one MULTI/EXEC, so they are one moment's (Bull's getJobCounts does the same). A key of
 * another type than Bull's (WRONGTYPE) fails the read: no number is better than a wrong one.
 */
export async function readQueueCounts(redis: RedisConnection, keys: QueueKeys): Promise<QueueCounts> {
  await redis.command('MULTI');
  await redis.command('LLEN', keys.wait);
  await redis.command('LLEN', keys.paused);
  await redis.command('LLEN', keys.active);
  await redis.command('ZCARD', keys.delayed);
  const replies = await redis.command('EXEC');
  if (!Array.isArray(replies) || replies.length !== 4) throw new Error(`EXEC: unexpected reply ${JSON.stringify(replies)}`);
  const [wait, paused, active, delayed] = replies.map((value, i) => count(value, ['LLEN wait', 'LLEN paused', 'LLEN active', 'ZCARD delayed'][i]));
  return { waiting: wait + paused, active, delayed };
}

/** Waiting jobs per running worker; with no worker running the whole backlog counts as one worker's. */
export function backlogPerWorker(waiting: number, running: number): number {
  return waiting / Math.max(running, 1);
}

/** The shape of ECS DescribeServices' answer the function reads. */
export interface DescribeServicesOutput {
  services?: Array<{ serviceArn?: string; serviceName?: string; status?: string; runningCount?: number }>;
  failures?: Array<{ arn?: string; reason?: string; detail?: string }>;
}

/** The workers' running task count from DescribeServices of exactly one service. */
export function runningCountOf(output: DescribeServicesOutput, service: string): number {
  const failure = output.failures?.[0];
  if (failure) throw new Error(`ECS DescribeServices ${service}: ${failure.reason ?? 'failure'}${failure.detail ? ` (${failure.detail})` : ''}`);
  const found = output.services ?? [];
  if (found.length !== 1) throw new Error(`ECS DescribeServices ${service}: ${found.length} services answered, expected 1`);
  return count(found[0].runningCount, `ECS DescribeServices ${service} runningCount`);
}

export interface MetricSettings {
  readonly namespace: string;
  readonly deployment: string;
}

/** What PutMetricData receives (the SDK's PutMetricDataInput, the fields used). */
export interface PutMetricDataInput {
  Namespace: string;
  MetricData: Array<{
    MetricName: string;
    Dimensions: Array<{ Name: string; Value: string }>;
    Timestamp: Date;
    Value: number;
    Unit: 'Count';
    StorageResolution: 60;
  }>;
}

export const BACKLOG_PER_WORKER = 'BacklogPerWorker';
export const WAITING_JOBS = 'WaitingJobs';

/** The one PutMetricData request of a run: BacklogPerWorker and WaitingJobs, dimension Deployment. */
export function metricDataOf(settings: MetricSettings, waiting: number, running: number, at: Date): PutMetricDataInput {
  const Dimensions = [{ Name: 'Deployment', Value: settings.deployment }];
  const datum = (MetricName: string, Value: number) => ({ MetricName, Dimensions, Timestamp: at, Value, Unit: 'Count' as const, StorageResolution: 60 as const });
  return {
    Namespace: settings.namespace,
    MetricData: [datum(BACKLOG_PER_WORKER, backlogPerWorker(waiting, running)), datum(WAITING_JOBS, waiting)],
  };
}
