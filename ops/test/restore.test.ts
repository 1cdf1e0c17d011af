/**
 * `gm-ops restore`: the three situations it repairs (host dead or unhealthy, compute stack deleted,
 * data stack deleted with its file system and secrets retained), the plan it prints first, the
 * confirmation it needs, and the failures it explains instead of guessing.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TIERS, computeStackName } from '../src/contract';
import type { ProcessRunner, Prompt } from '../src/context';
import { FakeAws, stackOf } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf, healthyProbeLines } from './helpers/fake-aws-data';
import { type HarnessOptions, runWith } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';

const FS_ID = 'fs-0123456789abcdef0';
const OTHER_FS = 'fs-0fedcba9876543210';

let aws: FakeAws;
let data: FakeAwsData;
let project: string;
beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  // A GeuseMaker checkout: cdk.json with the geusemaker app; gm-ops runs in a subdirectory of it.
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-project-'));
  fs.writeFileSync(
    path.join(project, 'cdk.json'),
    `${JSON.stringify({ app: 'npx tsx bin/geusemaker.ts', context: { 'geusemaker:deployments': { 'my-stack': { tier: 'dev' }, web: { tier: 'dev' } } } }, null, 2)}\n`,
  );
  fs.mkdirSync(path.join(project, 'ops'));
});
afterEach(() => {
  data.restore();
  aws.restore();
  fs.rmSync(project, { recursive: true, force: true });
});

/** The host answers the health probes: every service up, or these down. */
function hostAnswers(instanceId: string, down: string[] = []): void {
  aws.agents.set(instanceId, 'Online');
  aws.hosts.set(instanceId, (script) => `${healthyProbeLines(tokenOf(script), down)}\n${containerLines(tokenOf(script), ALL_RUNNING)}`);
}

/** The group replaces `old` by `next`: pending first, running and healthy after the first wait. */
function groupReplaces(group: string, next: string, type = 'm6i.large'): { launch: () => void } {
  const launch = () => {
    aws.groups.get(group)!.Instances = [{ InstanceId: next, LifecycleState: 'Pending', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1a', InstanceType: type, ProtectedFromScaleIn: false }];
    aws.instances.set(next, { InstanceId: next, State: { Name: 'pending' }, InstanceType: type as never, Placement: { AvailabilityZone: 'eu-west-1a' }, LaunchTime: new Date('2025-01-15T12:00:05Z') });
  };
  return { launch };
}

function becomeHealthy(group: string, id: string): void {
  const instance = aws.groups.get(group)!.Instances!.find((i) => i.InstanceId === id);
  if (!instance || instance.LifecycleState === 'InService') return;
  instance.LifecycleState = 'InService';
  aws.instances.get(id)!.State = { Name: 'running' };
  hostAnswers(id);
}

const recordingRunner = (onRun: () => void, exitCode = 0): ProcessRunner & { calls: { command: string; args: readonly string[]; cwd: string }[] } => {
  const calls: { command: string; args: readonly string[]; cwd: string }[] = [];
  return {
    calls,
    run: async (command, args, options) => {
      calls.push({ command, args, cwd: options.cwd });
      options.output.write('GeuseData-web: deploying... [1/2]\n');
      if (exitCode === 0) onRun();
      return { exitCode };
    },
  };
};

const restore = (options: Partial<HarnessOptions>, ...args: string[]) => runWith({ clients: aws.clients(), ...options }, 'restore', ...args);

describe('restore: nothing to restore', () => {
  it('a healthy deployment: "nothing to restore", exit 0, no action; twice the same', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-0abc' } });
    hostAnswers('i-0abc');
    for (let i = 0; i < 2; i += 1) {
      const { code, stdout, stderr } = await restore({}, 'web', '--yes');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Restore web \(eu-west-1\)/);
      expect(stdout).toMatch(/Host\s+i-0abc running \(InService, Healthy\), launched 2025-01-15 09:00:00Z/);
      expect(stdout).toContain('Nothing to restore: every service of web is healthy on i-0abc.');
    }
    expect(data.terminated).toEqual([]);
  });
});

