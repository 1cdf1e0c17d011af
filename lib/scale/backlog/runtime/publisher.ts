/**
 * The backlog publisher, run every minute outside the VPC: reads Valkey's auth token (Secrets Manager), has the reader
 * inside the VPC count n8n's waiting jobs, reads the workers' running count (ECS DescribeServices), and publishes
 * BacklogPerWorker = waiting / max(running, 1) and WaitingJobs in one PutMetricData. Any failure logs one line and
 * publishes nothing: a missing datapoint leaves the scaling alarm where it was, a wrong one would move it.
 */
import { DescribeServicesOutput, metricDataOf, PutMetricDataInput, runningCountOf } from './backlog';
import type { ReaderResult } from './reader';
import { describeError } from './reader';

export interface PublisherConfig {
  /** The auth token's secret (ARN). */
  readonly secretId: string;
  /** The JSON field holding the token; the whole secret string when absent. */
  readonly secretField?: string;
  /** ECS cluster (name or ARN) and the workers' service (name or ARN). */
  readonly cluster: string;
  readonly service: string;
  readonly namespace: string;
  readonly deployment: string;
}

/** The I/O the publisher does, injected (the Lambda entry point wires the AWS SDK the runtime ships; tests wire fakes). */
export interface PublisherDeps {
  getSecretString(secretId: string): Promise<string | undefined>;
  readQueue(authToken: string): Promise<ReaderResult>;
  describeServices(input: { cluster: string; services: string[] }): Promise<DescribeServicesOutput>;
  putMetricData(input: PutMetricDataInput): Promise<unknown>;
  now(): Date;
  log(line: string): void;
}

export type PublishOutcome =
  | { published: true; waiting: number; running: number; backlogPerWorker: number }
  | { published: false; error: string };

export function publisherConfigFromEnv(env: NodeJS.ProcessEnv): PublisherConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    secretId: required('AUTH_TOKEN_SECRET'),
    secretField: env.AUTH_TOKEN_FIELD || undefined,
    cluster: required('ECS_CLUSTER'),
    service: required('ECS_SERVICE'),
    namespace: required('METRIC_NAMESPACE'),
    deployment: required('DEPLOYMENT'),
  };
}

/** The token from the secret's string: the whole string, or one field of its JSON. */
export function authTokenOf(secretString: string | undefined, field?: string): string {
  if (!secretString) throw new Error('the auth token secret has no string value');
  if (!field) return secretString;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`the auth token secret is not JSON, so it has no field ${field}`);
  }
  const value = (parsed as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value === '') throw new Error(`the auth token secret has no string field ${field}`);
  return value;
}

export async function publishBacklog(config: PublisherConfig, deps: PublisherDeps): Promise<PublishOutcome> {
  try {
    const authToken = authTokenOf(await deps.getSecretString(config.secretId), config.secretField);
    const [queue, services] = await Promise.all([
      deps.readQueue(authToken),
      deps.describeServices({ cluster: config.cluster, services: [config.service] }),
    ]);
    if (!queue.ok) throw new Error(`reader: ${queue.error}`);
    const running = runningCountOf(services, config.service);
    const input = metricDataOf(config, queue.counts.waiting, running, deps.now());
    await deps.putMetricData(input);
    const backlogPerWorker = input.MetricData[0].Value;
    deps.log(`backlog: ${queue.counts.waiting} waiting, ${queue.counts.active} active, ${running} running workers: ${backlogPerWorker} per worker published`);
    return { published: true, waiting: queue.counts.waiting, running, backlogPerWorker };
  } catch (error) {
    const message = describeError(error);
    deps.log(`backlog: nothing published: ${message}`);
    return { published: false, error: message };
  }
}

/** The Lambda entry point of the publisher. */
export async function handler(): Promise<PublishOutcome> {
  let config: PublisherConfig;
  try {
    config = publisherConfigFromEnv(process.env);
  } catch (error) {
    const message = describeError(error);
    console.log(`backlog: nothing published: ${message}`);
    return { published: false, error: message };
  }
  // Loaded here, not at the top: the AWS SDK is the Lambda runtime's own, absent from the tests' node_modules.
  const { awsPublisherDeps } = require('./aws') as typeof import('./aws');
  return publishBacklog(config, awsPublisherDeps(requiredEnv('READER_FUNCTION')));
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
