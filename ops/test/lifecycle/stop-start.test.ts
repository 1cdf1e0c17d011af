/**
 * `gm-ops stop` and `gm-ops start` through the entry point, against aws-sdk-client-mock fakes that answer like the
 * Auto Scaling API (UpdateAutoScalingGroup, SuspendProcesses / ResumeProcesses, DescribeScheduledActions,
 * DescribeLifecycleHooks, lifecycle states Terminating:Wait -> Terminating:Proceed -> gone, Pending -> Pending:Wait ->
 * InService). Every wait goes through the harness's fake clock: no test waits a real second.
 */
import {
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
  type Instance as AsgInstance,
} from '@aws-sdk/client-auto-scaling';
import type { StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { loadOfflineTable } from '../../src/cost/offline-table';
import type { Prompt } from '../../src/context';
import { FakeAws, REGION, awsError, stackOf } from '../helpers/fake-aws';
import { FakeAwsData, cleanStopHookOf, fileSystemOf, healthyProbeLines, scheduleOf } from '../helpers/fake-aws-data';
import { type Harness, type HarnessOptions, runWith } from '../helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from '../helpers/host-output';

let aws: FakeAws;
let data: FakeAwsData;
beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
});
afterEach(() => {
  data.restore();
  aws.restore();
});

const GIB = 1024 ** 3;
const resource = (logicalId: string, type: string, physicalId: string): StackResourceSummary => ({
  LogicalResourceId: logicalId,
  PhysicalResourceId: physicalId,
  ResourceType: type,
  ResourceStatus: 'CREATE_COMPLETE',
  LastUpdatedTimestamp: new Date('2025-01-14T10:00:00Z'),
});
const secretArn = (purpose: string) => `arn:aws:secretsmanager:${REGION}:123456789012:secret:geusemaker/web/${purpose}-AbCdEf`;

/** A deployment "web": its group (with the clean-stop hook unless told), a host unless told, what `cost` reads. */
function deployment(options: { tier?: 'dev' | 'automation'; host?: boolean; schedule?: boolean; hook?: boolean; suspended?: boolean } = {}): string {
  const tier = options.tier ?? 'dev';
  const { stackName, group } = aws.addDeployment({ name: 'web', tier, host: options.host === false ? null : { id: 'i-0abc', type: 'm7g.large' } });
  if (options.hook !== false) data.lifecycleHooks.set(group, [cleanStopHookOf(group)]);
  if (options.schedule) data.scheduledActions.set(group, scheduleOf(group));
  if (options.suspended) aws.groups.get(group)!.SuspendedProcesses = [{ ProcessName: 'ScheduledActions', SuspensionReason: 'User suspended at 2025-01-14T19:00:00Z' }];
  data.stackResources.set(stackName, [
    resource('HostAsg1A2B3C4D', 'AWS::AutoScaling::AutoScalingGroup', group),
    ...(tier === 'automation'
      ? [
          resource('EntryAlb0A1B2C3D', 'AWS::ElasticLoadBalancingV2::LoadBalancer', `arn:aws:elasticloadbalancing:${REGION}:123456789012:loadbalancer/app/geuse-web/0123456789abcdef`),
          resource('EntryDistribution1A2B', 'AWS::CloudFront::Distribution', 'E2ABCDEF123456'),
        ]
      : []),
  ]);
  data.stackResources.set('GeuseData-web', [
    resource('FileSystem8A8E25C0', 'AWS::EFS::FileSystem', 'fs-web'),
    resource('SecretsN8nEncryptionKey1A2B', 'AWS::SecretsManager::Secret', secretArn('n8n-encryption-key')),
    resource('SecretsN8nOwnerPassword3C4D', 'AWS::SecretsManager::Secret', secretArn('n8n-owner-password')),
  ]);
  data.fileSystems.push(fileSystemOf('fs-web', { deployment: 'web', sizeBytes: 5 * GIB }));
  return group;
}