describe('restore: the host is dead or unhealthy, the stacks exist', () => {
  const GROUP = 'GeuseDev-web-Host-ASG';

  it('prints the plan and, without --yes and without a terminal, does nothing: exit 1 with the hint', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old', state: 'stopped' } });
    const { code, stdout, stderr } = await restore({}, 'web');
    expect(code).toBe(1);
    expect(stdout).toBe(
      [
        'Restore web (eu-west-1)',
        '',
        '  Data stack     GeuseData-web CREATE_COMPLETE',
        '  Compute stack  GeuseDev-web CREATE_COMPLETE',
        '  File system    fs-web (retained, untouched)',
        '  Host           i-old stopped (InService, Healthy), launched 2025-01-15 09:00:00Z',
        '',
        'Found: host i-old is stopped.',
        '',
        'Plan:',
        `  1. Terminate i-old through ${GROUP} (TerminateInstanceInAutoScalingGroup, desired capacity stays 1): the group launches a replacement`,
        '  2. The new host mounts the retained file system and waits on the EFS fence until the old one has let go: never two writers',
        '  3. Wait until every service is healthy through SSM',
        '',
        'Restore deletes nothing: the file system and the secrets are kept as they are.',
        '',
      ].join('\n'),
    );
    expect(stderr).toBe('gm-ops: not confirmed: nothing done — rerun with --yes to carry out this plan: gm-ops restore web --yes\n');
    expect(data.terminated).toEqual([]);
  });

  it('--yes: terminates through the group (desired capacity kept), waits for the replacement, reports the time to healthy', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old', state: 'stopped' } });
    const { launch } = groupReplaces(GROUP, 'i-new');
    data.onTerminate = launch;
    const sleeps: number[] = [];
    const { code, stdout, stderr } = await restore(
      {
        onSleep: (ms) => {
          sleeps.push(ms);
          if (ms === 15_000) becomeHealthy(GROUP, 'i-new');
        },
      },
      'web',
      '--yes',
    );
    expect(code).toBe(0);
    expect(data.terminated).toEqual([{ instanceId: 'i-old', decrement: false }]);
    expect(stderr).toContain(`gm-ops: terminating i-old; ${GROUP} launches its replacement`);
    expect(sleeps[0]).toBe(15_000);
    expect(stdout).toMatch(/Restored: every service of web is healthy on i-new, 1[5-9]s after the restore began\.\n$/);
  });

  it('a running host whose services fail (launched hours ago): replaced after a yes at the terminal', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old' } });
    hostAnswers('i-old', ['n8n', 'postgres']);
    data.onTerminate = groupReplaces(GROUP, 'i-new').launch;
    const questions: string[] = [];
    const prompt: Prompt = { available: true, confirm: async (q) => (questions.push(q), true) };
    const { code, stdout } = await restore({ prompt, onSleep: () => becomeHealthy(GROUP, 'i-new') }, 'web');
    expect(code).toBe(0);
    expect(questions).toEqual(['Carry out this plan for web?']);
    expect(stdout).toContain('Found: host i-old is running but not healthy (n8n, postgres).');
    expect(stdout).toMatch(/Not healthy\s+n8n: connection refused \(nothing listening\) · docker healthy; postgres: no response · docker healthy/);
    expect(data.terminated).toEqual([{ instanceId: 'i-old', decrement: false }]);
    expect(stdout).toContain('Restored: every service of web is healthy on i-new');
  });

  it('a "no" at the terminal: nothing done, exit 1', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old', state: 'stopped' } });
    const prompt: Prompt = { available: true, confirm: async () => false };
    const { code, stderr } = await restore({ prompt }, 'web');
    expect(code).toBe(1);
    expect(stderr).toContain('nothing done');
    expect(data.terminated).toEqual([]);
  });

  it('a host launched minutes ago that is not healthy yet is waited for, not replaced (no second host)', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-young' } });
    aws.instances.get('i-young')!.LaunchTime = new Date('2025-01-15T11:50:00Z');
    hostAnswers('i-young', ['n8n']);
    const { code, stdout } = await restore({ onSleep: (ms) => (ms === 15_000 ? hostAnswers('i-young') : undefined) }, 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain('Found: host i-young launched 10 min ago and is not healthy yet: it is probably still booting.');
    expect(stdout).toContain('1. Wait for i-young (launched less than 30 min ago) instead of replacing it');
    expect(data.terminated).toEqual([]);
    expect(stdout).toContain('healthy on i-young');
  });

  it('a host launched 50 min ago is still waited for when the deployment declares a 90 min bootstrap timeout', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-slow' }, outputs: { BootstrapTimeoutMinutes: '90' } });
    aws.instances.get('i-slow')!.LaunchTime = new Date('2025-01-15T11:10:00Z');
    hostAnswers('i-slow', ['n8n']);
    const { code, stdout } = await restore({}, 'web');
    expect(code).toBe(1);
    expect(stdout).toContain('Found: host i-slow launched 50 min ago and is not healthy yet: it is probably still booting.');
    expect(stdout).toContain('1. Wait for i-slow (launched less than 100 min ago) instead of replacing it');
    expect(data.terminated).toEqual([]);
  });

  it('an SSM agent in ConnectionLost is no evidence against the host: waited for, never terminated', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old', agent: 'ConnectionLost' } });
    hostAnswers('i-old');
    aws.agents.set('i-old', 'ConnectionLost');
    const { code, stdout } = await restore({ onSleep: () => void aws.agents.set('i-old', 'Online') }, 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain('Found: host i-old could not be checked (no conclusive evidence that it is unhealthy): it is not replaced.');
    expect(stdout).toMatch(/Inconclusive\s+host: .*ConnectionLost/);
    expect(data.terminated).toEqual([]);
    expect(stdout).toContain('healthy on i-old');
  });

  it('one probe without an answer is inconclusive: the plan waits and names "no conclusive evidence"', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old' } });
    aws.agents.set('i-old', 'Online');
    aws.hosts.set('i-old', (script) => {
      const probes = healthyProbeLines(tokenOf(script)).split('\n').filter((line) => !line.includes('\tqdrant\t'));
      return `${probes.join('\n')}\n${containerLines(tokenOf(script), ALL_RUNNING)}`;
    });
    const { code, stdout } = await restore({}, 'web', '--json');
    expect(code).toBe(1);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ situation: 'replace-host', action: 'wait', confirmed: false });
    expect(doc.summary).toContain('no conclusive evidence');
    expect(doc.facts.Inconclusive).toMatch(/^qdrant: the host returned no result for this probe/);
    expect(data.terminated).toEqual([]);
  });

  it('a group scaled to 0: set back to 1', async () => {
    aws.addDeployment({ name: 'web', host: null });
    data.onSetDesired = groupReplaces(GROUP, 'i-new').launch;
    const { code, stdout } = await restore({ onSleep: () => becomeHealthy(GROUP, 'i-new') }, 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain(`Found: ${GROUP} has no host: its desired capacity is 0.`);
    expect(data.desiredCapacity).toEqual([{ group: GROUP, capacity: 1 }]);
  });

  it('a group gm-ops stop parked (maximum 0): refused in one line pointing to gm-ops start, nothing changed', async () => {
    aws.addDeployment({ name: 'web', host: null });
    const group = aws.groups.get(GROUP)!;
    aws.groups.set(GROUP, { ...group, MinSize: 0, MaxSize: 0, DesiredCapacity: 0 });
    const { code, stdout, stderr } = await restore({}, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`gm-ops: web is stopped (${GROUP} is parked at 0 hosts, maximum 0, by \`gm-ops stop\`): restore replaces a failed host, it does not start a stopped deployment — \`gm-ops start web\` brings the host back (and resumes a suspended schedule)\n`);
    expect(data.desiredCapacity).toEqual([]);
  });

  it('no healthy host within --timeout: exit 1, says what it last saw; running again is safe', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-old', state: 'stopped' } });
    data.onTerminate = groupReplaces(GROUP, 'i-new').launch;
    const { code, stderr } = await restore({}, 'web', '--yes', '--timeout', '1m');
    expect(code).toBe(1);
    expect(stderr.split('\n')[1]).toMatch(/^gm-ops: no healthy host for "web" after 1m00s \(last seen: i-new is pending\) — see `gm-ops status web`.*running restore again is safe$/);
  });

  it('a stack stuck in UPDATE_ROLLBACK_FAILED is explained with its remedy, nothing done', async () => {
    aws.addDeployment({ name: 'web', status: 'UPDATE_ROLLBACK_FAILED', host: { id: 'i-old', state: 'stopped' } });
    const { code, stdout, stderr } = await restore({}, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'gm-ops: GeuseDev-web is UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback; the stack cannot be updated until the rollback completes; restore cannot repair a stack in this state — run `aws cloudformation continue-update-rollback --stack-name GeuseDev-web --region eu-west-1`, then if a resource keeps failing, add --resources-to-skip <LogicalId>; then `gm-ops restore web`\n',
    );
    expect(data.terminated).toEqual([]);
  });
});

