/**
 * gm-ops migrate <name> --to <tier> end to end through the entry point: the AWS SDK mocked (CloudFormation, auto
 * scaling, EC2, SSM via FakeAws; ECS, RDS and ElastiCache through the shared fake of the scale API,
 * helpers/fake-scale.ts, answering with the shapes of the AWS API reference), `npx cdk deploy` through a fake
 * ProcessRunner that creates or changes the stacks as CloudFormation would, the hosts answering like the migrate scripts' host side, the entry URL a real local server.
 * No real waiting: the harness's sleep advances its clock.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResumeProcessesCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import type { ProcessRunner } from '../src/context';
import { OUTPUT_KEYS, SCALE_OUTPUT_KEYS, TAG_KEYS, scaleAiHostAutoScalingGroupName } from '../src/contract';
import { FakeAws, stackOf } from './helpers/fake-aws';
import { FakeScale, aiHostAnswer } from './helpers/fake-scale';
import { runWith, type RunResult } from './helpers/harness';
import { tokenOf } from './helpers/host-output';
import { httpServer, type LocalServer } from './helpers/local-servers';

const NAME = 'my-stack';
const CLUSTER = `geusemaker-${NAME}`;
const SET_TO_SCALE = '20250115T120000Z-migrate-to-scale';
const SET_TO_DEV = '20250115T120000Z-migrate-to-dev';
const DB_SECRET = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:geusemaker/${NAME}/database-AbCdEf`;

interface Setup {
  aws: FakeAws;
  scale: FakeScale;
  entry: LocalServer;
  project: string;
  processes: string[][];
  deleted: string[];
  /** Exit code of each cdk deploy, in order (default 0). */
  deployExits: number[];
  hostAnswers: Record<string, (script: string) => string>;
  /** The new single host's SSM agent registers only after the first wait. */
  slowAgent?: boolean;
}

let setup: Setup;

function addHost(aws: FakeAws, group: string, id: string): void {
  aws.groups.set(group, { AutoScalingGroupName: group, DesiredCapacity: 1, MinSize: 1, MaxSize: 1, Instances: [{ InstanceId: id, LifecycleState: 'InService', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false }], DefaultCooldown: 300, HealthCheckType: 'EC2', CreatedTime: new Date(), AvailabilityZones: ['eu-west-1a'] });
  aws.instances.set(id, { InstanceId: id, State: { Name: 'running' }, InstanceType: 't4g.large' as never, Placement: { AvailabilityZone: 'eu-west-1a' }, PrivateIpAddress: '10.0.1.20', LaunchTime: new Date('2025-01-15T09:00:00Z') });
  aws.agents.set(id, 'Online');
  aws.hosts.set(id, (script) => {
    const answer = setup.hostAnswers[id];
    if (!answer) throw new Error(`no answers for ${id}`);
    return answer(script);
  });
}

/** The scale stacks as the CDK app creates them, the AI host in its group, the services at `desired`. */
function addScale(aws: FakeAws, scale: FakeScale, entryUrl: string, hold: boolean): void {
  const compute = `GeuseScale-${NAME}`;
  aws.stacks.splice(0, aws.stacks.length, ...aws.stacks.filter((s) => s.StackName !== compute && s.StackName !== `GeuseScaleData-${NAME}`));
  aws.addStack(
    stackOf(
      compute,
      'CREATE_COMPLETE',
      {
        [OUTPUT_KEYS.tier]: 'scale',
        [OUTPUT_KEYS.entryUrl]: entryUrl,
        [OUTPUT_KEYS.autoScalingGroupName]: scaleAiHostAutoScalingGroupName(NAME),
        [SCALE_OUTPUT_KEYS.clusterName]: CLUSTER,
        [SCALE_OUTPUT_KEYS.mainServiceName]: 'n8n-main',
        [SCALE_OUTPUT_KEYS.workerServiceName]: 'n8n-worker',
        [SCALE_OUTPUT_KEYS.webhookServiceName]: '',
        [SCALE_OUTPUT_KEYS.logGroupNames]: `main=/geusemaker/${NAME}/main,worker=/geusemaker/${NAME}/worker`,
      },
      { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'scale' },
    ),
  );
  aws.addStack(
    stackOf(`GeuseScaleData-${NAME}`, 'CREATE_COMPLETE', {
      [SCALE_OUTPUT_KEYS.databaseEndpoint]: 'db.abc.eu-west-1.rds.amazonaws.com:5432',
      [SCALE_OUTPUT_KEYS.databaseInstanceId]: `geusemaker-${NAME}`,
      [SCALE_OUTPUT_KEYS.databaseName]: 'n8n',
      [SCALE_OUTPUT_KEYS.databaseSecretArn]: DB_SECRET,
      [SCALE_OUTPUT_KEYS.queueEndpoint]: 'master.q.abc.euw1.cache.amazonaws.com:6379',
      [SCALE_OUTPUT_KEYS.queueReplicationGroupId]: `geusemaker-${NAME}`,
    }),
  );
  addHost(aws, scaleAiHostAutoScalingGroupName(NAME), 'i-ai');
  scale.services.set('n8n-main', { desired: hold ? 0 : 1 });
  scale.services.set('n8n-worker', { desired: hold ? 0 : 2, spot: true });
}