/** The scale-in as Auto Scaling runs it with the clean-stop hook: Terminating, then one state per poll until gone. */
function scalesIn(group: string, states = ['Terminating:Wait', 'Terminating:Wait', 'Terminating:Proceed', 'gone']): void {
  data.onUpdateGroup = (_name, input) => {
    if (input.DesiredCapacity !== 0) return;
    for (const instance of aws.groups.get(group)!.Instances ?? []) instance.LifecycleState = 'Terminating';
  };
  let step = 0;
  onPoll = (ms) => {
    if (ms !== 10_000) return;
    const next = states[Math.min(step, states.length - 1)];
    step += 1;
    const target = aws.groups.get(group)!;
    if (next === 'gone') target.Instances = [];
    else for (const instance of target.Instances ?? []) instance.LifecycleState = next as AsgInstance['LifecycleState'];
  };
}
let onPoll: ((ms: number, harness: Harness) => void) | undefined;
beforeEach(() => {
  onPoll = undefined;
});

const run = (options: Partial<HarnessOptions>, ...args: string[]) =>
  runWith({ clients: aws.clients(), onSleep: (ms, harness) => onPoll?.(ms, harness), ...options }, ...args);

/** What the shipped table says a stopped dev deployment costs here: 5 GB of EFS Standard and two secrets. */
function offline(key: string): number {
  return loadOfflineTable().lookup(REGION, key, false)![0].price.toNumber();
}

/** Auto Scaling calls that change something, in order. */
function writes(): string[] {
  return aws.asg
    .calls()
    .map((call) => call.args[0])
    .filter((command) => command instanceof UpdateAutoScalingGroupCommand || command instanceof SuspendProcessesCommand || command instanceof ResumeProcessesCommand)
    .map((command) => `${command.constructor.name} ${JSON.stringify(command.input)}`);
}