describe('restore: the compute stack is deleted, the data stack lives', () => {
  beforeEach(() => {
    aws.addStack(stackOf('GeuseData-web', 'CREATE_COMPLETE', { FileSystemId: FS_ID }, { 'geuse:deployment': 'web', 'geuse:tier': 'data' }));
    // A data stack that created its own file system (not rebuilt around a retained one).
    data.stackResources.set('GeuseData-web', [
      { LogicalResourceId: 'FileSystem8A8E25C0', PhysicalResourceId: FS_ID, ResourceType: 'AWS::EFS::FileSystem', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
      { LogicalResourceId: 'FileSystemEfsMountTarget1', PhysicalResourceId: 'fsmt-0a1', ResourceType: 'AWS::EFS::MountTarget', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
    ]);
    data.addDeletedStack('GeuseDev-web', '2025-01-02T08:00:00Z');
    data.addDeletedStack('GeuseAutomation-web', '2025-01-10T08:00:00Z');
  });
  const deployed = () => {
    aws.addDeployment({ name: 'web', tier: 'automation', dataStatus: null, host: { id: 'i-new' } });
    hostAnswers('i-new');
  };

  it('inside the project: runs cdk deploy of the last tier, then checks health', async () => {
    const runner = recordingRunner(deployed);
    const { code, stdout, stderr } = await restore({ cwd: path.join(project, 'ops'), processRunner: runner }, 'web', '--yes');
    expect(stdout).toContain('Tier           automation (from the last compute stack, GeuseAutomation-web, deleted 2025-01-10 08:00:00Z)');
    expect(stdout).toContain('Found: the compute stack of web is gone; GeuseData-web and its file system live.');
    expect(stdout).toContain('1. Deploy GeuseAutomation-web: npx cdk deploy GeuseAutomation-web -c name=web -c tier=automation --require-approval never');
    expect(code).toBe(0);
    expect(runner.calls).toEqual([
      { command: 'npx', args: ['cdk', 'deploy', 'GeuseAutomation-web', '-c', 'name=web', '-c', 'tier=automation', '--require-approval', 'never'], cwd: project },
    ]);
    expect(stderr).toContain('GeuseData-web: deploying... [1/2]');
    expect(stdout).toContain('Restored: every service of web is healthy on i-new');
  });

  it('--tier overrides the history', async () => {
    const runner = recordingRunner(() => {
      aws.addDeployment({ name: 'web', tier: 'gpu', dataStatus: null, host: { id: 'i-gpu' } });
      hostAnswers('i-gpu');
    });
    const { code } = await restore({ cwd: project, processRunner: runner }, 'web', '--yes', '--tier', 'gpu');
    expect(code).toBe(0);
    expect(runner.calls[0].args).toEqual(['cdk', 'deploy', 'GeuseGpu-web', '-c', 'name=web', '-c', 'tier=gpu', '--require-approval', 'never']);
  });

  it('outside the project: prints the exact command, runs nothing, exit 1', async () => {
    const { code, stdout, stderr } = await restore({}, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toContain(`gm-ops is not running inside the GeuseMaker project (no cdk.json with the geusemaker app above ${os.tmpdir()}). From a checkout:`);
    expect(stdout).toContain('  AWS_REGION=eu-west-1 npx cdk deploy GeuseAutomation-web -c name=web -c tier=automation --require-approval never');
    expect(stderr).toBe('gm-ops: not inside the GeuseMaker project: gm-ops cannot run cdk deploy from here — run the command above in a checkout (or run gm-ops restore web from one)\n');
  });

  it('cdk deploy fails: exit 1, explained', async () => {
    const { code, stderr } = await restore({ cwd: project, processRunner: recordingRunner(() => undefined, 1) }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stderr).toMatch(/gm-ops: cdk deploy failed \(exit 1\) — its output is above; `gm-ops status web` shows the stack events; the retained data was not touched and running restore again is safe\n$/);
  });

  it('no deleted compute stack in the history and no --tier: exit 2, asks for --tier', async () => {
    data.deletedStacks.length = 0;
    const { code, stderr } = await restore({ cwd: project }, 'web', '--yes');
    expect(code).toBe(2);
    expect(stderr).toBe(
      `gm-ops: cannot tell which tier to restore for "web": no deleted ${TIERS.map((tier) => computeStackName(tier, 'web')).join(' / ')} in the CloudFormation history — pass --tier ${TIERS.join('|')}\n`,
    );
  });
});

describe('restore: the data stack is deleted, its file system and secrets retained', () => {
  beforeEach(() => {
    data.addDeletedStack('GeuseDev-web', '2025-01-12T08:00:00Z');
    data.addDeletedStack('GeuseData-web', '2025-01-12T08:10:00Z', [
      { LogicalResourceId: 'FileSystem8A8E25C0', PhysicalResourceId: FS_ID, ResourceType: 'AWS::EFS::FileSystem', ResourceStatus: 'DELETE_SKIPPED', LastUpdatedTimestamp: new Date() },
      { LogicalResourceId: 'Vpc8378EB38', PhysicalResourceId: 'vpc-0gone', ResourceType: 'AWS::EC2::VPC', ResourceStatus: 'DELETE_COMPLETE', LastUpdatedTimestamp: new Date() },
    ]);
    data.fileSystems.push(fileSystemOf('fs-0aaaaaaaaaaaaaaaa', { deployment: 'other' }), fileSystemOf(FS_ID, { deployment: 'web', sizeBytes: 7.5 * 1024 ** 3 }));
    data.addSecrets('web');
  });
  const rebuilt = () => {
    aws.addDeployment({ name: 'web', tier: 'dev', host: { id: 'i-new' } });
    hostAnswers('i-new');
  };

  it('finds them (tag and deleted stack), cancels a scheduled secret deletion, rebuilds both stacks around them', async () => {
    data.fileSystemPageSize = 1;
    data.secrets.get('geusemaker/web/n8n-owner-password')!.deletedDate = new Date('2025-01-20T00:00:00Z');
    const runner = recordingRunner(rebuilt);
    const { code, stdout } = await restore({ cwd: project, processRunner: runner }, 'web', '--yes');
    expect(stdout).toContain('  Data stack     GeuseData-web (none)');
    expect(stdout).toContain(`  File system    ${FS_ID} (created 2024-11-02 10:00:00Z, 7.50 GiB, GeuseData-web/FileSystem; found by tag geuse:deployment=web and deleted stack GeuseData-web (deleted 2025-01-12))`);
    // The two stored secrets are all a deployment needs: the four derived ones are not missing, the host computes them.
    expect(stdout).toContain('  Secrets        n8n-encryption-key ok, n8n-owner-password scheduled for deletion on 2025-01-20 00:00:00Z\n');
    expect(stdout).not.toMatch(/MISSING|postgres-password|legacy/);
    expect(stdout).toContain(`Found: GeuseData-web is gone; its file system ${FS_ID} and its secrets are retained.`);
    expect(stdout).toContain('  1. Cancel the scheduled deletion of geusemaker/web/n8n-owner-password (RestoreSecret)');
    expect(stdout).toContain(`  3. Rebuild GeuseData-web and GeuseDev-web around ${FS_ID} and the retained secrets: npx cdk deploy GeuseData-web GeuseDev-web -c name=web -c tier=dev --require-approval never`);
    expect(code).toBe(0);
    expect(data.restoredSecrets).toEqual(['geusemaker/web/n8n-owner-password']);
    expect(runner.calls.map((c) => c.args.join(' '))).toEqual([`cdk deploy GeuseData-web GeuseDev-web -c name=web -c tier=dev --require-approval never`]);
    expect(stdout).toContain('Restored: every service of web is healthy on i-new');
  });

  it('a deployment made before the host derived its secrets: the legacy ones are reported (their values win on the host) and their deletion cancelled', async () => {
    data.secrets.clear();
    data.addSecrets('web', { legacy: true, except: ['n8n-jwt-secret'] });
    data.secrets.get('geusemaker/web/crawl4ai-api-token')!.deletedDate = new Date('2025-01-20T00:00:00Z');
    const runner = recordingRunner(rebuilt);
    const { code, stdout } = await restore({ cwd: project, processRunner: runner }, 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain(
      '  Secrets        n8n-encryption-key ok, n8n-owner-password ok; legacy postgres-password ok, qdrant-api-key ok, crawl4ai-api-token scheduled for deletion on 2025-01-20 00:00:00Z (kept from before the host derived them: their values win on the host); n8n-jwt-secret derived on the host from the encryption key\n',
    );
    expect(stdout).toContain('  1. Cancel the scheduled deletion of geusemaker/web/crawl4ai-api-token (RestoreSecret)');
    expect(data.restoredSecrets).toEqual(['geusemaker/web/crawl4ai-api-token']);
  });

  it('the owner password is missing: exit 1, names it (the derived purposes are never called missing)', async () => {
    data.secrets.delete('geusemaker/web/n8n-owner-password');
    const { code, stderr } = await restore({ cwd: project }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^gm-ops: secrets of "web" are missing: geusemaker\/web\/n8n-owner-password; /);
    expect(stderr.split('\n')).toHaveLength(2);
  });

  it('--json: the plan as one document', async () => {
    const { code, stdout } = await restore({ cwd: project }, 'web', '--json');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      deployment: 'web',
      region: 'eu-west-1',
      situation: 'rebuild-data',
      command: `npx cdk deploy GeuseData-web GeuseDev-web -c name=web -c tier=dev --require-approval never`,
      insideProject: project,
      fileSystemId: FS_ID,
      confirmed: false,
      result: null,
    });
  });

  it('several candidate file systems: listed with creation time and size, asks for --file-system; then uses the one given', async () => {
    data.fileSystems.push(fileSystemOf(OTHER_FS, { deployment: 'web', sizeBytes: 1024 ** 3, created: '2025-01-05T10:00:00Z' }));
    const { code, stdout, stderr } = await restore({ cwd: project }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `gm-ops: 2 retained file systems could belong to "web": ${OTHER_FS} (created 2025-01-05 10:00:00Z, 1.00 GiB, GeuseData-web/FileSystem; found by tag geuse:deployment=web); ${FS_ID} (created 2024-11-02 10:00:00Z, 7.50 GiB, GeuseData-web/FileSystem; found by tag geuse:deployment=web and deleted stack GeuseData-web (deleted 2025-01-12)) — choose one with --file-system ${OTHER_FS} (restore does not guess which holds the data you want)\n`,
    );
    const chosen = await restore({ cwd: project }, 'web', '--file-system', FS_ID);
    expect(chosen.code).toBe(1);
    expect(chosen.stdout).toContain(`Keep ${FS_ID} in the deployment's saved configuration`);
  });

  it('--file-system of another deployment is refused', async () => {
    const { code, stderr } = await restore({ cwd: project }, 'web', '--file-system', 'fs-0aaaaaaaaaaaaaaaa', '--yes');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^gm-ops: file system fs-0aaaaaaaaaaaaaaaa belongs to deployment "other" \(tag geuse:deployment\), not "web": restore never mounts another deployment's data/);
  });

  it('a file system still mounted somewhere is refused: never a second writer', async () => {
    data.fileSystems[1].NumberOfMountTargets = 2;
    const { code, stderr } = await restore({ cwd: project }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^gm-ops: file system ${FS_ID} still has 2 mount targets: something else may be using it, and restore never starts a second writer`));
  });

  it('the n8n encryption key is missing: exit 1, explained (n8n must read the credentials saved before)', async () => {
    data.secrets.delete('geusemaker/web/n8n-encryption-key');
    const { code, stderr } = await restore({ cwd: project }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stderr).toBe(
      'gm-ops: the n8n encryption key of "web" is missing (geusemaker/web/n8n-encryption-key): n8n must read the credentials it saved before, and a new key cannot decrypt them — restore the secret if it was deleted in the last 30 days (aws secretsmanager restore-secret --secret-id geusemaker/web/n8n-encryption-key), or recreate it with the old value from a backup; restore does not generate a new key\n',
    );
  });

  it('nothing retained at all: exit 1, says what was searched', async () => {
    data.deletedStacks.length = 0;
    data.fileSystems.splice(1, 1);
    data.secrets.clear();
    const { code, stdout, stderr } = await restore({ cwd: project }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'gm-ops: nothing retained found for "web" in eu-west-1: no stack, no retained EFS file system and no secret (searched 1 EFS file system for the tag geuse:deployment=web; the CloudFormation history (no deleted GeuseData-web stack); the secrets geusemaker/web/<purpose>, including those scheduled for deletion) — check the region (--region); a file system deleted by hand cannot be restored; to start afresh deploy: npx cdk deploy GeuseDev-web -c name=web\n',
    );
  });
});

describe('restore: usage', () => {
  it('bad --tier, bad --file-system: exit 2, one line', async () => {
    expect(await restore({}, 'web', '--tier', 'huge')).toMatchObject({ code: 2, stderr: `gm-ops: Invalid value for --tier: expected one of ${TIERS.join(', ')} (got "huge") — see \`gm-ops restore --help\`\n` });
    expect((await restore({}, 'web', '--file-system', 'vol-1')).stderr).toMatch(/expected an EFS file system id such as fs-0123456789abcdef0 \(got "vol-1"\)/);
  });
});
