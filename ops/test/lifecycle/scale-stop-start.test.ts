/**
 * `gm-ops stop` and `gm-ops start` of a scale deployment through the entry point: ECS and Application Auto Scaling
 * through the shared scale fake (helpers/fake-scale.ts: UpdateService, RegisterScalableTarget moving the count into
 * the new range, a scaling activity never leaving it), the AI host's group through FakeAws / FakeAwsData (the
 * clean-stop hook, lifecycle states), GetTemplate serving the compute template, the stopped cost from the shipped
 * offline table (us-east-1: the one region it prices RDS and ElastiCache in). Every wait is on the fake clock.
 */
import { ResumeProcessesCommand, SuspendProcessesCommand, UpdateAutoScalingGroupCommand, type Instance as AsgInstance } from '@aws-sdk/client-auto-scaling';
import { loadOfflineTable } from '../../src/cost/offline-table';
import { FakeAws, awsError } from '../helpers/fake-aws';
import { FakeAwsData, cleanStopHookOf, scheduleOf } from '../helpers/fake-aws-data';
import { addScaleCostData, addScaleDeployment, aiHostAnswer, ecsResourceId, mockScaleSdks, serveTemplates, type ScaleDeployment } from '../helpers/fake-scale';
import { type Harness, type HarnessOptions, runWith } from '../helpers/harness';
import { httpServer, type LocalServer } from '../helpers/local-servers';

const REGION = 'us-east-1';
let aws: FakeAws;
let data: FakeAwsData;
let entry: LocalServer;
let big: ScaleDeployment;
let sdks: { restore(): void };
/** Every write, in order: the scale fake's, and the AI host's group's. */
let writes: string[];
let onPoll: ((ms: number, harness: Harness) => void) | undefined;

beforeEach(async () => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  entry = await httpServer('ok');
  big = addScaleDeployment(aws, { name: 'big', entryUrl: entry.url, webhooks: 1 });
  data.lifecycleHooks.set(big.group, [cleanStopHookOf(big.group)]);
  addScaleCostData(data, big, 'big');
  sdks = mockScaleSdks(big.scale, 'big');
  serveTemplates(aws, new Map([[big.computeStack, big.template]]));
  writes = [];
  big.scale.onWrite = (call) => writes.push(call);
  data.onUpdateGroup = (group, input) => writes.push(`UpdateAutoScalingGroup ${group} max ${input.MaxSize} desired ${input.DesiredCapacity}`);
  onPoll = undefined;
});
afterEach(async () => {
  sdks.restore();
  data.restore();
  aws.restore();
  await entry.close();
});

const run = (options: Partial<HarnessOptions>, ...args: string[]) =>
  runWith({ clients: { ...aws.clients(REGION), scale: big.scale } as never, onSleep: (ms, h) => onPoll?.(ms, h), ...options }, ...args);

const worker = () => big.scale.services.get(big.services.worker)!;
const main = () => big.scale.services.get(big.services.main)!;
const workerTarget = () => big.scale.targets.get(ecsResourceId(big.cluster, big.services.worker));
const offline = (key: string) => loadOfflineTable().lookup(REGION, key, false)![0].price.toNumber();
/** RDS db.t4g.micro and Valkey cache.t4g.micro for 730 hours, and 20 GB of gp3: what keeps billing while stopped. */
const keptMonthly = () => offline('rds:postgres:db.t4g.micro') * 730 + offline('rds:gp3:storage') * 20 + offline('elasticache:valkey:cache.t4g.micro') * 730;

/** The AI host leaves as Auto Scaling runs a scale-in with the clean-stop hook: one state per 10 s poll, then gone. */
function hostLeaves(states = ['Terminating:Wait', 'Terminating:Proceed', 'gone']): void {
  const record = data.onUpdateGroup!;
  data.onUpdateGroup = (group, input) => {
    record(group, input);
    if (input.DesiredCapacity === 0) for (const i of aws.groups.get(group)!.Instances ?? []) i.LifecycleState = 'Terminating';
  };
  let step = 0;
  onPoll = (ms) => {
    if (ms !== 10_000) return;
    const next = states[Math.min(step++, states.length - 1)];
    const group = aws.groups.get(big.group)!;
    if (next === 'gone') group.Instances = [];
    else for (const i of group.Instances ?? []) i.LifecycleState = next as AsgInstance['LifecycleState'];
  };
}

