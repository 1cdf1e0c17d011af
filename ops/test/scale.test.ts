/**
 * status, health and logs of a scale deployment through the entry point: CloudFormation, auto scaling, EC2, SSM
 * and CloudWatch mocked (aws-sdk-client-mock), ECS, RDS, ElastiCache and CloudWatch Logs through the shared fake of
 * the scale API (helpers/fake-scale.ts), which answers with the shapes of the AWS API reference; the entry URL is a
 * real local server.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { OUTPUT_KEYS, SCALE_BACKLOG_METRIC, SCALE_OUTPUT_KEYS, TAG_KEYS, scaleAiHostAutoScalingGroupName } from '../src/contract';
import { sdkScaleApi } from '../src/scale/api';
import { FakeAws, awsError, stackOf } from './helpers/fake-aws';
import { FakeScale, aiHostAnswer } from './helpers/fake-scale';
import { runWith, type RunResult } from './helpers/harness';
import { httpServer, type LocalServer } from './helpers/local-servers';

const NAME = 'big';
const CLUSTER = `geusemaker-${NAME}`;
const NOW = Date.parse('2025-01-15T12:00:00Z');

let aws: FakeAws;
let scale: FakeScale;
let entry: LocalServer;
const cloudWatch = mockClient(CloudWatchClient);

beforeEach(async () => {
  aws = new FakeAws();
  scale = new FakeScale({
    cluster: CLUSTER,
    services: { 'n8n-main': { desired: 1 }, 'n8n-worker': { desired: 2, spot: true }, 'n8n-webhook': { desired: 1 } },
  });
  entry = await httpServer('ok');
  cloudWatch.reset();
  cloudWatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'waiting', Label: SCALE_BACKLOG_METRIC.waitingJobs, Timestamps: [new Date(NOW - 60_000), new Date(NOW - 120_000)], Values: [14, 30], StatusCode: 'Complete' },
      { Id: 'perworker', Label: SCALE_BACKLOG_METRIC.backlogPerWorker, Timestamps: [new Date(NOW - 60_000)], Values: [7], StatusCode: 'Complete' },
    ],
  });
  aws.addStack(stackOf(`GeuseData-${NAME}`, 'CREATE_COMPLETE', { [OUTPUT_KEYS.fileSystemId]: 'fs-1' }, { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'data' }));
  aws.addStack(
    stackOf(
      `GeuseScale-${NAME}`,
      'CREATE_COMPLETE',
      {
        [OUTPUT_KEYS.tier]: 'scale',
        [OUTPUT_KEYS.entryUrl]: entry.url,
        [OUTPUT_KEYS.autoScalingGroupName]: scaleAiHostAutoScalingGroupName(NAME),
        [SCALE_OUTPUT_KEYS.clusterName]: CLUSTER,
        [SCALE_OUTPUT_KEYS.mainServiceName]: 'n8n-main',
        [SCALE_OUTPUT_KEYS.workerServiceName]: 'n8n-worker',
        [SCALE_OUTPUT_KEYS.webhookServiceName]: 'n8n-webhook',
        [SCALE_OUTPUT_KEYS.logGroupNames]: `main=/gm/${NAME}/main,worker=/gm/${NAME}/worker,webhook=/gm/${NAME}/webhook,backlog=/aws/lambda/gm-${NAME}-backlog`,
        [SCALE_OUTPUT_KEYS.workerMinCount]: '1',
        [SCALE_OUTPUT_KEYS.workerMaxCount]: '8',
        [SCALE_OUTPUT_KEYS.workerConcurrency]: '10',
      },
      { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'scale' },
    ),
  );
  aws.addStack(
    stackOf(`GeuseScaleData-${NAME}`, 'CREATE_COMPLETE', {
      [SCALE_OUTPUT_KEYS.databaseEndpoint]: 'db.abc.eu-west-1.rds.amazonaws.com:5432',
      [SCALE_OUTPUT_KEYS.databaseInstanceId]: `geusemaker-${NAME}`,
      [SCALE_OUTPUT_KEYS.queueEndpoint]: 'master.q.abc.euw1.cache.amazonaws.com:6379',
      [SCALE_OUTPUT_KEYS.queueReplicationGroupId]: `geusemaker-${NAME}`,
    }),
  );
  const group = scaleAiHostAutoScalingGroupName(NAME);
  aws.groups.set(group, { AutoScalingGroupName: group, DesiredCapacity: 1, MinSize: 1, MaxSize: 1, Instances: [{ InstanceId: 'i-ai', LifecycleState: 'InService', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false }], DefaultCooldown: 300, HealthCheckType: 'EC2', CreatedTime: new Date(), AvailabilityZones: ['eu-west-1a'] });
  aws.instances.set('i-ai', { InstanceId: 'i-ai', State: { Name: 'running' }, InstanceType: 'g6.xlarge' as never, InstanceLifecycle: 'spot', Placement: { AvailabilityZone: 'eu-west-1a' }, PrivateIpAddress: '10.0.1.20', LaunchTime: new Date('2025-01-15T09:00:00Z') });
  aws.agents.set('i-ai', 'Online');
  aws.hosts.set('i-ai', (script) => aiHostAnswer(script));
});

afterEach(async () => {
  aws.restore();
  await entry.close();
});
afterAll(() => cloudWatch.restore());

function run(...args: string[]): Promise<RunResult> {
  return runWith({ clients: { ...aws.clients(), scale } as never }, ...args);
}

describe('list', () => {
  it('a scale deployment: its tier and AI host in the row, its services\u2019 running/desired tasks below', async () => {
    scale.services.set('n8n-worker', { desired: 3, running: 2, spot: true });
    const result = await run('list');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\nbig\s+scale\s+/);
    expect(result.stdout).toContain('Scale services (running/desired tasks)\n  big  main 1/1 \u00b7 worker 2/3 \u00b7 webhook 1/1\n');
    const doc = JSON.parse((await run('list', '--json')).stdout);
    expect(doc.scale).toEqual([{ name: NAME, services: [{ process: 'main', running: 1, desired: 1 }, { process: 'worker', running: 2, desired: 3 }, { process: 'webhook', running: 1, desired: 1 }] }]);
  });
});

describe('status', () => {
  it('shows services with running/desired tasks, workers and backlog, database, queue and AI host; exit 0 when all work', async () => {
    const result = await run('status', NAME);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^big {2}working\n/);
    expect(out).toMatch(/main\s+n8n-main\s+1\/1\s+1 healthy\s+COMPLETED\s+ok/);
    expect(out).toMatch(/worker\s+n8n-worker\s+2\/2\s+2 healthy, 2 spot\s+COMPLETED\s+ok/);
    expect(out).toMatch(/webhook\s+n8n-webhook\s+1\/1\s+1 healthy\s+COMPLETED\s+ok/);
    expect(out).toMatch(/Workers\s+2 running \(min 1, max 8, concurrency 10\)/);
    expect(out).toMatch(/Backlog\s+14 waiting, 7 per worker \(60 s ago\)/);
    expect(out).toMatch(/Database\s+available {2}db\.abc\.eu-west-1\.rds\.amazonaws\.com:5432 {2}\(postgres 17\.9, db\.t4g\.micro, single-AZ, encrypted\)/);
    expect(out).toMatch(/Queue\s+available {2}master\.q\.abc\.euw1\.cache\.amazonaws\.com:6379 {2}\(valkey, cache\.t4g\.micro, TLS, auth\)/);
    expect(out).toMatch(/Host\s+i-ai running \(g6\.xlarge, spot\)/);
    // The backlog comes from the metric the backlog function publishes, per deployment.
    const query = cloudWatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.MetricName)).toEqual([SCALE_BACKLOG_METRIC.waitingJobs, SCALE_BACKLOG_METRIC.backlogPerWorker]);
    expect(query.MetricDataQueries?.[0].MetricStat?.Metric?.Dimensions).toEqual([{ Name: 'Deployment', Value: NAME }]);
  });

  it('a worker short of its desired tasks and a database being modified: exit 1, each named', async () => {
    scale.services.set('n8n-worker', { desired: 4, running: 2, spot: true });
    scale.dbStatus = 'modifying';
    const result = await run('status', NAME);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^big {2}needs attention\n/);
    expect(result.stdout).toContain('  - worker: 2 of 4 tasks running\n');
    expect(result.stdout).toContain('  - database: the database is modifying\n');
  });

  it('--json: one document with services, workers, backlog, database, queue', async () => {
    const result = await run('status', NAME, '--json');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ deployment: NAME, tier: 'scale', healthy: true, problems: [], cluster: CLUSTER, workers: { running: 2, min: 1, max: 8, concurrency: 10 }, backlog: { waiting: 14, perWorker: 7 } });
    expect(doc.services.map((s: { process: string; desired: number; running: number }) => [s.process, s.running, s.desired])).toEqual([['main', 1, 1], ['worker', 2, 2], ['webhook', 1, 1]]);
    expect(doc.database).toMatchObject({ status: 'available', endpoint: 'db.abc.eu-west-1.rds.amazonaws.com:5432' });
  });

  it('no backlog published: said, without failing the rest', async () => {
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'waiting', Values: [], Timestamps: [] }, { Id: 'perworker', Values: [], Timestamps: [] }] });
    const result = await run('status', NAME);
    expect(result.stdout).toMatch(/Backlog\s+no backlog published in the last 15 minutes \(is the backlog function running\?\)/);
    expect(result.code).toBe(0);
  });

  it('an ECS service that does not exist (DescribeServices failure MISSING): exit 1', async () => {
    scale.services.delete('n8n-webhook');
    const result = await run('status', NAME);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`  - webhook: ECS service n8n-webhook not found in cluster ${CLUSTER} (MISSING)\n`);
  });
});

describe('health', () => {
  it('healthy means working: main ready on the entry URL, services at desired and ready, data available, AI services answering', async () => {
    const result = await run('health', NAME);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^big \(scale\) {2}healthy\n/);
    expect(result.stdout).toMatch(new RegExp(`entry\\s+ok\\s+\\d+ ms\\s+${entry.url.replace(/[.]/g, '\\.')}/healthz/readiness: HTTP 200`));
    expect(result.stdout).toMatch(/worker\s+ok\s+2\/2 running, 2 ready/);
    for (const part of ['main', 'webhook', 'database', 'queue', 'ollama', 'qdrant', 'crawl4ai']) expect(result.stdout).toMatch(new RegExp(`\\n {2}${part}\\s+ok`));
    expect(entry.requests).toBe(1);
  });

  it('workers not ready yet, and Crawl4AI down on the AI host: exit 1, each named', async () => {
    scale.services.set('n8n-worker', { desired: 2, running: 2, healthy: 1, spot: true });
    aws.hosts.set('i-ai', (script) => aiHostAnswer(script, { down: ['crawl4ai'] }));
    const result = await run('health', NAME, '--json');
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as { healthy: boolean; checks: { part: string; ok: boolean; detail: string }[] };
    expect(doc.healthy).toBe(false);
    expect(doc.checks.filter((c) => !c.ok).map((c) => [c.part, c.detail])).toEqual([
      ['worker', '1 of 2 tasks not ready yet'],
      ['crawl4ai', 'container restarting, 3 restarts'],
    ]);
  });

  it('--watch repeats every --interval until Ctrl-C: one NDJSON document per round', async () => {
    const harness = new (await import('./helpers/harness')).Harness({
      clients: { ...aws.clients(), scale } as never,
      onSleep: (_ms, h) => {
        if (h.sleeps.filter((ms) => ms === 10_000).length === 1) scale.services.set('n8n-main', { desired: 1, running: 0 });
        if (h.sleeps.filter((ms) => ms === 10_000).length === 2) h.abort();
      },
    });
    const result = await harness.run('health', NAME, '--watch', '--interval', '10s', '--json');
    const rounds = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { healthy: boolean; at: string });
    expect(rounds.map((r) => [r.healthy, r.at])).toEqual([[true, expect.stringMatching(/^2025-01-15T12:00:0\d/)], [false, expect.stringMatching(/^2025-01-15T12:00:1\d/)]]);
    expect(result.code).toBe(1);
  });

  it('the entry does not answer ready: main is not working', async () => {
    entry.behaviour = 'fail';
    const result = await run('health', NAME);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/entry\s+DOWN\s+\d+ ms\s+.*HTTP 503/);
  });
});

describe('logs', () => {
  beforeEach(() => {
    const at = (s: number) => NOW - 3_600_000 + s * 1000;
    scale.logs.set(`/gm/${NAME}/main`, [
      { eventId: 'm1', logStreamName: 'n8n/main/1', timestamp: at(1), message: 'n8n ready on ::, port 5678\n' },
      { eventId: 'm2', logStreamName: 'n8n/main/1', timestamp: at(5), message: 'Enqueued execution 41 (job 41)' },
      { eventId: 'm3', logStreamName: 'n8n/main/1', timestamp: at(9), message: 'Enqueued execution 42 (job 42)' },
    ]);
    scale.logs.set(`/gm/${NAME}/worker`, [
      { eventId: 'w1', logStreamName: 'n8n/worker/a', timestamp: at(6), message: 'Worker started execution 41 (job 41)' },
      { eventId: 'w2', logStreamName: 'n8n/worker/b', timestamp: at(10), message: 'Worker finished execution 42 (job 42)' },
    ]);
  });

  it('reads the tasks\u2019 CloudWatch log groups (every page) and merges them by time', async () => {
    const result = await run('logs', NAME, '--service', 'main', '--service', 'worker');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'main   | n8n ready on ::, port 5678',
        'main   | Enqueued execution 41 (job 41)',
        'worker | Worker started execution 41 (job 41)',
        'main   | Enqueued execution 42 (job 42)',
        'worker | Worker finished execution 42 (job 42)',
        '',
      ].join('\n'),
    );
    expect(scale.logCalls.filter((c) => c.logGroupName === `/gm/${NAME}/main`)).toHaveLength(2);
  });

  it('--tail keeps the newest lines; --json prints NDJSON', async () => {
    const result = await run('logs', NAME, '--service', 'main', '--service', 'worker', '--tail', '2', '--json');
    expect(result.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { timestamp: '2025-01-15T11:00:09.000Z', service: 'main', message: 'Enqueued execution 42 (job 42)' },
      { timestamp: '2025-01-15T11:00:10.000Z', service: 'worker', message: 'Worker finished execution 42 (job 42)' },
    ]);
  });

  it('--follow polls from the newest event: a line at the boundary is printed once, new lines appear', async () => {
    let polls = 0;
    const harness = new (await import('./helpers/harness')).Harness({
      clients: { ...aws.clients(), scale } as never,
      onSleep: (_ms, h) => {
        polls += 1;
        if (polls === 1) scale.logs.get(`/gm/${NAME}/worker`)!.push({ eventId: 'w3', logStreamName: 'n8n/worker/a', timestamp: NOW - 3_600_000 + 10_000, message: 'same millisecond, new event' });
        if (polls === 2) h.abort();
      },
    });
    const result = await harness.run('logs', NAME, '-f', '--since', '2h', '--service', 'worker');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('worker | Worker started execution 41 (job 41)\nworker | Worker finished execution 42 (job 42)\nworker | same millisecond, new event\n');
  });

  it('the ECS sources of a deployment that is not scale: a usage error', async () => {
    aws.addDeployment({ name: 'small', host: { id: 'i-1' } });
    const result = await run('logs', 'small', '--service', 'worker');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gm-ops: worker: only a scale deployment has these logs/);
  });
});

it('migrate refuses to start when it could not check the scale tier (SDK packages missing)', async () => {
  let installed = true;
  try {
    require.resolve('@aws-sdk/client-ecs');
  } catch {
    installed = false;
  }
  if (installed) return;
  const result = await runWith({ clients: aws.clients() }, 'migrate', NAME, '--to', 'dev', '--yes');
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/gm-ops: cannot migrate big: .*gm-ops cannot check the scale tier: the AWS SDK packages @aws-sdk\/client-ecs, .* are not installed/);
});

it('without the ECS/RDS/ElastiCache/Logs SDK packages the real API says so in one line', async () => {
  const api = sdkScaleApi(aws.clients());
  let installed = true;
  try {
    require.resolve('@aws-sdk/client-ecs');
  } catch {
    installed = false;
  }
  if (installed) return; // once the lead installs them, the real clients answer instead
  await expect(api.describeServices({ cluster: CLUSTER, services: ['n8n-main'] })).rejects.toThrow(
    'gm-ops cannot read a scale deployment: the AWS SDK package @aws-sdk/client-ecs is not installed',
  );
  void awsError;
});