function writeProject(tier: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-migrate-'));
  fs.writeFileSync(
    path.join(dir, 'cdk.json'),
    `${JSON.stringify({ app: 'npx tsx bin/geusemaker.ts', context: { 'geusemaker:deployments': { [NAME]: { tier, instanceType: 't4g.large' }, other: { tier: 'gpu' } } } }, null, 2)}\n`,
  );
  return dir;
}

const savedTier = (): unknown => (JSON.parse(fs.readFileSync(path.join(setup.project, 'cdk.json'), 'utf8')) as { context: Record<string, Record<string, { tier?: string }>> }).context['geusemaker:deployments'][NAME].tier;

/** `npx cdk deploy <stack> ...`: creates or updates the stacks as CloudFormation would, or fails with the queued exit code. */
const runner: ProcessRunner = {
  run: async (command, args, options) => {
    setup.processes.push([command, ...args]);
    const exit = setup.deployExits.shift() ?? 0;
    options.output.write(`(fake cdk) ${args.join(' ')}\n`);
    if (exit !== 0) return { exitCode: exit };
    const stack = args[2];
    const hold = args.includes(`geusemaker:scale-hold=${NAME}`);
    if (stack === `GeuseScale-${NAME}`) addScale(setup.aws, setup.scale, setup.entry.url, hold);
    else if (stack === `GeuseDev-${NAME}`) {
      setup.aws.addStack(stackOf(stack, 'CREATE_COMPLETE', { [OUTPUT_KEYS.autoScalingGroupName]: `geusemaker-${NAME}`, [OUTPUT_KEYS.tier]: 'dev' }, { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'dev' }));
      addHost(setup.aws, `geusemaker-${NAME}`, 'i-new');
      if (setup.slowAgent) setup.aws.agents.set('i-new', 'Inactive');
    }
    return { exitCode: 0 };
  },
};

const marker = (script: string) => `@@gm-ops:${tokenOf(script)}`;
const kindOf = (script: string): string => {
  if (script.includes('backup.sh --tag')) return 'backup';
  if (script.includes('pg_dump --dbname')) return 'backup-from-rds';
  if (script.includes('pg_restore --dbname')) return 'restore-into-rds';
  if (script.includes('restore-backup.sh')) return 'restore-backup';
  if (script.includes('systemctl stop geusemaker.service')) return 'halt';
  if (script.includes('systemctl restart geusemaker.service')) return 'resume';
  if (script.includes(' probe')) return 'probe';
  return 'other';
};
/** SuspendProcesses / ResumeProcesses calls, as "suspend <group>" / "resume <group>". */
const groupCalls = (): string[] => [
  ...setup.aws.asg.commandCalls(SuspendProcessesCommand).map((c) => `suspend ${c.args[0].input.AutoScalingGroupName} ${c.args[0].input.ScalingProcesses?.join(',')}`),
  ...setup.aws.asg.commandCalls(ResumeProcessesCommand).map((c) => `resume ${c.args[0].input.AutoScalingGroupName}`),
];
const scriptsOn = (id: string): string[] => setup.aws.scripts.filter((s) => s.instanceIds.includes(id)).map((s) => kindOf(s.script));

