/**
 * The backlog reader: runs inside the VPC beside Valkey, reads n8n's queue counts and returns them to the publisher
 * that invoked it. It calls no AWS API (the VPC has no NAT gateway and no interface endpoint), so the publisher, outside
 * the VPC, passes it the auth token it read from Secrets Manager in the invocation's payload (never logged, never stored).
 */
import { bullQueueKeys, QueueCounts, readQueueCounts } from './backlog';
import { connectRedis, RedisConnection, RedisOptions } from './resp';

export interface ReaderConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly prefix: string;
  readonly timeoutMs: number;
}

export interface ReaderEvent {
  readonly authToken?: string;
}

export type ReaderResult = { ok: true; counts: QueueCounts } | { ok: false; error: string };

/** The reader's settings from its environment (set by the BacklogMetric construct). */
export function readerConfigFromEnv(env: NodeJS.ProcessEnv): ReaderConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const port = Number(required('REDIS_PORT'));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`REDIS_PORT is not a port: ${env.REDIS_PORT}`);
  return {
    host: required('REDIS_HOST'),
    port,
    tls: env.REDIS_TLS !== 'false',
    username: env.REDIS_USERNAME || undefined,
    prefix: required('QUEUE_BULL_PREFIX'),
    timeoutMs: Number(env.REDIS_TIMEOUT_MS ?? 3000),
  };
}

/** Connects, reads the counts, disconnects. */
export async function readBacklog(config: ReaderConfig, authToken: string | undefined, extra: Partial<RedisOptions> = {},
  connect: (options: RedisOptions) => Promise<RedisConnection> = connectRedis): Promise<QueueCounts> {
  const redis = await connect({ host: config.host, port: config.port, tls: config.tls, username: config.username, password: authToken,
    timeoutMs: config.timeoutMs, ...extra });
  try {
    return await readQueueCounts(redis, bullQueueKeys(config.prefix));
  } finally {
    await redis.close();
  }
}

/** One line, never the token. */
export function describeError(error: unknown): string {
  const message = typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : String(error);
  return message.replace(/\s+/g, ' ').trim();
}

/** The Lambda entry point of the reader. */
export async function handler(event: ReaderEvent): Promise<ReaderResult> {
  try {
    const counts = await readBacklog(readerConfigFromEnv(process.env), event?.authToken);
    return { ok: true, counts };
  } catch (error) {
    const message = describeError(error);
    console.log(`backlog reader: no counts: ${message}`);
    return { ok: false, error: message };
  }
}
