/**
 * The scale tier's backlog function against a real Redis server (Debian's redis-server, started here on a free
 * loopback port with no persistence): n8n's queue written as Bull 4.16.4 writes it, the reader's own code counting it
 * over the function's RESP client, the publisher's own code with a fake ECS (N running workers) and a fake CloudWatch
 * capturing PutMetricData. AUTH (requirepass, as ElastiCache's auth token) and TLS (a self-signed certificate) are real.
 * Run by `npm run test:system`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BACKLOG_PER_WORKER, DescribeServicesOutput, PutMetricDataInput, WAITING_JOBS } from '../../lib/scale/backlog/runtime/backlog';
import { publishBacklog, PublisherConfig } from '../../lib/scale/backlog/runtime/publisher';
import { handler as readerHandler, readBacklog, ReaderConfig, ReaderResult } from '../../lib/scale/backlog/runtime/reader';
import { compiledBacklogRuntime } from '../../lib/scale/backlog/runtime-asset';
import { BullQueueWriter } from './helpers/bull-queue';
import { RedisServer, startRedisServer } from './helpers/redis-server';

const PASSWORD = 'auth-token-0123456789-abcdefghij';
const CERT = path.resolve(__dirname, '..', 'runtime', 'fixtures', 'n8n-test.crt');
const KEY = path.resolve(__dirname, '..', 'runtime', 'fixtures', 'n8n-test.key');
const SERVICE_ARN = 'arn:aws:ecs:eu-west-1:123456789012:service/geuse-demo/workers';
const CONFIG: PublisherConfig = {
  secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geuse-demo-valkey-AbCdEf',
  cluster: 'geuse-demo', service: SERVICE_ARN, namespace: 'GeuseMaker/Scale', deployment: 'demo',
};
const AT = new Date('2026-11-29T18:00:00Z');

let plain: RedisServer;
let secure: RedisServer;
let queue: BullQueueWriter;

beforeAll(async () => {
  [plain, secure] = await Promise.all([
    startRedisServer({ password: PASSWORD }),
    startRedisServer({ password: PASSWORD, tls: { certFile: CERT, keyFile: KEY } }),
  ]);
  queue = new BullQueueWriter(plain.cli);
});

afterAll(async () => {
  await Promise.all([plain?.stop(), secure?.stop()]);
});

let readerLines: string[];
beforeEach(() => {
  plain.cli('FLUSHALL');
  readerLines = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { readerLines.push(args.map(String).join(' ')); });
});
afterEach(() => jest.restoreAllMocks());

/** The reader as the Lambda runs it: its configuration from the environment the construct sets. */
function readerEnv(server: RedisServer, tls: boolean): NodeJS.ProcessEnv {
  return { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(server.port), REDIS_TLS: String(tls), QUEUE_BULL_PREFIX: 'bull', REDIS_TIMEOUT_MS: '2000' };
}

async function runReaderHandler(env: NodeJS.ProcessEnv, authToken: string): Promise<ReaderResult> {
  const saved = process.env;
  process.env = { ...saved, ...env };
  try {
    return await readerHandler({ authToken });
  } finally {
    process.env = saved;
  }
}

interface Run {
  outcome: Awaited<ReturnType<typeof publishBacklog>>;
  puts: PutMetricDataInput[];
  describes: Array<{ cluster: string; services: string[] }>;
  logs: string[];
}

/** One scheduled run of the publisher: the secret holds `secret`, ECS answers `running` workers, CloudWatch records. */
async function publish(readQueue: (token: string) => Promise<ReaderResult>, running: number, secret = PASSWORD): Promise<Run> {
  const run: Omit<Run, 'outcome'> = { puts: [], describes: [], logs: [] };
  const outcome = await publishBacklog(CONFIG, {
    getSecretString: async () => secret,
    readQueue,
    describeServices: async (input) => {
      run.describes.push(input);
      const out: DescribeServicesOutput = { services: [{ serviceArn: SERVICE_ARN, serviceName: 'workers', status: 'ACTIVE', runningCount: running }], failures: [] };
      return out;
    },
    putMetricData: async (input) => { run.puts.push(input); return {}; },
    now: () => AT,
    log: (line) => run.logs.push(line),
  });
  return { ...run, outcome };
}