/** Host answers as the migrate scripts print them; `override` replaces one kind's answer. */
function answers(override: Record<string, (m: string) => string> = {}): (script: string) => string {
  return (script) => {
    const m = marker(script);
    const kind = kindOf(script);
    if (override[kind]) return override[kind](m);
    switch (kind) {
      case 'backup':
        return `${m} exit 0\n${m} set ${SET_TO_SCALE}\n`;
      case 'backup-from-rds':
        return `${m} exit 0\n${m} set ${SET_TO_DEV}\n${m} note moved /mnt/efs/postgres.before-${SET_TO_DEV}\n`;
      case 'halt':
        return `${m} exit 0\n${m} fence released\n`;
      case 'probe':
        return aiHostAnswer(script);
      default:
        return `${m} exit 0\n`;
    }
  };
}

async function begin(from: 'dev' | 'scale'): Promise<void> {
  const aws = new FakeAws();
  const scale = new FakeScale({ cluster: CLUSTER });
  const entry = await httpServer('ok');
  setup = { aws, scale, entry, project: writeProject(from), processes: [], deleted: [], deployExits: [], hostAnswers: {} };
  aws.cfn.on(DeleteStackCommand).callsFake((input: { StackName?: string }) => {
    setup.deleted.push(input.StackName ?? '');
    aws.stacks.splice(0, aws.stacks.length, ...aws.stacks.filter((s) => s.StackName !== input.StackName));
    return {};
  });
  if (from === 'dev') {
    aws.addDeployment({ name: NAME, tier: 'dev', host: { id: 'i-src', spot: false } });
    setup.hostAnswers['i-src'] = answers();
    aws.hosts.set('i-src', (script) => setup.hostAnswers['i-src'](script));
  } else {
    aws.addStack(stackOf(`GeuseData-${NAME}`, 'CREATE_COMPLETE', { [OUTPUT_KEYS.fileSystemId]: 'fs-1' }, { [TAG_KEYS.deployment]: NAME, [TAG_KEYS.tier]: 'data' }));
    addScale(aws, scale, entry.url, false);
  }
  setup.hostAnswers['i-ai'] = answers();
  setup.hostAnswers['i-new'] = answers();
}

afterEach(async () => {
  setup.aws.restore();
  await setup.entry.close();
  fs.rmSync(setup.project, { recursive: true, force: true });
});

function migrate(...args: string[]): Promise<RunResult> {
  return runWith({ clients: { ...setup.aws.clients(), scale: setup.scale } as never, cwd: setup.project, processRunner: runner }, 'migrate', NAME, ...args);
}

/** The failure is one line: the last line of stderr, and the only one that is not a progress notice or cdk output. */
function failureLine(result: RunResult): string {
  const lines = result.stderr.trimEnd().split('\n');
  const last = lines[lines.length - 1];
  expect(last).toMatch(/^gm-ops: /);
  expect(lines.filter((l) => /^gm-ops: (no backup possible|target deploy failed|restore failed|functional check failed)/.test(l))).toEqual([last]);
  return last;
}

const deployArgs = (stack: string, tier: string, hold: boolean) => [
  'npx',
  'cdk',
  'deploy',
  stack,
  '-c',
  `name=${NAME}`,
  '-c',
  `tier=${tier}`,
  ...(hold ? ['-c', `geusemaker:scale-hold=${NAME}`] : []),
  '--require-approval',
  'never',
];

