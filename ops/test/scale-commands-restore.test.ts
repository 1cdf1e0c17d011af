/**
 * `gm-ops restore` of a scale deployment through the entry point: the host it repairs is the AI host (group
 * `geusemaker-<name>-ai`, healthy when Ollama, Qdrant and Crawl4AI are), a redeploy deploys `GeuseScaleData-<name>` and
 * `GeuseScale-<name>` and never starts n8n on a new, empty database, and `--to` restores the AI host's vectors only.
 * CloudFormation, auto scaling, EC2 and SSM are the repository's fakes; the AI host answers as docker/host does on
 * GM_ROLE=ai-services (no n8n, no PostgreSQL).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { ProcessRunner } from '../src/context';
import { vectorsRestoreScript } from '../src/backup/restore-to';
import { FakeAws } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf } from './helpers/fake-aws-data';
import { addScaleDeployment, aiHostAnswer, type ScaleDeploymentOptions } from './helpers/fake-scale';
import { runWith, type HarnessOptions } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

const AI_HOST = 'i-0a1b2c3d4e5f60001';
const NEW_HOST = 'i-0a1b2c3d4e5f60002';
const GROUP = 'geusemaker-big-ai';
const SCALE_FS = 'fs-0aa11bb22cc33dd44';

let aws: FakeAws;
let data: FakeAwsData;
let project: string;
beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-scale-restore-'));
  fs.writeFileSync(path.join(project, 'cdk.json'), `${JSON.stringify({ app: 'npx tsx bin/geusemaker.ts', context: { 'geusemaker:deployments': { big: { tier: 'scale' } } } }, null, 2)}\n`);
});
afterEach(() => {
  data.restore();
  aws.restore();
  fs.rmSync(project, { recursive: true, force: true });
});

/** Deployment big: its stacks, and its AI host answering healthy (`options` as addScaleDeployment's). */
const deploy = (options: ScaleDeploymentOptions = {}) => addScaleDeployment(aws, { aiHost: AI_HOST, fileSystemId: SCALE_FS, databaseId: 'geusemaker-big-db', ...options });
const restore = (options: Partial<HarnessOptions>, ...args: string[]) => runWith({ clients: aws.clients(), cwd: project, ...options }, 'restore', 'big', ...args);

/** A runner that records the commands and succeeds (the deploy's own output is not under test here). */
function recordingRunner(onRun: () => void = () => {}): ProcessRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    run: async (command, args) => {
      calls.push(`${command} ${args.join(' ')}`);
      onRun();
      return { exitCode: 0 };
    },
  };
}