const viaPlainReader = (token: string) => runReaderHandler(readerEnv(plain, false), token);

function published(run: Run): Record<string, number> {
  expect(run.puts).toHaveLength(1);
  const [put] = run.puts;
  expect(put.Namespace).toBe('GeuseMaker/Scale');
  for (const datum of put.MetricData) {
    expect(datum.Dimensions).toEqual([{ Name: 'Deployment', Value: 'demo' }]);
    expect(datum.Timestamp).toEqual(AT);
    expect(datum.Unit).toBe('Count');
  }
  return Object.fromEntries(put.MetricData.map((d) => [d.MetricName, d.Value]));
}

test('7 jobs pushed to the waiting list with 2 running workers publish a backlog of 3.5 per worker', async () => {
  for (let i = 1; i <= 7; i++) queue.addJob(`exec-${i}`, i % 3 === 0 ? 50 : 100);
  // The keys are Bull's: a list of 7 waiting ids, a sorted set of their priorities, a hash per job.
  expect(plain.cli('TYPE', 'bull:jobs:wait')).toBe('list');
  expect(plain.cli('LLEN', 'bull:jobs:wait')).toBe('7');
  expect(plain.cli('TYPE', 'bull:jobs:priority')).toBe('zset');
  expect(plain.cli('TYPE', 'bull:jobs:1')).toBe('hash');
  // Realtime executions (priority 50) wait nearer the tail, where workers take from (RPOPLPUSH).
  expect(queue.waitingIds()).toEqual(['7', '5', '4', '2', '1', '6', '3']);

  const run = await publish(viaPlainReader, 2);

  expect(published(run)).toEqual({ [BACKLOG_PER_WORKER]: 3.5, [WAITING_JOBS]: 7 });
  expect(run.describes).toEqual([{ cluster: 'geuse-demo', services: [SERVICE_ARN] }]);
  expect(run.outcome).toEqual({ published: true, waiting: 7, running: 2, backlogPerWorker: 3.5 });
  expect(run.logs).toEqual(['backlog: 7 waiting, 0 active, 2 running workers: 3.5 per worker published']);
});

test('the compiled asset the Lambda runs (reader.js, plain CommonJS) counts the same queue', async () => {
  for (let i = 1; i <= 4; i++) queue.addJob(`exec-${i}`);
  const compiled = require(path.join(compiledBacklogRuntime(), 'reader.js')) as { handler: typeof readerHandler };
  const saved = process.env;
  process.env = { ...saved, ...readerEnv(plain, false) };
  try {
    await expect(compiled.handler({ authToken: PASSWORD })).resolves.toEqual({ ok: true, counts: { waiting: 4, active: 0, delayed: 0 } });
  } finally {
    process.env = saved;
  }
});

test('an empty queue (no keys at all yet) publishes 0', async () => {
  expect(plain.cli('DBSIZE')).toBe('0');
  const run = await publish(viaPlainReader, 3);
  expect(published(run)).toEqual({ [BACKLOG_PER_WORKER]: 0, [WAITING_JOBS]: 0 });
});

test('jobs the workers took are active, not backlog; with no worker running the whole backlog counts as one worker\'s', async () => {
  for (let i = 1; i <= 5; i++) queue.addJob(`exec-${i}`);
  queue.takeJob();
  queue.takeJob();
  expect(plain.cli('LLEN', 'bull:jobs:active')).toBe('2');
  expect(await runReaderHandler(readerEnv(plain, false), PASSWORD)).toEqual({ ok: true, counts: { waiting: 3, active: 2, delayed: 0 } });

  expect(published(await publish(viaPlainReader, 0))).toEqual({ [BACKLOG_PER_WORKER]: 3, [WAITING_JOBS]: 3 });
  expect(published(await publish(viaPlainReader, 4))).toEqual({ [BACKLOG_PER_WORKER]: 0.75, [WAITING_JOBS]: 3 });
});