describe('gm-ops stop', () => {
  it('without --yes and without a terminal: prints the plan, changes nothing, exit 1 with the hint', async () => {
    const group = deployment();
    const { code, stdout, stderr } = await run({}, 'stop', 'web');
    expect(code).toBe(1);
    expect(stdout).toBe(
      [
        'Stop web (eu-west-1)',
        '',
        '  Compute stack  GeuseDev-web CREATE_COMPLETE',
        `  Group          ${group}: desired 1, min 0, max 1`,
        '  Host           i-0abc InService',
        '  Schedule       none',
        '  Clean stop     lifecycle hook geusemaker-clean-stop (up to 600 s per heartbeat)',
        '',
        'Plan:',
        `  1. Set the desired and maximum capacity of ${group} to 0 (UpdateAutoScalingGroup): the group scales in and terminates i-0abc`,
        '  2. The host stops cleanly while geusemaker-clean-stop holds it (Terminating:Wait): PostgreSQL flushed, Qdrant snapshotted to EFS, the single-writer fence released',
        '  3. Wait until the host is gone (at most 15m00s)',
        '',
        'Stop deletes nothing: the file system and the secrets are kept; `gm-ops start web` brings the host back.',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('gm-ops: not confirmed: nothing done — rerun with --yes to stop it: gm-ops stop web --yes\n');
    expect(writes()).toEqual([]);
  });

  it('--yes: desired capacity 0 (exactly that), no suspension without a schedule, waits through the lifecycle states, then the stopped cost', async () => {
    const group = deployment();
    scalesIn(group);
    const harness: { sleeps?: number[] } = {};
    const { code, stdout, stderr } = await run({ onSleep: (ms, h) => { harness.sleeps = h.sleeps; onPoll?.(ms, h); } }, 'stop', 'web', '--yes');
    expect(code).toBe(0);
    expect(data.groupUpdates).toEqual([{ AutoScalingGroupName: group, MaxSize: 0, DesiredCapacity: 0 }]);
    expect(data.processCalls).toEqual([]);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      `gm-ops: ${group}: desired and maximum capacity set to 0`,
      'gm-ops: i-0abc: Terminating (leaving the group)',
      'gm-ops: i-0abc: Terminating:Wait (stopping cleanly: database flushed, vectors snapshotted, fence released)',
      'gm-ops: i-0abc: Terminating:Proceed (stopped cleanly; the instance is being terminated)',
    ]);
    // Four polls of 10 s on the fake clock, nothing else.
    expect(harness.sleeps).toEqual([10_000, 10_000, 10_000, 10_000]);
    expect(stdout).toContain('\nStopped: web has no host, 40s after the stop began.\n');
    // By hand, from the same table: 5 GB-months of EFS Standard + 2 secret-months.
    const expected = offline('efs:standard') * 5 + offline('secrets:secret') * 2;
    expect(expected).toBeCloseTo(2.45, 10);
    expect(stdout).toContain(`While stopped, web costs about $${expected.toFixed(2)} a month (offline price table as of ${loadOfflineTable().asOf}, eu-west-1, 730 h a month):`);
    expect(stdout).toMatch(/File system fs-web\s+Storage \(Standard, metered 5 GB as of 2025-01-15T11:00:00Z\)\s+5\s+GB-months\s+\$1\.65\n/);
    expect(stdout).toMatch(/Secrets \(2\)\s+Secrets\s+2\s+secret-months\s+\$0\.80\n/);
    // The shipped table has no elastic throughput prices for eu-west-1: only the secrets' API requests are listed.
    expect(stdout).toContain('  Not included, they depend on usage: API requests.\n');
    expect(stdout).toContain('Not billed while stopped: the host, its root volume and its public IPv4 address.');
  });

  it('with a schedule: suspends ScheduledActions before scaling in, and says so', async () => {
    const group = deployment({ schedule: true });
    scalesIn(group, ['gone']);
    const { code, stdout, stderr } = await run({}, 'stop', 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain('  Schedule       Start (0 8 * * 1-5 Europe/Paris, 1 host); Stop (0 20 * * 1-5 Europe/Paris, no host)\n');
    expect(stdout).toContain(`  1. Suspend the ScheduledActions process of ${group}, so that the schedule cannot start the host again (\`gm-ops start web\` resumes it)`);
    expect(writes()).toEqual([
      `SuspendProcessesCommand {"AutoScalingGroupName":"${group}","ScalingProcesses":["ScheduledActions"]}`,
      `UpdateAutoScalingGroupCommand {"AutoScalingGroupName":"${group}","MaxSize":0,"DesiredCapacity":0}`,
    ]);
    expect(stderr).toContain(`gm-ops: ${group}: ScheduledActions suspended — the schedule will not start web until \`gm-ops start web\`\n`);
    expect(aws.groups.get(group)!.SuspendedProcesses).toEqual([{ ProcessName: 'ScheduledActions', SuspensionReason: 'User suspended at 2025-01-15T12:00:00Z' }]);
  });

  it('--json without --yes: the plan as one document (confirmed false), the hint on stderr, exit 1', async () => {
    const group = deployment({ schedule: true });
    const { code, stdout, stderr } = await run({}, 'stop', 'web', '--json');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      deployment: 'web',
      autoScalingGroup: group,
      situation: 'running',
      hosts: [{ instanceId: 'i-0abc', lifecycleState: 'InService' }],
      schedule: { scheduledActions: [{ name: 'Start', recurrence: '0 8 * * 1-5', timeZone: 'Europe/Paris', desiredCapacity: 1 }, { name: 'Stop', desiredCapacity: 0 }], suspended: false },
      confirmed: false,
      result: null,
      stoppedMonthlyCost: null,
    });
    expect(stderr).toBe('gm-ops: not confirmed: nothing done — rerun with --yes to stop it: gm-ops stop web --yes\n');
    expect(writes()).toEqual([]);
  });

  it('a confirmation at the terminal: asked once, then done', async () => {
    const group = deployment();
    scalesIn(group, ['gone']);
    const questions: string[] = [];
    const prompt: Prompt = { available: true, confirm: async (q) => (questions.push(q), true) };
    const { code } = await run({ prompt }, 'stop', 'web');
    expect(code).toBe(0);
    expect(questions).toEqual(['Stop web?']);
    expect(data.groupUpdates).toEqual([{ AutoScalingGroupName: group, MaxSize: 0, DesiredCapacity: 0 }]);
  });

  it('the host does not go within --timeout: fails in one line, exit 1', async () => {
    const group = deployment();
    scalesIn(group, ['Terminating:Wait']);
    const { code, stderr } = await run({}, 'stop', 'web', '--yes', '--timeout', '1m');
    expect(code).toBe(1);
    const last = stderr.trim().split('\n').pop();
    expect(last).toBe(
      'gm-ops: web is not stopped after 1m00s: i-0abc Terminating:Wait — the host is still stopping cleanly (geusemaker-clean-stop waits up to its heartbeat timeout, then continues); `gm-ops stop web` again waits for it; `gm-ops logs web` shows the host',
    );
  });

  it('something sets the desired capacity back while stopping: says so in one line, exit 1', async () => {
    const group = deployment();
    scalesIn(group);
    const poll = onPoll!;
    onPoll = (ms, h) => {
      poll(ms, h);
      aws.groups.get(group)!.DesiredCapacity = 1;
    };
    const { code, stderr } = await run({}, 'stop', 'web', '--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toBe(
      `gm-ops: the desired capacity of ${group} went back to 1 while web was stopping (a scheduled action, or someone else?) — see \`gm-ops status web\`; run \`gm-ops stop web\` again to stop it`,
    );
  });

  it('already stopped: says so and shows the stopped cost, exit 0 without --yes, nothing changed', async () => {
    deployment({ host: false });
    const { code, stdout, stderr } = await run({}, 'stop', 'web');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Already stopped: web has no host.\n');
    expect(stdout).toContain('While stopped, web costs about $2.45 a month');
    expect(writes()).toEqual([]);
  });

  it('stopped, but its schedule is active: the plan is to suspend it (a scheduled start would bring the host back)', async () => {
    const group = deployment({ host: false, schedule: true });
    const first = await run({}, 'stop', 'web');
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('Found: web has no host, but its schedule would start one.');
    expect(writes()).toEqual([]);
    const second = await run({}, 'stop', 'web', '--yes');
    expect(second.code).toBe(0);
    expect(writes()).toEqual([
      `SuspendProcessesCommand {"AutoScalingGroupName":"${group}","ScalingProcesses":["ScheduledActions"]}`,
      `UpdateAutoScalingGroupCommand {"AutoScalingGroupName":"${group}","MaxSize":0,"DesiredCapacity":0}`,
    ]);
    expect(data.groupUpdates).toEqual([{ AutoScalingGroupName: group, MaxSize: 0, DesiredCapacity: 0 }]);
    const third = await run({}, 'stop', 'web');
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('Already stopped: web has no host and its schedule is suspended.');
  });

  it('automation: the load balancer stays billed while stopped (CloudFront only with traffic)', async () => {
    const group = deployment({ tier: 'automation' });
    scalesIn(group, ['gone']);
    const { code, stdout } = await run({}, 'stop', 'web', '--yes', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    const expected = offline('efs:standard') * 5 + offline('secrets:secret') * 2 + offline('elb:alb') * 730;
    expect(Number(doc.stoppedMonthlyCost)).toBeCloseTo(expected, 10);
    expect(doc).toMatchObject({
      deployment: 'web',
      region: 'eu-west-1',
      computeStack: 'GeuseAutomation-web',
      autoScalingGroup: group,
      situation: 'running',
      confirmed: true,
      result: { stopped: true, secondsToStopped: 10 },
      stoppedCost: { source: 'offline', priceTable: { asOf: loadOfflineTable().asOf } },
    });
    expect(doc.stoppedCost.components.map((c: { name: string; monthlyCost: string | null }) => [c.name, c.monthlyCost])).toEqual(
      expect.arrayContaining([['Application load balancer', '18.396'], ['Data transfer out to the internet (US, Europe)', null]]),
    );
  });

  it('what it costs while stopped cannot be read: the stop still succeeds (exit 0), the reason in one notice', async () => {
    const group = deployment();
    scalesIn(group, ['gone']);
    data.stackResources.delete('GeuseData-web');
    const { code, stdout, stderr } = await run({}, 'stop', 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain('Stopped: web has no host');
    expect(stdout).not.toContain('While stopped');
    expect(stderr).toContain('gm-ops: what web costs while stopped could not be read: Stack with id GeuseData-web does not exist\n');
  });

  it('a group without the clean-stop hook (deployed before it): refuses in one line, nothing changed', async () => {
    deployment({ hook: false });
    const { code, stdout, stderr } = await run({}, 'stop', 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'gm-ops: GeuseDev-web-Host-ASG has no geusemaker-clean-stop lifecycle hook: GeuseDev-web was deployed before gm-ops stop existed, and scaling it in would not stop the host cleanly (Qdrant\'s newest vectors live on the host\'s disk until a snapshot) — update it first: npx cdk deploy GeuseDev-web -c name=web -c tier=dev; then `gm-ops stop web`\n',
    );
    expect(writes()).toEqual([]);
  });

  it('unknown deployment, no compute stack, a busy stack: one line each, exit 1', async () => {
    const unknown = await run({}, 'stop', 'ghost', '--yes');
    expect([unknown.code, unknown.stderr]).toEqual([1, 'gm-ops: deployment "ghost" not found in eu-west-1 — run `gm-ops list` to see the deployments in this region (or pass --region)\n']);

    aws.addStack(stackOf('GeuseData-lone', 'CREATE_COMPLETE', { FileSystemId: 'fs-lone' }, { 'geuse:deployment': 'lone', 'geuse:tier': 'data' }));
    const lone = await run({}, 'start', 'lone');
    expect([lone.code, lone.stderr]).toEqual([
      1,
      'gm-ops: "lone" has no compute stack (only GeuseData-lone): there is no host to start — `gm-ops restore lone` redeploys its compute stack on the retained data\n',
    ]);

    aws.addDeployment({ name: 'busy', status: 'UPDATE_IN_PROGRESS', host: { id: 'i-busy' } });
    const busy = await run({}, 'stop', 'busy', '--yes');
    expect([busy.code, busy.stderr]).toEqual([
      1,
      'gm-ops: GeuseDev-busy is UPDATE_IN_PROGRESS: CloudFormation is working on it, and a stop now would fight it — run `gm-ops stop busy` again when it is done (see `gm-ops status busy`)\n',
    ]);
  });

  it('AWS refuses the update: one line naming the action, exit 1', async () => {
    deployment();
    aws.failNext.set('UpdateAutoScalingGroup', [
      awsError('AccessDenied', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: autoscaling:UpdateAutoScalingGroup on resource: GeuseDev-web-Host-ASG'),
    ]);
    const { code, stderr } = await run({}, 'stop', 'web', '--yes');
    expect(code).toBe(1);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'gm-ops: access denied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: autoscaling:UpdateAutoScalingGroup on resource: GeuseDev-web-Host-ASG — grant the permission AWS names above; the permissions of each command (list, status, logs, health, cost, restore) are in ops/README.md',
    ]);
  });

  it('a bad --timeout is a usage error (exit 2)', async () => {
    const { code, stderr } = await run({}, 'stop', 'web', '--timeout', 'soon');
    expect(code).toBe(2);
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

/** A host's answer to `health --deep`: every probe up, every function ok unless `failing` names it. */
function deepAnswer(script: string, failing: Record<string, string> = {}): string {
  const token = tokenOf(script);
  const marker = `@@gm-ops:${token}`;
  const functions = ['n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai'].map(
    (service) => `${marker} function\t${JSON.stringify({ service, ok: !failing[service], ms: 12, detail: failing[service] ?? 'works' })}`,
  );
  return [healthyProbeLines(token), containerLines(token, ALL_RUNNING), ...functions, `${marker} function-exit\t${Object.keys(failing).length > 0 ? 1 : 0}\t`].join('\n');
}

/** The group launches i-new when its desired capacity becomes 1: Pending, Pending:Wait, then InService and working. */
function launches(group: string, states = ['Pending:Wait', 'InService'], failing: Record<string, string> = {}): void {
  data.onUpdateGroup = (_name, input) => {
    if (input.DesiredCapacity !== 1) return;
    aws.groups.get(group)!.Instances = [
      ...(aws.groups.get(group)!.Instances ?? []),
      { InstanceId: 'i-new', LifecycleState: 'Pending', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1a', InstanceType: 'm7g.large', ProtectedFromScaleIn: false },
    ];
    aws.instances.set('i-new', { InstanceId: 'i-new', State: { Name: 'pending' }, InstanceType: 'm7g.large' as never, Placement: { AvailabilityZone: 'eu-west-1a' }, LaunchTime: new Date('2025-01-15T12:00:05Z') });
  };
  let step = 0;
  onPoll = (ms) => {
    if (ms !== 15_000) return;
    const instance = aws.groups.get(group)!.Instances?.find((i) => i.InstanceId === 'i-new');
    if (!instance) return;
    const next = states[Math.min(step, states.length - 1)];
    step += 1;
    instance.LifecycleState = next as AsgInstance['LifecycleState'];
    if (next === 'InService') {
      aws.instances.get('i-new')!.State = { Name: 'running' };
      aws.agents.set('i-new', 'Online');
      aws.hosts.set('i-new', (script) => deepAnswer(script, failing));
    }
  };
}

describe('gm-ops start', () => {
  it('stopped with its schedule suspended: resumes it, desired capacity 1 (exactly), waits for InService, then for every service to work', async () => {
    const group = deployment({ host: false, schedule: true, suspended: true });
    launches(group);
    const { code, stdout, stderr } = await run({}, 'start', 'web');
    expect(code).toBe(0);
    expect(writes()).toEqual([
      `ResumeProcessesCommand {"AutoScalingGroupName":"${group}","ScalingProcesses":["ScheduledActions"]}`,
      `UpdateAutoScalingGroupCommand {"AutoScalingGroupName":"${group}","MaxSize":1,"DesiredCapacity":1}`,
    ]);
    expect(aws.groups.get(group)!.SuspendedProcesses).toEqual([]);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      `gm-ops: ${group}: ScheduledActions resumed — the schedule applies again`,
      `gm-ops: ${group}: desired and maximum capacity set to 1; the group launches a host`,
      'gm-ops: i-new: Pending (launching)',
      'gm-ops: i-new: Pending:Wait (bootstrapping: the group holds it until the host has started)',
      'gm-ops: i-new: InService (in service)',
    ]);
    // The functional check ran (health --deep), through SSM.
    // Liveness first, then the functional check (health --deep), through SSM.
    expect(aws.scripts.filter((s) => s.instanceIds.includes('i-new')).map((s) => s.script.includes('functional-check.sh'))).toEqual([false, true]);
    // Two polls of 15 s, and the own polls of the two SSM commands (liveness, then the functional check; fake clock).
    expect(stdout).toMatch(/\nStarted: every service of web works on i-new \(functional check passed\), 34s after the start began\.\n$/);
  });

  it('in service but n8n not up yet: keeps waiting (no functional check before every service answers), then works', async () => {
    const group = deployment({ host: false });
    launches(group, ['InService']);
    let answers = 0;
    const poll = onPoll!;
    onPoll = (ms, h) => {
      poll(ms, h);
      if (aws.hosts.has('i-new') && answers === 0) {
        answers += 1;
        aws.hosts.set('i-new', (script) => {
          if (answers++ === 1) return `${healthyProbeLines(tokenOf(script), ['n8n'])}\n${containerLines(tokenOf(script), ALL_RUNNING)}`;
          return deepAnswer(script);
        });
      }
    };
    const { code, stdout } = await run({}, 'start', 'web');
    expect(code).toBe(0);
    expect(aws.scripts.filter((s) => s.instanceIds.includes('i-new')).map((s) => s.script.includes('functional-check.sh'))).toEqual([false, false, true]);
    expect(stdout).toContain('Started: every service of web works on i-new (functional check passed)');
  });

  it('no suspended schedule: no ResumeProcesses, only the desired capacity', async () => {
    const group = deployment({ host: false, schedule: true });
    launches(group, ['InService']);
    const { code } = await run({}, 'start', 'web');
    expect(code).toBe(0);
    expect(writes()).toEqual([`UpdateAutoScalingGroupCommand {"AutoScalingGroupName":"${group}","MaxSize":1,"DesiredCapacity":1}`]);
  });

  it('--json: one document with the time to healthy and each service\'s function', async () => {
    const group = deployment({ host: false });
    launches(group, ['InService']);
    const { code, stdout, stderr } = await run({}, 'start', 'web', '--json');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ deployment: 'web', autoScalingGroup: group, situation: 'stopped', schedule: { resumed: false }, desiredCapacitySet: true, result: { healthy: true, instanceId: 'i-new', secondsToHealthy: 19 } });
    expect(doc.result.services.find((s: { service: string }) => s.service === 'crawl4ai')).toMatchObject({ outcome: 'up', function: { state: 'ok', detail: 'works' } });
  });

  it('already running and working: says so, checks, changes nothing, exit 0', async () => {
    deployment();
    aws.hosts.set('i-0abc', (script) => deepAnswer(script));
    const { code, stdout, stderr } = await run({}, 'start', 'web');
    expect(code).toBe(0);
    expect(writes()).toEqual([]);
    expect(stderr).toBe('gm-ops: web is running already; checking that every service works\n');
    expect(stdout).toContain('Running: every service of web works on i-0abc (functional check passed).\n');
  });

  it('running for hours but a service does not work: one line, exit 1, the way out named', async () => {
    deployment();
    aws.hosts.set('i-0abc', (script) => deepAnswer(script, { crawl4ai: 'POST /crawl answered 500 (Internal Server Error)' }));
    const { code, stderr } = await run({}, 'start', 'web');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toBe(
      'gm-ops: web is running on i-0abc but does not work: crawl4ai: POST /crawl answered 500 (Internal Server Error) — `gm-ops health web --deep` shows each service; `gm-ops restore web` replaces an unhealthy host',
    );
  });

  it('the host never gets to work within --timeout: one line, exit 1', async () => {
    const group = deployment({ host: false });
    launches(group, ['Pending:Wait']);
    const { code, stderr } = await run({}, 'start', 'web', '--timeout', '1m');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').pop()).toBe(
      'gm-ops: web does not work after 1m00s (last seen: i-new is Pending:Wait (bootstrapping: the group holds it until the host has started)) — see `gm-ops status web` and `gm-ops logs web` (the bootstrap log is /var/log/geusemaker-bootstrap.log); `gm-ops start web` again keeps waiting',
    );
  });
});

describe('help', () => {
  it('both commands are listed and explain themselves', async () => {
    const all = await runWith({}, '--help');
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/gm-ops stop .*\n[\s\S]*take the host away and keep the data/);
    expect(all.stdout).toMatch(/gm-ops start .*\n[\s\S]*bring the host of a stopped deployment back/);
    const stop = await runWith({}, 'stop', '--help');
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain('Terminating:Wait (lifecycle hook geusemaker-clean-stop)');
    const start = await runWith({}, 'start', '--help');
    expect(start.code).toBe(0);
    expect(start.stdout).toContain('ScheduledActions');
  });
});