/** The stopped state `gm-ops stop` leaves: no task, the workers' target at 0/0, no AI host. */
function stopped(): void {
  for (const s of big.scale.services.values()) s.desired = 0;
  big.scale.targets.set(ecsResourceId(big.cluster, big.services.worker), { min: 0, max: 0, createdAt: new Date('2025-01-14T10:05:00Z') });
  Object.assign(aws.groups.get(big.group)!, { DesiredCapacity: 0, MaxSize: 0, Instances: [] });
}

describe('gm-ops stop (scale)', () => {
  it('without --yes: the plan, with what the database and the queue keep costing; nothing changed, exit 1', async () => {
    const { code, stdout, stderr } = await run({}, 'stop', 'big');
    expect(code).toBe(1);
    expect(stderr).toBe('gm-ops: not confirmed: nothing done — rerun with --yes to stop it: gm-ops stop big --yes\n');
    expect(stdout).toContain('Stop big (us-east-1, scale)\n');
    expect(stdout).toMatch(/Services\s+main 1\/1 · worker 1\/1 \(scaling 1 to 4\) · webhook 1\/1 \(running\/desired tasks, cluster geusemaker-big\)/);
    const steps = stdout.split('\n').filter((l) => /^ {2}\d\. /.test(l));
    expect(steps).toEqual([
      `  1. Set the desired count of the main (${big.services.main}) to 0 (UpdateService): 1 task stops after n8n's graceful shutdown`,
      `  2. Set the desired count of the webhook processors (${big.services.webhook}) to 0 (UpdateService): 1 task stops after n8n's graceful shutdown`,
      "  3. Register the workers' scalable target with minimum and maximum 0 (RegisterScalableTarget; now 1 to 4), so that neither the backlog nor the CPU scaling policy can start a worker (`gm-ops start big` restores the bounds the stack declares)",
      `  4. Set the desired count of the workers (${big.services.worker}) to 0 (UpdateService): 1 task stops after n8n's graceful shutdown`,
      `  5. Set the desired and maximum capacity of ${big.group} to 0 (UpdateAutoScalingGroup): the group scales in and terminates the AI host i-ai`,
      '  6. The AI host stops cleanly while geusemaker-clean-stop holds it (Terminating:Wait): Qdrant snapshotted to EFS, the single-writer fence released',
      '  7. Wait until the services run no task and the AI host is gone (at most 15m00s)',
    ]);
    expect(stdout).toContain(
      `Kept running, and billed: the database (RDS geusemaker-big) and the queue (Valkey geusemaker-big), about $${keptMonthly().toFixed(2)} a month (offline price table as of ${loadOfflineTable().asOf}, us-east-1). gm-ops does not stop RDS: AWS starts a stopped DB instance again after seven days.`,
    );
    expect(writes).toEqual([]);
  });

  it('--yes: the main and webhook to 0, the workers parked at 0/0 then to 0, then the AI host; waits until all is gone', async () => {
    hostLeaves(['gone']);
    const { code, stdout } = await run({}, 'stop', 'big', '--yes');
    expect(code).toBe(0);
    expect(writes).toEqual([
      `UpdateService ${big.services.main} 0`,
      `UpdateService ${big.services.webhook} 0`,
      `RegisterScalableTarget ${ecsResourceId(big.cluster, big.services.worker)} 0-0`,
      `UpdateService ${big.services.worker} 0`,
      `UpdateAutoScalingGroup ${big.group} max 0 desired 0`,
    ]);
    expect(stdout).toContain('\nStopped: big runs no n8n task and has no AI host, 10s after the stop began.\n');
  });

  it('waits, showing progress, while the tasks drain and the AI host stops cleanly (fake clock)', async () => {
    for (const s of big.scale.services.values()) s.running = 1;
    hostLeaves(['Terminating:Wait', 'Terminating:Proceed', 'gone']);
    const poll = onPoll!;
    onPoll = (ms, h) => {
      poll(ms, h);
      if (h.sleeps.length === 1) big.scale.settle();
    };
    const sleeps: number[] = [];
    const { code, stdout, stderr } = await run({ onSleep: (ms, h) => (sleeps.push(ms), onPoll?.(ms, h)) }, 'stop', 'big', '--yes');
    expect(code).toBe(0);
    expect(sleeps).toEqual([10_000, 10_000, 10_000]);
    const progress = stderr.split('\n').filter((l) => /running|AI host i-ai/.test(l));
    expect(progress).toEqual([
      `gm-ops: the main (${big.services.main}): 1 task still running`,
      `gm-ops: the workers (${big.services.worker}): 1 task still running`,
      `gm-ops: the webhook processors (${big.services.webhook}): 1 task still running`,
      'gm-ops: AI host i-ai: Terminating (leaving the group)',
      `gm-ops: the main (${big.services.main}): no task running`,
      `gm-ops: the workers (${big.services.worker}): no task running`,
      `gm-ops: the webhook processors (${big.services.webhook}): no task running`,
      'gm-ops: AI host i-ai: Terminating:Wait (stopping cleanly: database flushed, vectors snapshotted, fence released)',
      'gm-ops: AI host i-ai: Terminating:Proceed (stopped cleanly; the instance is being terminated)',
    ]);
    expect(stdout).toContain('Stopped: big runs no n8n task and has no AI host, 30s after the stop began.');
  });

  it('then what it costs while stopped: no task, no AI host; the database and the queue counted whole', async () => {
    hostLeaves(['gone']);
    const { stdout } = await run({}, 'stop', 'big', '--yes', '--json');
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ deployment: 'big', tier: 'scale', situation: 'running', confirmed: true, result: { stopped: true } });
    expect(Number(doc.keptRunning.monthlyCost)).toBeCloseTo(keptMonthly(), 10);
    // Besides: 5 GB of EFS Standard, five secrets (GeuseData's two, the database's, the queue's auth token and the task
    // runners' token), and the two custom metrics the backlog function keeps publishing.
    expect(Number(doc.stoppedMonthlyCost)).toBeCloseTo(keptMonthly() + offline('efs:standard') * 5 + offline('secrets:secret') * 5 + offline('cloudwatch:metric') * 2, 10);
    expect(doc.stoppedCost.components.map((c: { resource: string }) => c.resource)).not.toContainEqual(expect.stringMatching(/^ECS service|^Host /));
  });

  it('a scaling activity after the stop keeps the workers at 0: the target allows nothing else', async () => {
    hostLeaves(['gone']);
    await run({}, 'stop', 'big', '--yes');
    big.scale.scalingActivity();
    expect(worker().desired).toBe(0);
    expect(workerTarget()).toMatchObject({ min: 0, max: 0 });
  });

  it('a second stop says it is stopped and changes nothing (exit 0, without --yes)', async () => {
    hostLeaves(['gone']);
    await run({}, 'stop', 'big', '--yes');
    writes.length = 0;
    const second = await run({}, 'stop', 'big');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Already stopped: big runs no n8n task and has no AI host.');
    expect(second.stdout).toContain('Kept running, and billed: the database (RDS geusemaker-big)');
    expect(writes).toEqual([]);
  });

  it('half stopped (the AI host gone, the services up): only the remaining steps are planned and done', async () => {
    Object.assign(aws.groups.get(big.group)!, { DesiredCapacity: 0, MaxSize: 0, Instances: [] });
    const { code, stdout } = await run({}, 'stop', 'big', '--yes');
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((l) => /^ {2}\d\. /.test(l))).toHaveLength(5);
    expect(stdout).not.toContain('UpdateAutoScalingGroup');
    expect(writes).toEqual([
      `UpdateService ${big.services.main} 0`,
      `UpdateService ${big.services.webhook} 0`,
      `RegisterScalableTarget ${ecsResourceId(big.cluster, big.services.worker)} 0-0`,
      `UpdateService ${big.services.worker} 0`,
    ]);
  });

  it('with a schedule: ScheduledActions suspended before the AI host group scales in', async () => {
    data.scheduledActions.set(big.group, scheduleOf(big.group));
    hostLeaves(['gone']);
    const { code } = await run({}, 'stop', 'big', '--yes');
    expect(code).toBe(0);
    const asgWrites = aws.asg
      .calls()
      .map((c) => c.args[0])
      .filter((c) => c instanceof SuspendProcessesCommand || c instanceof UpdateAutoScalingGroupCommand)
      .map((c) => c.constructor.name);
    expect(asgWrites).toEqual(['SuspendProcessesCommand', 'UpdateAutoScalingGroupCommand']);
  });

  it('AWS refuses a step half-way: one line saying what was done and how to finish; nothing after it is done', async () => {
    big.scale.failNext.set(`UpdateService ${big.services.worker}`, [
      awsError('AccessDeniedException', `User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ecs:UpdateService on resource: ${big.services.worker}`),
    ]);
    const { code, stderr } = await run({}, 'stop', 'big', '--yes');
    expect(code).toBe(1);
    const lines = stderr.split('\n').filter(Boolean);
    expect(lines.slice(0, -1)).toEqual([
      `gm-ops: the main (${big.services.main}): desired count 0`,
      `gm-ops: the webhook processors (${big.services.webhook}): desired count 0`,
      "gm-ops: the workers' scalable target: minimum and maximum 0",
    ]);
    expect(lines.slice(-1)).toEqual([
      `gm-ops: stopping big failed at UpdateService of the workers (${big.services.worker}): access denied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ecs:UpdateService on resource: ${big.services.worker} — grant the permission AWS names above; the permissions of each command (list, status, logs, health, cost, restore) are in ops/README.md; done before it: the main (${big.services.main}): desired count 0, the webhook processors (${big.services.webhook}): desired count 0, the workers' scalable target: minimum and maximum 0; not done: the workers (${big.services.worker}): desired count 0, ${big.group}: desired and maximum capacity 0; \`gm-ops stop big\` again does only what is left`,
    ]);
    expect(writes).toEqual([
      `UpdateService ${big.services.main} 0`,
      `UpdateService ${big.services.webhook} 0`,
      `RegisterScalableTarget ${ecsResourceId(big.cluster, big.services.worker)} 0-0`,
    ]);
  });
});