/** The AI host's group launches `id`, which becomes InService and answers healthy after the first wait. */
function launches(id: string): { launch: () => void; ready: () => void } {
  return {
    launch: () => {
      aws.groups.get(GROUP)!.Instances = [{ InstanceId: id, LifecycleState: 'Pending', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1b', InstanceType: 'm7g.large', ProtectedFromScaleIn: false }];
      aws.groups.get(GROUP)!.DesiredCapacity = 1;
      aws.instances.set(id, { InstanceId: id, State: { Name: 'pending' }, InstanceType: 'm7g.large' as never, Placement: { AvailabilityZone: 'eu-west-1b' }, LaunchTime: new Date('2025-01-15T12:00:05Z') });
    },
    ready: () => {
      const instance = aws.groups.get(GROUP)?.Instances?.find((i) => i.InstanceId === id);
      if (!instance) return;
      instance.LifecycleState = 'InService';
      aws.instances.get(id)!.State = { Name: 'running' };
      aws.agents.set(id, 'Online');
      aws.hosts.set(id, (script) => aiHostAnswer(script));
    },
  };
}

describe('restore of a scale deployment whose stacks exist: the AI host', () => {
  it('AI services healthy, n8n and PostgreSQL absent from the host: nothing to restore, nothing terminated', async () => {
    deploy();
    const { code, stdout, stderr } = await restore({}, '--yes');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Compute stack\s+GeuseScale-big CREATE_COMPLETE/);
    expect(stdout).toMatch(/Database stack\s+GeuseScaleData-big CREATE_COMPLETE \(n8n's database, RDS instance geusemaker-big-db: kept as it is, with its automated backups\)/);
    expect(stdout).toContain(`Nothing to restore: the AI services of big (ollama, qdrant, crawl4ai) are healthy on ${AI_HOST}; n8n runs on ECS, which replaces its own failed tasks (\`gm-ops health big\` checks them).`);
    expect(stdout).not.toContain('Not healthy');
    expect(data.terminated).toEqual([]);
    expect(aws.scripts.map((s) => s.instanceIds)).toEqual([[AI_HOST]]);
  });

  it('Qdrant down for longer than the boot grace: the plan replaces the AI host through geusemaker-<name>-ai, and waits for the AI services only', async () => {
    deploy();
    aws.hosts.set(AI_HOST, (script) => aiHostAnswer(script, { down: ['qdrant'] }));
    const plan = await restore({});
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/Not healthy\s+qdrant: /);
    expect(plan.stdout).not.toMatch(/Not healthy.*(n8n|postgres)/);
    expect(plan.stdout).toContain(`Found: AI host ${AI_HOST} is running but not healthy (qdrant).`);
    expect(plan.stdout).toContain(`  1. Terminate ${AI_HOST} through ${GROUP} (TerminateInstanceInAutoScalingGroup, desired capacity stays 1): the group launches a replacement`);
    expect(plan.stdout).toContain('  3. Wait until the AI services (ollama, qdrant, crawl4ai) are healthy through SSM');
    expect(data.terminated).toEqual([]);

    const { launch, ready } = launches(NEW_HOST);
    data.onTerminate = launch;
    const { code, stdout, stderr } = await restore({ onSleep: (ms) => (ms === 15_000 ? ready() : undefined) }, '--yes');
    expect(code).toBe(0);
    expect(data.terminated).toEqual([{ instanceId: AI_HOST, decrement: false }]);
    expect(stderr).toContain(`gm-ops: terminating ${AI_HOST}; ${GROUP} launches its replacement`);
    expect(stdout).toMatch(new RegExp(`Restored: the AI services of big are healthy on ${NEW_HOST}, \\d+s after the restore began; n8n runs on ECS: \`gm-ops health big\` checks it\\.`));
  });

  it('a stopped deployment (the AI host group at 0): one line pointing to gm-ops start, the group left as it is', async () => {
    deploy({ aiHost: null, aiHostDesired: 0 });
    const { code, stdout, stderr } = await restore({}, '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`gm-ops: big is stopped (${GROUP} is at 0 hosts): restore replaces a failed AI host, it does not start a stopped deployment — \`gm-ops start big\` brings back the AI host and the n8n services\n`);
    expect(data.desiredCapacity).toEqual([]);
    expect(aws.scripts).toEqual([]);
  });

  it('the database stack stuck in UPDATE_ROLLBACK_FAILED: refused in one line before the host is touched', async () => {
    deploy({ scaleData: 'UPDATE_ROLLBACK_FAILED' });
    const { code, stderr } = await restore({}, '--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^gm-ops: GeuseScaleData-big is UPDATE_ROLLBACK_FAILED: .*restore cannot repair a stack in this state/);
    expect(aws.scripts).toEqual([]);
    expect(data.terminated).toEqual([]);
  });
});

describe('restore of a scale deployment whose compute stack is gone: GeuseScaleData + GeuseScale, never GeuseDev', () => {
  beforeEach(() => {
    data.stackResources.set('GeuseData-big', [
      { LogicalResourceId: 'FileSystem', ResourceType: 'AWS::EFS::FileSystem', PhysicalResourceId: SCALE_FS, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date('2025-01-14T10:00:00Z') },
    ]);
    data.addDeletedStack('GeuseScale-big', '2025-01-15T10:00:00Z');
  });

  it('--yes deploys both scale stacks with the scale tier, then waits for the new AI host', async () => {
    deploy({ compute: null });
    const { launch, ready } = launches(NEW_HOST);
    const runner = recordingRunner(() => {
      // What cdk deploy leaves: the compute stack with its AI host group launching a host.
      deploy({ data: null, scaleData: null, aiHost: null, aiHostDesired: 1 });
      launch();
    });
    const { code, stdout, stderr } = await restore({ processRunner: runner, onSleep: (ms) => (ms === 15_000 ? ready() : undefined) }, '--yes');
    expect(stderr).not.toContain('GeuseDev');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Tier\s+scale \(from the last compute stack, GeuseScale-big, deleted 2025-01-15 10:00:00Z\)/);
    expect(stdout).toContain('  1. Deploy GeuseScaleData-big and GeuseScale-big: npx cdk deploy GeuseScaleData-big GeuseScale-big -c name=big -c tier=scale --require-approval never');
    expect(runner.calls).toEqual(['npx cdk deploy GeuseScaleData-big GeuseScale-big -c name=big -c tier=scale --require-approval never']);
    expect(stdout).toMatch(new RegExp(`Restored: the AI services of big are healthy on ${NEW_HOST}`));
  });

  it('GeuseScaleData is gone too: refused in one line (a deploy would give n8n a new, empty database), nothing run', async () => {
    deploy({ compute: null, scaleData: null });
    const runner = recordingRunner();
    const { code, stdout, stderr } = await restore({ processRunner: runner }, '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('gm-ops: GeuseScaleData-big does not exist: deploying the scale tier now would give n8n a new, empty database on RDS');
    expect(stderr).toContain('if it was deleted, its final snapshot remains (aws rds describe-db-snapshots --region eu-west-1)');
    expect(runner.calls).toEqual([]);
  });

  it('--tier dev after a scale compute stack: a usage error naming gm-ops migrate, nothing run', async () => {
    deploy({ compute: null });
    const runner = recordingRunner();
    const { code, stderr } = await restore({ processRunner: runner }, '--tier', 'dev', '--yes');
    expect(code).toBe(2);
    expect(stderr).toContain("gm-ops: --tier dev: the last compute stack of \"big\" was GeuseScale-big, and n8n's database is on RDS (GeuseScaleData-big)");
    expect(stderr).toContain('restore it as scale (drop --tier), then move it with `gm-ops migrate big --to dev`');
    expect(runner.calls).toEqual([]);
  });

  it('the data stack gone too, its file system and secrets retained: GeuseData, GeuseScaleData and GeuseScale rebuilt together', async () => {
    deploy({ compute: null, data: null });
    data.addDeletedStack('GeuseData-big', '2025-01-15T10:01:00Z', [
      { LogicalResourceId: 'FileSystem', ResourceType: 'AWS::EFS::FileSystem', PhysicalResourceId: SCALE_FS, ResourceStatus: 'DELETE_SKIPPED', LastUpdatedTimestamp: new Date('2025-01-15T10:01:00Z') },
    ]);
    data.fileSystems.push(fileSystemOf(SCALE_FS, { deployment: 'big' }));
    data.addSecrets('big');
    const { code, stdout } = await restore({}, '--json');
    expect(code).toBe(1);
    const plan = JSON.parse(stdout);
    expect(plan).toMatchObject({ situation: 'rebuild-data', retainedFileSystemId: SCALE_FS, command: 'npx cdk deploy GeuseData-big GeuseScaleData-big GeuseScale-big -c name=big -c tier=scale --require-approval never' });
    expect(plan.steps).toContain(`Rebuild GeuseData-big, GeuseScaleData-big and GeuseScale-big around ${SCALE_FS} and the retained secrets: ${plan.command}`);
  });
});

describe('restore --to of a scale deployment: the AI host\'s vectors', () => {
  const manifest = (name: string, created: string, files: string[]) =>
    JSON.stringify({ format: 1, name, tag: '', created, runtimeVersion: '2026.11.1', files: files.map((file) => ({ name: file, bytes: 100, sha256: 'a'.repeat(64) })) });
  const SETS = [
    // Written before the move to scale: a whole set, its vectors restorable too.
    manifest('20250110T030000Z-migrate-to-scale', '2025-01-10T03:05:00Z', ['postgres.dump', 'qdrant.snapshot', 'n8n.tar.gz', 'data-version.env']),
    manifest('20250114T030000Z-vectors', '2025-01-14T03:00:20Z', ['qdrant.snapshot', 'data-version.env']),
    // Qdrant held nothing that night: nothing to restore from it.
    manifest('20250115T030000Z-vectors', '2025-01-15T03:00:20Z', ['data-version.env']),
  ];

  /** The AI host lists SETS and answers the restore with `exit`. */
  function aiHost(exit = 0, errors: string[] = []): void {
    aws.hosts.set(AI_HOST, (script) => {
      const marker = `@@gm-ops:${tokenOf(script)}`;
      if (script.includes('gm_restore_place_qdrant')) return `${marker} exit ${exit}\n${errors.map((e) => `${marker} error ${e}`).join('\n')}\n`;
      return `${SETS.map((set) => `${marker} set ${set}`).join('\n')}\n${marker} listed\n`;
    });
  }
  const restores = () => aws.scripts.filter((s) => s.script.includes('gm_restore_place_qdrant') || s.script.includes('restore-backup.sh'));

  it('--to a time: the newest set holding a Qdrant snapshot; the plan says only the vectors go back and how RDS keeps the database', async () => {
    deploy();
    aiHost();
    const plan = await restore({}, '--to', '2025-01-15T12:00:00Z');
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('Restore big to backup set 20250114T030000Z-vectors (vectors only)');
    expect(plan.stdout).toMatch(new RegExp(`AI host\\s+${AI_HOST}`));
    expect(plan.stdout).toContain("  3. stop Qdrant (Ollama and Crawl4AI keep running); empty its local storage and make the set's snapshot the newest on the file system");
    expect(plan.stdout).toContain("n8n's database is on RDS instance geusemaker-big-db, not on the AI host: RDS automated backups allow a point-in-time restore within their retention period");
    expect(plan.stdout).toContain('--to restores only the vectors; the database is not touched.');
    expect(restores()).toEqual([]);

    const { code, stdout, stderr } = await restore({}, '--to', '2025-01-15T12:00:00Z', '--yes');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(restores()).toHaveLength(1);
    const [run] = restores();
    expect(run.instanceIds).toEqual([AI_HOST]);
    expect(run.script).not.toContain('host/restore-backup.sh');
    expect(run.script).toContain("set='\\''20250114T030000Z-vectors'\\''");
    expect(stdout).toMatch(/Restored the vectors of big to 20250114T030000Z-vectors in \d+ s; the functional check passed\./);
  });

  it('a named set without a Qdrant snapshot: one line naming what it holds, nothing restored', async () => {
    deploy();
    aiHost();
    const { code, stderr } = await restore({}, '--to', '20250115T030000Z-vectors', '--yes');
    expect(code).toBe(1);
    expect(stderr).toBe("gm-ops: backup set 20250115T030000Z-vectors holds no Qdrant's vectors (qdrant.snapshot), which this restore needs (it holds data-version.env) — choose one that does, e.g. 20250114T030000Z-vectors (see `gm-ops backups big`)\n");
    expect(restores()).toEqual([]);
  });

  it('the host\'s failure comes back in one line', async () => {
    deploy();
    aiHost(1, ['2025-01-15T12:00:09Z geusemaker[restore-vectors] ERROR restore: the functional check failed after restoring 20250114T030000Z-vectors']);
    const { code, stderr } = await restore({}, '--to', '20250114T030000Z-vectors', '--yes');
    expect(code).toBe(1);
    expect(stderr).toBe("gm-ops: the restore of big's vectors to 20250114T030000Z-vectors failed: restore: the functional check failed after restoring 20250114T030000Z-vectors\n");
  });

  it('a host tier back from scale: --to a time never picks an AI host\'s vector set (no database in it)', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-0web' } });
    aws.hosts.set('i-0web', (script) => {
      const marker = `@@gm-ops:${tokenOf(script)}`;
      if (script.includes('restore-backup.sh')) return `${marker} exit 0\n`;
      return `${SETS.map((set) => `${marker} set ${set}`).join('\n')}\n${marker} listed\n`;
    });
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'restore', 'web', '--to', '2025-01-15T12:00:00Z', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain('Restore web to backup set 20250110T030000Z-migrate-to-scale');
    expect(restores().map((s) => s.script)).toEqual([expect.stringContaining("restore-backup.sh '20250110T030000Z-migrate-to-scale'")]);
  });
});

describe('the vectors restore script, run under bash with a stub host library', () => {
  let dir: string;
  let calls: string;
  const LIB = String.raw`
gm_log() { printf '2025-01-15T12:00:00Z geusemaker[%s] %s %s\n' "$GM_SCRIPT" "$1" "${'$'}{*:2}" >&2; }
gm_info() { gm_log INFO "$@"; }
gm_error() { gm_log ERROR "$@"; }
gm_die() { local code=$1; shift; gm_error "$@"; exit "$code"; }
gm_log_lines() { local l; while IFS= read -r l; do gm_log "$1" "$2 $l"; done; }
gm_init() { GM_SCRIPT=$1; GM_BACKUP_DIR=$T/efs/backups; GM_STOP_TIMEOUT=30; GM_ROLE=${'$'}{ROLE:-ai-services}; echo "init $1" >>"$CALLS"; }
gm_validate_settings() { :; }
gm_ai_role() { [[ "$GM_ROLE" == ai-services ]]; }
gm_require_secrets() { :; }
gm_export_compose_env() { :; }
gm_compose() { echo "compose $*" >>"$CALLS"; }
gm_fence_acquire() { echo fence >>"$CALLS"; }
`;
  const BACKUP_LIB = String.raw`
gm_backup_verify() { echo "verify ${'$'}{1##*/} ${'$'}{*:2}" >>"$CALLS"; [[ -z "${'$'}{DAMAGED:-}" ]] || { printf 'qdrant.snapshot does not match its sha256 in manifest.json'; return 1; }; }
gm_restore_place_qdrant() { echo "place ${'$'}{1##*/}" >>"$CALLS"; }
`;
  const SET = '20250114T030000Z-vectors';

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-vectors-restore-'));
    calls = path.join(dir, 'calls');
    fs.mkdirSync(path.join(dir, 'host'));
    fs.mkdirSync(path.join(dir, 'efs', 'backups', SET), { recursive: true });
    fs.writeFileSync(path.join(dir, 'efs', 'backups', SET, 'manifest.json'), '{}');
    fs.writeFileSync(path.join(dir, 'host', 'lib.sh'), LIB);
    fs.writeFileSync(path.join(dir, 'host', 'backup-lib.sh'), BACKUP_LIB);
    fs.writeFileSync(path.join(dir, 'host', 'start.sh'), 'echo start.sh >>"$CALLS"\n');
    fs.writeFileSync(path.join(dir, 'host', 'functional-check.sh'), 'echo functional-check.sh >>"$CALLS"; [[ -z "${CHECK_FAILS:-}" ]] || { echo "qdrant FAIL search returned nothing"; exit 1; }\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The script as gm-ops sends it, with the runtime's host directory pointed at the stubs. */
  function run(set: string, env: Record<string, string> = {}): { stdout: string; calls: string[] } {
    const script = vectorsRestoreScript(set)('tok123456').replaceAll('/opt/geusemaker/host', path.join(dir, 'host'));
    const stdout = execFileSync('bash', ['-c', script], { env: { PATH: process.env.PATH, HOME: dir, T: dir, CALLS: calls, ...env }, encoding: 'utf8' });
    return { stdout, calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [] };
  }

  it('checks the set (requiring its Qdrant snapshot), takes the fence, stops Qdrant alone, places the snapshot, starts, checks: exit 0', () => {
    const { stdout, calls: steps } = run(SET);
    expect(stdout).toBe('@@gm-ops:tok123456 exit 0\n');
    expect(steps).toEqual(['init restore-vectors', `verify ${SET} qdrant.snapshot`, 'fence', 'compose stop --timeout 30 qdrant', `place ${SET}`, 'start.sh', 'functional-check.sh']);
  });

  it('a damaged set: exit 2 with the reason, nothing stopped or placed', () => {
    const { stdout, calls: steps } = run(SET, { DAMAGED: '1' });
    expect(stdout).toMatch(/^@@gm-ops:tok123456 exit 2\n@@gm-ops:tok123456 error .* ERROR restore: backup set 20250114T030000Z-vectors is damaged: qdrant\.snapshot does not match its sha256 in manifest\.json; nothing was touched\n$/);
    expect(steps).toEqual(['init restore-vectors', `verify ${SET} qdrant.snapshot`]);
  });

  it('a failed functional check: exit 1 with its FAIL line', () => {
    const { stdout } = run(SET, { CHECK_FAILS: '1' });
    expect(stdout).toContain('@@gm-ops:tok123456 exit 1\n');
    expect(stdout).toContain('@@gm-ops:tok123456 error qdrant FAIL search returned nothing\n');
    expect(stdout).toMatch(/error .* ERROR restore: the functional check failed after restoring 20250114T030000Z-vectors/);
  });

  it('not the AI host, or a set that does not exist: exit 2, nothing touched', () => {
    expect(run(SET, { ROLE: 'single-host' }).stdout).toContain("ERROR restore: this host is not the scale tier's AI host (GM_ROLE=single-host)");
    const missing = run('20250101T000000Z-vectors');
    expect(missing.stdout).toMatch(/^@@gm-ops:tok123456 exit 2\n.*ERROR restore: no backup set '20250101T000000Z-vectors'/);
    expect(missing.calls.filter((c) => c.startsWith('compose') || c.startsWith('place'))).toEqual([]);
  });
});

it('the stacks are read by name (no listing of the whole region)', async () => {
  deploy();
  await restore({});
  const asked = aws.cfn.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input.StackName);
  expect(asked).toEqual(expect.arrayContaining(['GeuseScale-big', 'GeuseScaleData-big', 'GeuseData-big']));
  expect(asked).not.toContain(undefined);
});