describe('migrate to scale', () => {
  beforeEach(() => begin('dev'));

  it('prints the plan and, without --yes or a terminal, does nothing (exit 1)', async () => {
    const result = await migrate('--to', 'scale');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Migrate ${NAME} from dev to scale`);
    expect(result.stdout).toMatch(/From\s+GeuseDev-my-stack \(host i-src\)/);
    expect(result.stdout).toMatch(/To\s+GeuseScale-my-stack \+ GeuseScaleData-my-stack/);
    expect(result.stdout).toMatch(/Encryption key\s+geusemaker\/my-stack\/n8n-encryption-key \(the same secret on both tiers\)/);
    expect(result.stdout).toMatch(/cdk\.json\s+.*\("tier": "dev" → "scale"\)/);
    const steps = result.stdout.split('\n').filter((l) => /^ {2}\d\. /.test(l));
    expect(steps).toHaveLength(7);
    expect(steps[0]).toMatch(/^ {2}1\. stop n8n on the dev host .* take a backup set there \(backup\.sh --tag migrate-to-scale/);
    expect(steps[1]).toMatch(/the single-writer fence released/);
    expect(steps[2]).toContain(`npx cdk deploy GeuseScale-${NAME} -c name=${NAME} -c tier=scale -c geusemaker:scale-hold=${NAME} --require-approval never`);
    expect(steps[3]).toMatch(/restore its dump into a new database on RDS/);
    expect(steps[4]).toContain(`npx cdk deploy GeuseScale-${NAME} -c name=${NAME} -c tier=scale --require-approval never`);
    expect(steps[5]).toMatch(/^ {2}6\. wait until the functional check passes/);
    expect(steps[6]).toBe(`  7. delete GeuseDev-${NAME} (its data stays on EFS, its set in the backups)`);
    expect(result.stdout).toContain('Nothing done: run again with --yes to migrate.');
    expect(setup.processes).toEqual([]);
    expect(setup.aws.scripts).toEqual([]);
    expect(savedTier()).toBe('dev');
  });

  it('--json prints the plan as one document', async () => {
    const result = await migrate('--to', 'scale', '--json');
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout) as { from: string; to: string; plan: string[]; done: boolean; blocked: null };
    expect(doc).toMatchObject({ from: 'dev', to: 'scale', done: false, blocked: null, sourceStack: `GeuseDev-${NAME}`, targetStack: `GeuseScale-${NAME}` });
    expect(doc.plan).toHaveLength(7);
  });

  it('--yes: backup, fence handed over, held deploy, restore into RDS, services started, functional check, old stack removed', async () => {
    const result = await migrate('--to', 'scale', '--yes');
    expect(result.stderr).not.toMatch(/gm-ops: (no backup|target deploy|restore failed|functional check failed)/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Migrated ${NAME} from dev to scale`);
    expect(result.stdout).toContain(`with backup set ${SET_TO_SCALE}; the functional check passed.`);
    expect(setup.processes).toEqual([deployArgs(`GeuseScale-${NAME}`, 'scale', true), deployArgs(`GeuseScale-${NAME}`, 'scale', false)]);
    expect(scriptsOn('i-src')).toEqual(['backup', 'halt']);
    expect(scriptsOn('i-ai')).toEqual(['restore-into-rds', 'probe']);
    expect(groupCalls()).toEqual([`suspend GeuseDev-${NAME}-Host-ASG Launch,ReplaceUnhealthy,HealthCheck,AZRebalance`]);
    expect(savedTier()).toBe('scale');
    expect(setup.deleted).toEqual([`GeuseDev-${NAME}`]);
    // The restore runs from the AI host with the database secret and the backup set's name, never a password.
    const restore = setup.aws.scripts.find((s) => kindOf(s.script) === 'restore-into-rds')!.script;
    expect(restore).toContain(SET_TO_SCALE);
    expect(restore).toContain(DB_SECRET);
    expect(restore).toContain('PGSSLMODE=verify-full PGSSLROOTCERT=/rds-ca/rds-ca-bundle.pem');
    expect(restore).toContain('--single-transaction');
    expect(setup.entry.requests).toBeGreaterThan(0);
    // cdk.json kept its other keys and style.
    const text = fs.readFileSync(path.join(setup.project, 'cdk.json'), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text).context['geusemaker:deployments']).toEqual({ [NAME]: { tier: 'scale', instanceType: 't4g.large' }, other: { tier: 'gpu' } });
  });

  it('no backup possible: one line, the host resumed, nothing deployed or removed', async () => {
    setup.hostAnswers['i-src'] = answers({ backup: (m) => `${m} exit 1\n${m} error 2025-01-15T12:00:01Z geusemaker[backup] ERROR backup: pg_dump failed: connection refused\n` });
    const result = await migrate('--to', 'scale', '--yes');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toBe(
      `gm-ops: no backup possible on i-src: backup: pg_dump failed: connection refused — nothing was removed from GeuseDev-${NAME}; its output is above; running migrate again is safe`,
    );
    expect(scriptsOn('i-src')).toEqual(['backup', 'resume']);
    expect(groupCalls()).toEqual([`suspend GeuseDev-${NAME}-Host-ASG Launch,ReplaceUnhealthy,HealthCheck,AZRebalance`, `resume GeuseDev-${NAME}-Host-ASG`]);
    expect(setup.processes).toEqual([]);
    expect(savedTier()).toBe('dev');
    expect(setup.deleted).toEqual([]);
  });

  it('target deploy failed: one line, cdk.json and the host put back, nothing removed', async () => {
    setup.deployExits.push(1);
    const result = await migrate('--to', 'scale', '--yes');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toMatch(/^gm-ops: target deploy failed: cdk deploy exited 1 — nothing was removed from GeuseDev-my-stack; GeuseScale-my-stack was left as CloudFormation left it;/);
    expect(setup.processes).toEqual([deployArgs(`GeuseScale-${NAME}`, 'scale', true)]);
    expect(scriptsOn('i-src')).toEqual(['backup', 'halt', 'resume']);
    expect(savedTier()).toBe('dev');
    expect(setup.deleted).toEqual([]);
  });

  it('restore failed: one line; the AI host lets go of the fence, the source host restarts, nothing removed', async () => {
    setup.hostAnswers['i-ai'] = answers({
      'restore-into-rds': (m) => `${m} exit 1\n${m} error 2025-01-15T12:10:00Z geusemaker[migrate-restore] ERROR migrate: pg_restore into RDS failed: permission denied for database n8n\n`,
    });
    const result = await migrate('--to', 'scale', '--yes');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toMatch(/^gm-ops: restore failed: migrate: pg_restore into RDS failed: permission denied for database n8n — nothing was removed from GeuseDev-my-stack;/);
    expect(scriptsOn('i-ai')).toEqual(['restore-into-rds', 'halt']);
    expect(scriptsOn('i-src')).toEqual(['backup', 'halt', 'resume']);
    expect(setup.processes).toHaveLength(1);
    expect(savedTier()).toBe('dev');
    expect(setup.deleted).toEqual([]);
  });

  it('functional check failed: after --timeout, one line naming what does not work; services held, source back, nothing removed', async () => {
    setup.entry.behaviour = 'fail';
    const result = await migrate('--to', 'scale', '--yes', '--timeout', '2m');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toMatch(
      /^gm-ops: functional check failed on the scale tier after 2m00s: entry: http:\/\/127\.0\.0\.1:\d+\/healthz\/readiness: HTTP 503.* — nothing was removed from GeuseDev-my-stack;/,
    );
    expect(setup.processes).toEqual([
      deployArgs(`GeuseScale-${NAME}`, 'scale', true),
      deployArgs(`GeuseScale-${NAME}`, 'scale', false),
      deployArgs(`GeuseScale-${NAME}`, 'scale', true),
    ]);
    expect(scriptsOn('i-ai').filter((k) => k !== 'probe')).toEqual(['restore-into-rds', 'halt']);
    expect(scriptsOn('i-src')).toEqual(['backup', 'halt', 'resume']);
    expect(savedTier()).toBe('dev');
    expect(setup.deleted).toEqual([]);
  });

  it('a source host that cannot be reached: the plan says why and nothing is done', async () => {
    setup.aws.agents.set('i-src', 'ConnectionLost');
    const result = await migrate('--to', 'scale', '--yes');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/Cannot migrate now: no backup possible: the host of GeuseDev-my-stack is not usable \(i-src is not reachable through SSM/);
    expect(result.stderr.trimEnd().split('\n').pop()).toMatch(/^gm-ops: cannot migrate my-stack: no backup possible: .* — nothing was done$/);
    expect(setup.processes).toEqual([]);
    expect(setup.aws.scripts).toEqual([]);
  });

  it('outside the project: the plan is printed, nothing done', async () => {
    const result = await runWith({ clients: { ...setup.aws.clients(), scale: setup.scale } as never, cwd: os.tmpdir(), processRunner: runner }, 'migrate', NAME, '--to', 'scale', '--yes');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/gm-ops: cannot migrate my-stack: not inside the GeuseMaker project/);
    expect(setup.processes).toEqual([]);
  });

  it('already on the tier: nothing to do (exit 0)', async () => {
    const result = await migrate('--to', 'dev');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${NAME} already runs on the dev tier (GeuseDev-${NAME}): nothing to migrate.\n`);
  });

  it('an unknown deployment: one line', async () => {
    const result = await runWith({ clients: { ...setup.aws.clients(), scale: setup.scale } as never, cwd: setup.project, processRunner: runner }, 'migrate', 'nope', '--to', 'scale');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('gm-ops: deployment "nope" not found in eu-west-1 — run `gm-ops list` to see the deployments in this region (or pass --region)\n');
  });

  it('--help shows the usage; --to is required (exit 2, one line)', async () => {
    const help = await runWith({}, 'migrate', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ gm-ops migrate');
    expect(help.stdout).toContain('Examples');
    const missing = await migrate();
    expect(missing.code).toBe(2);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(missing.stderr).toBe('gm-ops: missing --to <tier> (dev, automation, gpu, scale) — see `gm-ops migrate --help`\n');
  });

  it('an unknown tier is a usage error (exit 2)', async () => {
    const result = await migrate('--to', 'huge');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/expected one of dev, automation, gpu, scale \(got "huge"\)/);
  });
});

describe('migrate back to a single host', () => {
  beforeEach(() => begin('scale'));

  it('prints the plan: services held, backup dumped from RDS, the single-host tier deployed, restore-backup.sh', async () => {
    const result = await migrate('--to', 'dev');
    expect(result.code).toBe(1);
    const steps = result.stdout.split('\n').filter((l) => /^ {2}\d\. /.test(l));
    expect(steps).toHaveLength(6);
    expect(steps[0]).toContain(`npx cdk deploy GeuseScale-${NAME} -c name=${NAME} -c tier=scale -c geusemaker:scale-hold=${NAME} --require-approval never`);
    expect(steps[1]).toMatch(/a backup set tagged migrate-to-dev, its dump taken from RDS/);
    expect(steps[3]).toContain(`npx cdk deploy GeuseDev-${NAME} -c name=${NAME} -c tier=dev --require-approval never`);
    expect(steps[4]).toMatch(/restore-backup\.sh with the set/);
    expect(steps[5]).toMatch(/delete GeuseScale-my-stack \(GeuseScaleData-my-stack, with the RDS database and Valkey, is kept/);
  });

  it('--yes: ends with the functional check on the new host, then removes GeuseScale and keeps the database stack', async () => {
    const result = await migrate('--to', 'dev', '--yes');
    expect(result.stderr).not.toMatch(/gm-ops: (no backup|target deploy|restore failed|functional check failed)/);
    expect(result.code).toBe(0);
    expect(setup.processes).toEqual([deployArgs(`GeuseScale-${NAME}`, 'scale', true), deployArgs(`GeuseDev-${NAME}`, 'dev', false)]);
    expect(scriptsOn('i-ai')).toEqual(['backup-from-rds', 'halt']);
    expect(scriptsOn('i-new')).toEqual(['restore-backup']);
    expect(groupCalls()).toEqual([`suspend geusemaker-${NAME}-ai Launch,ReplaceUnhealthy,HealthCheck,AZRebalance`]);
    expect(setup.aws.scripts.find((s) => kindOf(s.script) === 'restore-backup')!.script).toContain(`bash -c 'bash /opt/geusemaker/host/restore-backup.sh '\\''${SET_TO_DEV}'\\'''`);
    expect(savedTier()).toBe('dev');
    expect(setup.deleted).toEqual([`GeuseScale-${NAME}`]);
    expect(result.stdout).toContain(`note: the old single-host database directory was moved aside to /mnt/efs/postgres.before-${SET_TO_DEV}`);
    expect(result.stdout).toContain(`note: GeuseScaleData-${NAME} (RDS and Valkey) is kept and still billed`);
  });

  it('waits for the new host\u2019s SSM agent before restoring on it', async () => {
    setup.slowAgent = true;
    const harness = new (await import('./helpers/harness')).Harness({
      clients: { ...setup.aws.clients(), scale: setup.scale } as never,
      cwd: setup.project,
      processRunner: runner,
      onSleep: (ms) => {
        if (ms === 15_000) setup.aws.agents.set('i-new', 'Online');
      },
    });
    const result = await harness.run('migrate', NAME, '--to', 'dev', '--yes');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('gm-ops: waiting for the new host (i-new is not reachable through SSM');
    expect(scriptsOn('i-new')).toEqual(['restore-backup']);
  });

  it('no backup possible: the services start again, nothing else changed', async () => {
    setup.hostAnswers['i-ai'] = answers({ 'backup-from-rds': (m) => `${m} exit 1\n${m} error x geusemaker[migrate-backup] ERROR backup: pg_dump from RDS failed: SSL SYSCALL error\n` });
    const result = await migrate('--to', 'dev', '--yes');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toMatch(/^gm-ops: no backup possible on the AI host: backup: pg_dump from RDS failed: SSL SYSCALL error — nothing was removed from GeuseScale-my-stack;/);
    expect(setup.processes).toEqual([deployArgs(`GeuseScale-${NAME}`, 'scale', true), deployArgs(`GeuseScale-${NAME}`, 'scale', false)]);
    expect(savedTier()).toBe('scale');
    expect(setup.deleted).toEqual([]);
  });

  it('functional check failed on the new host: one line; the new host lets go, the AI host and services come back', async () => {
    setup.hostAnswers['i-new'] = answers({
      'restore-backup': (m) => `${m} exit 1\n${m} error 2025-01-15T12:30:00Z geusemaker[restore-backup] ERROR restore: the functional check failed after restoring ${SET_TO_DEV}\n`,
    });
    const result = await migrate('--to', 'dev', '--yes');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toMatch(new RegExp(`^gm-ops: functional check failed on the dev tier: restore: the functional check failed after restoring ${SET_TO_DEV} — nothing was removed from GeuseScale-my-stack;`));
    expect(scriptsOn('i-new')).toEqual(['restore-backup', 'halt']);
    expect(scriptsOn('i-ai')).toEqual(['backup-from-rds', 'halt', 'resume']);
    expect(groupCalls()).toEqual([`suspend geusemaker-${NAME}-ai Launch,ReplaceUnhealthy,HealthCheck,AZRebalance`, `resume geusemaker-${NAME}-ai`]);
    expect(setup.processes).toEqual([deployArgs(`GeuseScale-${NAME}`, 'scale', true), deployArgs(`GeuseDev-${NAME}`, 'dev', false), deployArgs(`GeuseScale-${NAME}`, 'scale', false)]);
    expect(savedTier()).toBe('scale');
    expect(setup.deleted).toEqual([]);
  });

  it('restore failed on the new host: one line', async () => {
    setup.hostAnswers['i-new'] = answers({ 'restore-backup': (m) => `${m} exit 2\n${m} error x geusemaker[restore-backup] ERROR restore: backup set ${SET_TO_DEV} is damaged: postgres.dump does not match its sha256 in manifest.json; nothing was touched\n` });
    const result = await migrate('--to', 'dev', '--yes');
    expect(result.code).toBe(1);
    expect(failureLine(result)).toMatch(/^gm-ops: restore failed: restore: backup set .* is damaged: postgres\.dump does not match its sha256/);
    expect(setup.deleted).toEqual([]);
  });
});