test('a globally paused queue still has its jobs waiting: the paused list counts, and jobs added while paused too', async () => {
  for (let i = 1; i <= 4; i++) queue.addJob(`exec-${i}`);
  queue.pause();
  queue.addJob('exec-5');
  expect(plain.cli('EXISTS', 'bull:jobs:wait')).toBe('0');
  expect(plain.cli('LLEN', 'bull:jobs:paused')).toBe('5');
  expect(published(await publish(viaPlainReader, 2))).toEqual({ [BACKLOG_PER_WORKER]: 2.5, [WAITING_JOBS]: 5 });
});

test('AUTH: a wrong token, or none, publishes nothing and logs one line without the token', async () => {
  queue.addJob('exec-1');
  const wrong = await publish(viaPlainReader, 1, 'not-the-token');
  expect(wrong.puts).toEqual([]);
  expect(wrong.outcome.published).toBe(false);
  expect(wrong.logs).toHaveLength(1);
  expect(wrong.logs[0]).toMatch(/^backlog: nothing published: reader: WRONGPASS/);
  expect(wrong.logs.join('')).not.toContain('not-the-token');
  expect(readerLines).toEqual(['backlog reader: no counts: WRONGPASS invalid username-password pair or user is disabled.']);

  const none = await runReaderHandler(readerEnv(plain, false), '');
  expect(none).toEqual({ ok: false, error: expect.stringMatching(/^NOAUTH/) });
});

test('a key of another type than Bull\'s (WRONGTYPE) publishes nothing rather than a wrong number', async () => {
  plain.cli('SET', 'bull:jobs:paused', 'not a list');
  queue.addJob('exec-1');
  const run = await publish(viaPlainReader, 1);
  expect(run.puts).toEqual([]);
  expect(run.logs).toEqual([expect.stringMatching(/^backlog: nothing published: reader: WRONGTYPE/)]);
});

test('Redis unreachable: nothing published, one line, within the timeout', async () => {
  const stopped = await startRedisServer();
  const port = stopped.port;
  await stopped.stop();
  const started = Date.now();
  const run = await publish((token) => runReaderHandler({ ...readerEnv(plain, false), REDIS_PORT: String(port) }, token), 1);
  expect(Date.now() - started).toBeLessThan(3000);
  expect(run.puts).toEqual([]);
  expect(run.logs).toEqual([`backlog: nothing published: reader: connect ECONNREFUSED 127.0.0.1:${port}`]);
  expect(readerLines).toEqual([`backlog reader: no counts: connect ECONNREFUSED 127.0.0.1:${port}`]);
});

/** redis-cli over TLS, trusting the test certificate. */
function tlsCli(...args: string[]): string {
  const out = spawnSync('redis-cli', ['--tls', '--cacert', CERT, '-h', '127.0.0.1', '-p', String(secure.port), '--no-auth-warning', '-a', PASSWORD, ...args], { encoding: 'utf8' });
  if (out.status !== 0 || /^ERR/m.test(out.stdout)) throw new Error(`redis-cli ${args[0]}: ${out.stderr}${out.stdout}`);
  return out.stdout.trim();
}

describe('TLS (redis-server --tls-port with a self-signed certificate)', () => {
  const tlsConfig = (): ReaderConfig => ({ host: '127.0.0.1', port: secure.port, tls: true, prefix: 'bull', timeoutMs: 2000 });
  const ca = fs.readFileSync(CERT, 'utf8');

  test('the reader authenticates over TLS and the backlog is published', async () => {
    const writer = new BullQueueWriter(tlsCli);
    tlsCli('FLUSHALL');
    for (let i = 1; i <= 9; i++) writer.addJob(`exec-${i}`);
    const run = await publish(async (token) => ({ ok: true, counts: await readBacklog(tlsConfig(), token, { ca }) }), 4);
    expect(published(run)).toEqual({ [BACKLOG_PER_WORKER]: 2.25, [WAITING_JOBS]: 9 });
  });

  test('a certificate the function does not trust fails the read: no plain-text fallback, nothing published', async () => {
    await expect(readBacklog(tlsConfig(), PASSWORD)).rejects.toThrow(/self[- ]signed certificate/);
  });

  test('plain text to the TLS port fails rather than hanging', async () => {
    await expect(readBacklog({ ...tlsConfig(), tls: false }, PASSWORD)).rejects.toThrow();
  });
});