/** The AI host comes back when the group's desired capacity is 1: Pending, then InService and answering. */
function hostLaunches(): void {
  const record = data.onUpdateGroup!;
  data.onUpdateGroup = (group, input) => {
    record(group, input);
    if (input.DesiredCapacity !== 1) return;
    aws.groups.get(group)!.Instances = [{ InstanceId: 'i-new', LifecycleState: 'Pending', HealthStatus: 'Healthy', AvailabilityZone: 'us-east-1a', ProtectedFromScaleIn: false }];
    aws.instances.set('i-new', { InstanceId: 'i-new', State: { Name: 'pending' }, InstanceType: 'm7g.xlarge' as never, Placement: { AvailabilityZone: 'us-east-1a' }, LaunchTime: new Date('2025-01-15T12:00:05Z') });
  };
  onPoll = (ms) => {
    const instance = aws.groups.get(big.group)!.Instances?.find((i) => i.InstanceId === 'i-new');
    if (ms !== 15_000 || !instance) return;
    instance.LifecycleState = 'InService';
    aws.instances.get('i-new')!.State = { Name: 'running' };
    aws.agents.set('i-new', 'Online');
    aws.hosts.set('i-new', (script) => aiHostAnswer(script));
  };
}

describe('gm-ops start (scale)', () => {
  it('the AI host first, then the services back to what the template declares; waits until the deep checks pass', async () => {
    stopped();
    data.scheduledActions.set(big.group, scheduleOf(big.group));
    aws.groups.get(big.group)!.SuspendedProcesses = [{ ProcessName: 'ScheduledActions', SuspensionReason: 'User suspended at 2025-01-14T19:00:00Z' }];
    hostLaunches();
    const { code, stdout, stderr } = await run({}, 'start', 'big');
    expect(stderr).not.toMatch(/gm-ops: (starting big failed|big does not work)/);
    expect(code).toBe(0);
    expect(aws.asg.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input)).toEqual([{ AutoScalingGroupName: big.group, ScalingProcesses: ['ScheduledActions'] }]);
    expect(writes).toEqual([
      `UpdateAutoScalingGroup ${big.group} max 1 desired 1`,
      `UpdateService ${big.services.main} 1`,
      `UpdateService ${big.services.webhook} 1`,
      `RegisterScalableTarget ${ecsResourceId(big.cluster, big.services.worker)} 1-4`,
    ]);
    // Registering the declared minimum started a worker (Application Auto Scaling moved the count into the range).
    expect(worker().desired).toBe(1);
    // The functional check ran on the new AI host once everything answered.
    expect(aws.scripts.filter((s) => s.instanceIds.includes('i-new')).map((s) => s.script.includes('functional-check.sh'))).toEqual([false, true]);
    expect(stdout).toMatch(/\nStarted: every part of big works \(the AI host's functional check passed\), \d+s after the start began\.\n$/);
  });

  it('the bounds and counts come from the deployed template, not from the outputs', async () => {
    stopped();
    const resources = big.template.Resources as Record<string, { Properties: Record<string, unknown> }>;
    resources.WorkersServiceTaskCountTargetD95E516D.Properties.MinCapacity = 2;
    resources.WorkersServiceTaskCountTargetD95E516D.Properties.MaxCapacity = '6';
    resources.WebhooksService1F2E3D4C.Properties.DesiredCount = 2;
    hostLaunches();
    const { code } = await run({}, 'start', 'big');
    expect(code).toBe(0);
    expect(writes.filter((w) => !w.startsWith('UpdateAutoScalingGroup'))).toEqual([
      `UpdateService ${big.services.main} 1`,
      `UpdateService ${big.services.webhook} 2`,
      `RegisterScalableTarget ${ecsResourceId(big.cluster, big.services.worker)} 2-6`,
    ]);
    expect(worker().desired).toBe(2);
  });

  it('already running and working: says so, checks once, changes nothing', async () => {
    const { code, stdout, stderr } = await run({}, 'start', 'big');
    expect(code).toBe(0);
    expect(writes).toEqual([]);
    expect(stderr).toBe('gm-ops: big is running already; checking that every part works\n');
    expect(stdout).toContain("Running: every part of big works (the AI host's functional check passed).\n");
  });

  it('AWS refuses a step: one line saying what was done and how to finish', async () => {
    stopped();
    big.scale.failNext.set('UpdateService', [awsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ecs:UpdateService')]);
    const { code, stderr } = await run({}, 'start', 'big');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toBe(
      `gm-ops: starting big failed at UpdateService of the main (${big.services.main}): access denied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ecs:UpdateService — grant the permission AWS names above; the permissions of each command (list, status, logs, health, cost, restore) are in ops/README.md; done before it: ${big.group}: desired and maximum capacity 1; the group launches the AI host; \`gm-ops start big\` again does only what is left`,
    );
    expect(main().desired).toBe(0);
  });

  it('never works within --timeout: one line naming what does not work', async () => {
    stopped();
    entry.behaviour = 'fail';
    hostLaunches();
    const { code, stderr } = await run({}, 'start', 'big', '--timeout', '1m');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toMatch(
      /^gm-ops: big does not work after 1m\d\ds \(last seen: entry: http:\/\/127\.0\.0\.1:\d+\/healthz\/readiness: HTTP 503\) — see `gm-ops status big` and `gm-ops logs big`; `gm-ops start big` again keeps waiting$/,
    );
  });
});

it('help: stop and start say what they do to a scale deployment', async () => {
  const stop = (await runWith({}, 'stop', '--help')).stdout.replace(/\s+/g, ' ');
  expect(stop).toContain('The database (RDS) and the queue (Valkey) keep running, and billing');
  expect(stop).toContain('AWS starts a stopped DB instance again after seven days');
  const start = (await runWith({}, 'start', '--help')).stdout.replace(/\s+/g, ' ');
  expect(start).toContain('back to what the deployed template of GeuseScale-<name> declares (GetTemplate)');
});
