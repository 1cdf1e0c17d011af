/**
 * `gm-ops migrate <name> --to <tier>`: moves a deployment between a single-host tier (dev, automation, gpu) and
 * the scale tier, data included. Prints the plan first; acts on --yes (or a confirmation at a terminal).
 *
 * The database moves as one consistent backup set (the `gm-ops backup` layout: dump, Qdrant snapshot, n8n's files,
 * manifest with sha256), taken while nothing writes: the source's n8n is stopped (single host) or the n8n
 * services are held at 0 tasks (scale). The single-writer fence on EFS passes from the source host to the target
 * host: the source's stack stops (releasing it) only after the set is written, and the target's host takes it
 * when it boots. The n8n encryption key is the deployment's one retained secret, read by both tiers, so the
 * restored credentials decrypt. The migration ends only when the functional check passes on the new tier; only
 * then is the old compute stack deleted. A failure before that names its step in one line, puts the source back
 * (its stack restarted, cdk.json's tier restored) and deletes nothing.
 *
 * To scale:   1 stop n8n on the host, backup set   2 stop the host's stack (fence released)   3 tier=scale in
 *             cdk.json, deploy GeuseScale with its n8n services held at 0   4 restore the dump into RDS from the AI
 *             host (new database, swapped in) and place the set's Qdrant snapshot   5 deploy again: the services
 *             start on the restored data   6 functional check (entry readiness, services at their desired running
 *             and ready tasks, database and queue available, the AI host's functional check)   7 delete the old
 *             compute stack.
 * From scale: 1 deploy GeuseScale with its services held at 0   2 backup set on the AI host, dumped from RDS; the
 *             old single-host database directory on EFS is moved aside   3 stop the AI host's stack (fence
 *             released)   4 tier in cdk.json, deploy Geuse<Tier>   5 restore-backup.sh on the new host (checksums,
 *             fence, dump, files, Qdrant, then its functional check)   6 delete GeuseScale (GeuseScaleData, with the
 *             RDS database and Valkey, is kept: `npx cdk destroy GeuseScaleData-<name>` removes it, with a final
 *             snapshot).
 */
import { ResumeProcessesCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { agentStatuses, describeAgentStatus, runScript, scriptFailure } from '../../aws/ssm-run';
import type { CommandIO } from '../../command-io';
import {
  OUTPUT_KEYS,
  SCALE_HOLD_CONTEXT_KEY,
  computeStackName,
  dataStackName,
  scaleComputeStackName,
  scaleDataStackName,
  secretName,
  type Tier,
} from '../../contract';
import { resolveHosts } from '../../discovery/hosts';
import { DeploymentNotFound, ExitCode, Interrupted, OpsError } from '../../errors';
import { renderFields } from '../../output/table';
import { findProject, type Project } from '../../restore/project';
import { formatElapsed } from '../../restore/act';
import { scaleApiProblem } from '../api';
import { scaleChecks } from '../health';
import { layoutOf, readStack, type RawStack, type ScaleLayout } from '../stacks';
import { inspectTierConfig, saveTier, type TierConfigState } from './config';
import {
  backupFromRdsScript,
  freezeAndBackupScript,
  haltScript,
  parseStep,
  restoreBackupScript,
  restoreToRdsScript,
  resumeScript,
  type RdsTarget,
  type StepOutput,
} from './scripts';

export const SINGLE_HOST_TIERS = ['dev', 'automation', 'gpu'] as const;
export type SingleHostTier = (typeof SINGLE_HOST_TIERS)[number];
export type MigrateTier = SingleHostTier | 'scale';
export const MIGRATE_TIERS: readonly MigrateTier[] = [...SINGLE_HOST_TIERS, 'scale'];

export interface MigrateOptions {
  readonly name: string;
  readonly to: MigrateTier;
  readonly yes: boolean;
  readonly json: boolean;
  /** How long the new tier may take to pass its functional check. */
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly output: NodeJS.WritableStream;
}

export interface MigratePlan {
  readonly deployment: string;
  readonly from: MigrateTier;
  readonly to: MigrateTier;
  readonly sourceStack: string;
  readonly targetStack: string;
  readonly instanceId?: string;
  /** The auto scaling group of the host whose data moves. */
  readonly sourceGroup?: string;
  /** Why the plan cannot be carried out (shown, exit 1). */
  readonly blocked?: string;
  readonly blockedLines?: readonly string[];
  readonly notes: readonly string[];
  readonly steps: readonly string[];
  readonly project?: Project;
  readonly config?: TierConfigState;
  readonly layout?: ScaleLayout;
}

const stackNameOf = (tier: MigrateTier, name: string): string => (tier === 'scale' ? scaleComputeStackName(name) : computeStackName(tier as Tier, name));

export function cdkDeployArgs(name: string, tier: MigrateTier, hold: boolean): string[] {
  return [
    'cdk',
    'deploy',
    stackNameOf(tier, name),
    '-c',
    `name=${name}`,
    '-c',
    `tier=${tier}`,
    ...(hold ? ['-c', `${SCALE_HOLD_CONTEXT_KEY}=${name}`] : []),
    '--require-approval',
    'never',
  ];
}

const IN_PROGRESS = /_IN_PROGRESS$/;
/** A stack migrate may start from: settled and working (an update rolled back still works; a failed create does not). */
const usable = (status: string): boolean => /_COMPLETE$/.test(status) && !/^(ROLLBACK_COMPLETE|DELETE_COMPLETE)$/.test(status);

/**
 * While the migration runs, the source's group launches no replacement host (a host that came back would take the
 * fence and start n8n on the data being moved): Launch, ReplaceUnhealthy, HealthCheck and AZRebalance are suspended,
 * and resumed when the migration is undone. Terminate is not: deleting the stack still ends the host.
 */
export const SUSPENDED_PROCESSES = ['Launch', 'ReplaceUnhealthy', 'HealthCheck', 'AZRebalance'];

async function hostOf(io: CommandIO, group: string | undefined): Promise<{ instanceId?: string; problem?: string }> {
  if (!group) return { problem: 'its compute stack has no AutoScalingGroupName output' };
  const clients = io.aws();
  const lookup = (await resolveHosts(clients.autoScaling, clients.ec2, [group])).get(group);
  const host = lookup?.host;
  if (!host) return { problem: `no instance in ${group}` };
  if (host.state !== 'running') return { problem: `its instance ${host.instanceId} is ${host.state}` };
  const agent = (await agentStatuses(clients.ssm, [host.instanceId])).get(host.instanceId) ?? 'NotRegistered';
  if (agent !== 'Online') return { instanceId: host.instanceId, problem: `${host.instanceId} is not reachable through SSM (${describeAgentStatus(agent)})` };
  return { instanceId: host.instanceId };
}

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The database outputs migrate needs, or why they are missing. */
export function rdsTargetOf(layout: ScaleLayout): RdsTarget | string {
  if (!layout.data) return `${scaleDataStackName(layout.name)} does not exist`;
  if (!layout.databaseSecretArn || !layout.databaseEndpoint) return `${layout.data.stackName} has no DatabaseSecretArn or DatabaseEndpoint output`;
  const database = layout.databaseName ?? 'n8n';
  if (!DATABASE_NAME.test(database)) return `${layout.data.stackName} names an unusable database "${database}"`;
  return { secretArn: layout.databaseSecretArn, endpoint: layout.databaseEndpoint, database };
}

function stepsFor(name: string, from: MigrateTier, to: MigrateTier, sourceStack: string): string[] {
  const key = secretName(name, 'n8n-encryption-key');
  if (to === 'scale') {
    return [
      `stop n8n on the ${from} host (and its watchdog and backup timers), then take a backup set there (backup.sh --tag migrate-to-scale: dump, Qdrant snapshot, n8n's files, manifest)`,
      "stop the host's stack: PostgreSQL flushed, a Qdrant snapshot, the single-writer fence released; the host itself stays",
      `write "tier": "scale" into cdk.json, then npx ${cdkDeployArgs(name, 'scale', true).join(' ')} (${scaleDataStackName(name)} with it; the n8n services held at 0 tasks; the AI host takes the fence)`,
      "on the AI host: check the set against its manifest, restore its dump into a new database on RDS (one transaction) and swap it in; place its Qdrant snapshot; the AI host's start.sh restores it and points the pre-wired credentials at the AI host",
      `npx ${cdkDeployArgs(name, 'scale', false).join(' ')}: main, workers and webhook processors start on the restored data, with the same encryption key (${key})`,
      'wait until the functional check passes: main ready on the entry URL, every service at its desired running and ready tasks, database and queue available, the AI services working',
      `delete ${sourceStack} (its data stays on EFS, its set in the backups)`,
    ];
  }
  return [
    `npx ${cdkDeployArgs(name, 'scale', true).join(' ')}: the n8n services go to 0 tasks, nothing writes to the database`,
    `on the AI host: a backup set tagged migrate-to-${to}, its dump taken from RDS (same layout and manifest as gm-ops backup); the old single-host database directory on EFS is moved aside, not deleted`,
    "stop the AI host's stack: a Qdrant snapshot, the single-writer fence released",
    `write "tier": "${to}" into cdk.json, then npx ${cdkDeployArgs(name, to, false).join(' ')} (its host takes the fence; same encryption key ${key})`,
    "on the new host: restore-backup.sh with the set (checksums, n8n's database, its files, Qdrant), ending with the host's functional check, which must pass",
    `delete ${sourceStack} (${scaleDataStackName(name)}, with the RDS database and Valkey, is kept until you remove it)`,
  ];
}

export async function assessMigration(io: CommandIO, options: Pick<MigrateOptions, 'name' | 'to'>): Promise<MigratePlan> {
  const { name, to } = options;
  const clients = io.aws();
  const tiers: MigrateTier[] = [...MIGRATE_TIERS];
  const [data, scaleData, ...computes] = await Promise.all([
    readStack(clients.cloudFormation, dataStackName(name)),
    readStack(clients.cloudFormation, scaleDataStackName(name)),
    ...tiers.map((tier) => readStack(clients.cloudFormation, stackNameOf(tier, name))),
  ]);
  const present = tiers.map((tier, i) => ({ tier, stack: computes[i] })).filter((c): c is { tier: MigrateTier; stack: RawStack } => c.stack !== undefined);
  if (!data && present.length === 0) {
    throw new DeploymentNotFound(name, await clients.region());
  }
  if (!data) throw new OpsError(`${dataStackName(name)} does not exist: migrate moves a deployment whose data stack is in place`, `see \`gm-ops restore ${name}\``);
  const targetStack = stackNameOf(to, name);
  const others = present.filter((c) => c.tier !== to);
  const target = present.find((c) => c.tier === to);
  if (others.length === 0) {
    if (target) return { deployment: name, from: to, to, sourceStack: target.stack.stackName, targetStack, notes: [], steps: [] };
    throw new OpsError(`"${name}" has no compute stack to migrate from (only ${dataStackName(name)})`, `deploy it with \`gm-ops restore ${name} --tier ${to}\``);
  }
  if (others.length > 1) {
    throw new OpsError(
      `"${name}" has more than one compute stack besides the target (${others.map((o) => o.stack.stackName).join(', ')}): migrate cannot tell which one holds the data`,
      'delete the one that does not (see `gm-ops status`), then migrate again',
    );
  }
  const source = others[0];
  if (source.tier !== 'scale' && to !== 'scale') {
    throw new OpsError(`migrate moves between a single-host tier and scale; ${source.stack.stackName} → ${targetStack} is a tier change on one host`, `use \`gm-ops restore ${name} --tier ${to}\` after deleting ${source.stack.stackName}`);
  }
  const notes: string[] = [];
  if (target) notes.push(`${target.stack.stackName} exists (${target.stack.status}) from an earlier attempt: the deploy updates it`);
  let blocked: string | undefined;
  let blockedLines: readonly string[] | undefined;
  // The scale tier's functional check reads ECS, RDS and ElastiCache: without their SDK, migrate could not end.
  const sdk = scaleApiProblem(clients);
  if (sdk) blocked = `gm-ops cannot check the scale tier: ${sdk}`;
  if (!usable(source.stack.status)) blocked ??= `${source.stack.stackName} is ${source.stack.status}`;
  if (target && IN_PROGRESS.test(target.stack.status)) blocked ??= `${target.stack.stackName} is ${target.stack.status}; wait until it settles`;
  if (!usable(data.status)) blocked ??= `${data.stackName} is ${data.status}`;

  let layout: ScaleLayout | undefined;
  let sourceGroup: string | undefined;
  if (source.tier === 'scale') {
    layout = layoutOf(name, source.stack, scaleData);
    const rds = rdsTargetOf(layout);
    if (typeof rds === 'string') blocked ??= `no backup possible: ${rds}`;
    sourceGroup = layout.aiHostGroup;
  } else {
    sourceGroup = source.stack.outputs[OUTPUT_KEYS.autoScalingGroupName] || undefined;
  }
  const host = await hostOf(io, sourceGroup);
  if (host.problem) blocked ??= `no backup possible: the ${source.tier === 'scale' ? 'AI host' : 'host'} of ${source.stack.stackName} is not usable (${host.problem})`;

  const project = findProject(io.services.cwd());
  let config: TierConfigState | undefined;
  if (!project) {
    blocked ??= 'not inside the GeuseMaker project (a cdk.json with the geusemaker app, up the directory tree): the target cannot be deployed from here';
  } else {
    config = inspectTierConfig(project.cdkJson, name, to);
    if (config.kind === 'blocked') {
      blocked ??= `cdk.json cannot carry the new tier: ${config.reason}`;
      blockedLines = config.lines;
    }
  }
  return {
    deployment: name,
    from: source.tier,
    to,
    sourceStack: source.stack.stackName,
    targetStack,
    instanceId: host.instanceId,
    sourceGroup,
    blocked,
    blockedLines,
    notes,
    steps: stepsFor(name, source.tier, to, source.stack.stackName),
    project,
    config,
    layout,
  };
}

// ----- acting -----

class Migration {
  private previousTier?: { value: string | undefined };

  constructor(
    private readonly io: CommandIO,
    private readonly plan: MigratePlan,
    private readonly options: MigrateOptions,
  ) {}

  private get name(): string {
    return this.plan.deployment;
  }

  progress(step: string): void {
    this.io.notice(step);
  }

  /** Runs a migrate script on a host; its parsed output (a script that could not run at all throws). */
  async onHost(instanceId: string, script: (token: string) => string, comment: string, seconds: number): Promise<StepOutput> {
    const token = this.io.services.randomId();
    const result = await runScript(this.io.aws().ssm, instanceId, script(token), {
      sleep: this.io.services.sleep,
      clock: this.io.services.clock,
      signal: this.io.services.signal,
      comment,
      executionTimeoutSeconds: seconds,
    });
    const failure = scriptFailure(result, token);
    if (failure) throw failure;
    const step = parseStep(result.stdout, token);
    if (step.exitCode === undefined) throw new OpsError(`the ${comment} script on ${instanceId} gave no result`);
    return step;
  }

  async deploy(tier: MigrateTier, hold: boolean): Promise<number | null> {
    const args = cdkDeployArgs(this.name, tier, hold);
    this.progress(`running: npx ${args.join(' ')} (in ${this.plan.project!.root})`);
    const result = await this.io.services.processRunner.run('npx', args, { cwd: this.plan.project!.root, output: this.options.output, signal: this.io.services.signal });
    if (this.io.services.signal.aborted) throw new Interrupted();
    return result.exitCode;
  }

  setTier(tier: MigrateTier): void {
    const previous = saveTier(this.plan.project!.cdkJson, this.name, tier);
    this.previousTier ??= { value: previous };
    this.progress(`${this.plan.project!.cdkJson}: "${this.name}" now has "tier": "${tier}"`);
  }

  restoreTier(): string | undefined {
    if (!this.previousTier) return undefined;
    try {
      saveTier(this.plan.project!.cdkJson, this.name, this.previousTier.value);
      return undefined;
    } catch (error) {
      return `cdk.json's tier could not be put back (${(error as Error).message})`;
    }
  }

  /** Rollback steps, each tried whatever the others did; what failed, in words. */
  async undo(steps: readonly [string, () => Promise<void>][]): Promise<string[]> {
    const failed: string[] = [];
    for (const [label, step] of steps) {
      try {
        this.progress(`putting back: ${label}`);
        await step();
      } catch (error) {
        failed.push(`${label} failed (${(error as Error).message})`);
      }
    }
    return failed;
  }

  async resume(instanceId: string, what: string): Promise<void> {
    const step = await this.onHost(instanceId, resumeScript, `gm-ops migrate: resume ${what}`, 50 * 60);
    if (step.exitCode !== 0) throw new Error(step.errors[0] ?? `exit ${step.exitCode}`);
  }

  async halt(instanceId: string, what: string): Promise<StepOutput> {
    return this.onHost(instanceId, haltScript, `gm-ops migrate: stop ${what}`, 10 * 60);
  }

  /** The running, SSM-reachable host of a group just deployed (its agent may register a little after the stack completes). */
  async waitHost(group: string | undefined, what: string): Promise<string> {
    const { clock, sleep, signal } = this.io.services;
    const deadline = clock.now() + 10 * 60_000;
    for (;;) {
      const host = await hostOf(this.io, group);
      if (host.instanceId && !host.problem) return host.instanceId;
      if (clock.now() >= deadline) throw new Error(`${what} is not usable after 10 minutes (${host.problem})`);
      this.progress(`waiting for ${what} (${host.problem})`);
      await sleep(15_000, signal);
      if (signal.aborted) throw new Interrupted();
    }
  }

  /** Stops (or lets again) the source's group launch a replacement host. */
  async replacements(suspend: boolean): Promise<void> {
    const group = this.plan.sourceGroup;
    if (!group) return;
    const input = { AutoScalingGroupName: group, ScalingProcesses: SUSPENDED_PROCESSES };
    await this.io.aws().autoScaling.send(suspend ? new SuspendProcessesCommand(input) : new ResumeProcessesCommand(input));
    this.progress(`${group}: ${SUSPENDED_PROCESSES.join(', ')} ${suspend ? 'suspended while the data moves' : 'resumed'}`);
  }

  async deployOrThrow(tier: MigrateTier, hold: boolean): Promise<void> {
    const code = await this.deploy(tier, hold);
    if (code !== 0) throw new Error(`cdk deploy exited ${code ?? 'by a signal'}`);
  }

  fail(message: string, undone: string[], extra = ''): never {
    const back = undone.length ? `; putting the source back also failed: ${undone.join('; ')}` : '';
    throw new OpsError(
      `${message}${back}`,
      `nothing was removed from ${this.plan.sourceStack}${extra}; its output is above; running migrate again is safe${undone.length ? ` once \`gm-ops status ${this.name}\` is clean` : ''}`,
    );
  }

  async waitScaleWorking(): Promise<string | undefined> {
    const { clock, sleep, signal } = this.io.services;
    const deadline = clock.now() + this.options.timeoutMs;
    let last = 'not checked yet';
    for (;;) {
      if (signal.aborted) throw new Interrupted();
      const compute = await readStack(this.io.aws().cloudFormation, scaleComputeStackName(this.name));
      const data = await readStack(this.io.aws().cloudFormation, scaleDataStackName(this.name));
      const checks = await scaleChecks(this.io, layoutOf(this.name, compute, data), { name: this.name, deep: true, timeoutMs: 8000, json: true });
      const failing = checks.filter((c) => !c.ok);
      if (failing.length === 0) return undefined;
      last = failing.map((c) => `${c.part}: ${c.detail}`).join('; ');
      if (clock.now() >= deadline) return last;
      this.progress(`waiting for the scale tier to work (${last})`);
      await sleep(Math.min(this.options.pollMs, Math.max(0, deadline - clock.now())), signal);
    }
  }

  async removeSource(): Promise<string | undefined> {
    const cfn = this.io.aws().cloudFormation;
    const stackName = this.plan.sourceStack;
    this.progress(`deleting ${stackName}`);
    try {
      await cfn.send(new DeleteStackCommand({ StackName: stackName }));
      const deadline = this.io.services.clock.now() + 60 * 60_000;
      for (;;) {
        const stack = await readStack(cfn, stackName);
        if (!stack || stack.status === 'DELETE_COMPLETE') return undefined;
        if (stack.status === 'DELETE_FAILED') return `${stackName} is DELETE_FAILED${stack.statusReason ? ` (${stack.statusReason})` : ''}`;
        if (this.io.services.clock.now() >= deadline) return `${stackName} is still ${stack.status} after an hour`;
        await this.io.services.sleep(15_000, this.io.services.signal);
        if (this.io.services.signal.aborted) throw new Interrupted();
      }
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      return `${stackName} could not be deleted (${(error as Error).message})`;
    }
  }

  /** A rollback step: the host's stack restarted and its replacements allowed again. */
  private restartStep(instanceId: string, what: string, done: string): [string, () => Promise<void>] {
    return [done, async () => {
      await this.resume(instanceId, what);
      await this.replacements(false);
    }];
  }

  /** A rollback step: cdk.json's tier put back. */
  private tierBackStep(): [string, () => Promise<void>] {
    return ["cdk.json's tier", async () => {
      const problem = this.restoreTier();
      if (problem) throw new Error(problem);
    }];
  }

  // ----- single host → scale -----

  async toScale(): Promise<{ set: string; removal?: string }> {
    const source = this.plan.instanceId!;
    const resumeSource = () => this.restartStep(source, 'the source host', 'the source host restarted');
    const tierBack = () => this.tierBackStep();

    this.progress(`1/7 stopping n8n on ${source} and taking a backup set`);
    let set: string;
    try {
      await this.replacements(true);
      const step = await this.onHost(source, freezeAndBackupScript('scale'), 'gm-ops migrate: backup', 6 * 3600);
      if (step.exitCode !== 0 || !step.set) throw new Error(step.errors[0] ?? `exit ${step.exitCode}`);
      set = step.set;
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`no backup possible on ${source}: ${(error as Error).message}`, await this.undo([resumeSource()]));
    }
    this.progress(`backup set ${set} written`);

    this.progress(`2/7 stopping the stack on ${source} (the fence is released)`);
    try {
      const step = await this.halt(source, 'the source host');
      if (step.fence !== 'released') throw new Error(step.errors[0] ?? `the fence is still held (exit ${step.exitCode})`);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`the source host could not let go of the single-writer fence: ${(error as Error).message}`, await this.undo([resumeSource()]));
    }

    this.progress('3/7 deploying the scale tier with its n8n services held at 0');
    try {
      this.setTier('scale');
      await this.deployOrThrow('scale', true);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`target deploy failed: ${(error as Error).message}`, await this.undo([tierBack(), resumeSource()]), `; ${this.plan.targetStack} was left as CloudFormation left it`);
    }

    const layout = layoutOf(this.name, await readStack(this.io.aws().cloudFormation, scaleComputeStackName(this.name)), await readStack(this.io.aws().cloudFormation, scaleDataStackName(this.name)));
    let aiHost: string | undefined;
    const haltAi = (): [string, () => Promise<void>] => [
      'the AI host stopped (fence released)',
      async () => {
        if (!aiHost) return;
        const step = await this.halt(aiHost, 'the AI host');
        if (step.fence !== 'released') throw new Error('its fence is still held');
      },
    ];
    const holdTarget = (): [string, () => Promise<void>] => ['the scale services held at 0', () => this.deployOrThrow('scale', true)];

    this.progress('4/7 restoring the backup set into RDS from the AI host');
    try {
      const rds = rdsTargetOf(layout);
      if (typeof rds === 'string') throw new Error(rds);
      aiHost = await this.waitHost(layout.aiHostGroup, 'the AI host');
      const step = await this.onHost(aiHost, restoreToRdsScript(set, rds), 'gm-ops migrate: restore into RDS', 2 * 3600);
      if (step.exitCode !== 0) throw new Error(step.errors[0] ?? `exit ${step.exitCode}`);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`restore failed: ${(error as Error).message}`, await this.undo([haltAi(), tierBack(), resumeSource()]));
    }

    this.progress('5/7 starting the n8n services on the restored data');
    try {
      await this.deployOrThrow('scale', false);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`target deploy failed: ${(error as Error).message}`, await this.undo([holdTarget(), haltAi(), tierBack(), resumeSource()]));
    }

    this.progress('6/7 waiting for the functional check to pass on the scale tier');
    const failing = await this.waitScaleWorking();
    if (failing) {
      this.fail(
        `functional check failed on the scale tier after ${formatElapsed(this.options.timeoutMs)}: ${failing}`,
        await this.undo([holdTarget(), haltAi(), tierBack(), resumeSource()]),
      );
    }

    this.progress(`7/7 the scale tier works; removing ${this.plan.sourceStack}`);
    return { set, removal: await this.removeSource() };
  }

  // ----- scale → single host -----

  async fromScale(): Promise<{ set: string; removal?: string; notes: string[] }> {
    const to = this.plan.to as SingleHostTier;
    const aiHost = this.plan.instanceId!;
    const rds = rdsTargetOf(this.plan.layout!) as RdsTarget;
    const unhold = (): [string, () => Promise<void>] => ['the scale services started again', () => this.deployOrThrow('scale', false)];
    const resumeAi = () => this.restartStep(aiHost, 'the AI host', 'the AI host restarted');
    const tierBack = () => this.tierBackStep();

    this.progress('1/6 holding the scale n8n services at 0 tasks');
    try {
      await this.deployOrThrow('scale', true);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`no backup possible: the scale services could not be held at 0 (${(error as Error).message})`, []);
    }

    this.progress(`2/6 taking a backup set on the AI host ${aiHost}, dumped from RDS`);
    let set: string;
    const notes: string[] = [];
    try {
      await this.replacements(true);
      const step = await this.onHost(aiHost, backupFromRdsScript(to, rds), 'gm-ops migrate: backup from RDS', 6 * 3600);
      if (step.exitCode !== 0 || !step.set) throw new Error(step.errors[0] ?? `exit ${step.exitCode}`);
      set = step.set;
      for (const note of step.notes) if (note.startsWith('moved ')) notes.push(`the old single-host database directory was moved aside to ${note.slice('moved '.length)}`);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`no backup possible on the AI host: ${(error as Error).message}`, await this.undo([['the AI host\'s group', () => this.replacements(false)], unhold()]));
    }
    this.progress(`backup set ${set} written`);

    this.progress(`3/6 stopping the stack on the AI host ${aiHost} (the fence is released)`);
    try {
      const step = await this.halt(aiHost, 'the AI host');
      if (step.fence !== 'released') throw new Error(step.errors[0] ?? `the fence is still held (exit ${step.exitCode})`);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`the AI host could not let go of the single-writer fence: ${(error as Error).message}`, await this.undo([resumeAi(), unhold()]));
    }

    this.progress(`4/6 deploying the ${to} tier`);
    try {
      this.setTier(to);
      await this.deployOrThrow(to, false);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`target deploy failed: ${(error as Error).message}`, await this.undo([tierBack(), resumeAi(), unhold()]), `; ${this.plan.targetStack} was left as CloudFormation left it`);
    }

    this.progress(`5/6 restoring ${set} on the new host and running its functional check`);
    const target = await readStack(this.io.aws().cloudFormation, this.plan.targetStack);
    let newHost: string | undefined;
    const haltNew = (): [string, () => Promise<void>] => [
      'the new host stopped (fence released)',
      async () => {
        if (!newHost) return;
        const step = await this.halt(newHost, 'the new host');
        if (step.fence !== 'released') throw new Error('its fence is still held');
      },
    ];
    let step: StepOutput;
    try {
      newHost = await this.waitHost(target?.outputs[OUTPUT_KEYS.autoScalingGroupName] || undefined, 'the new host');
      step = await this.onHost(newHost, restoreBackupScript(set), 'gm-ops migrate: restore-backup', 2 * 3600);
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      this.fail(`restore failed: ${(error as Error).message}`, await this.undo([haltNew(), tierBack(), resumeAi(), unhold()]));
    }
    if (step.exitCode !== 0) {
      const reason = step.errors.find((e) => /functional check/i.test(e));
      const message = reason
        ? `functional check failed on the ${to} tier: ${reason}`
        : `restore failed: ${step.errors[0] ?? `restore-backup.sh exited ${step.exitCode}`}`;
      this.fail(message, await this.undo([haltNew(), tierBack(), resumeAi(), unhold()]));
    }

    this.progress(`6/6 the ${to} tier works; removing ${this.plan.sourceStack}`);
    return { set, removal: await this.removeSource(), notes };
  }
}

function renderPlan(io: CommandIO, plan: MigratePlan): void {
  io.write(`${io.style.bold(`Migrate ${plan.deployment} from ${plan.from} to ${plan.to}`)}\n\n`);
  io.write(
    renderFields(
      [
        ['From', `${plan.sourceStack}${plan.instanceId ? ` (${plan.from === 'scale' ? 'AI host' : 'host'} ${plan.instanceId})` : ''}`],
        ['To', plan.to === 'scale' ? `${plan.targetStack} + ${scaleDataStackName(plan.deployment)}` : plan.targetStack],
        ['Encryption key', `${secretName(plan.deployment, 'n8n-encryption-key')} (the same secret on both tiers)`],
        ['cdk.json', plan.config ? (plan.config.kind === 'writable' ? `${plan.config.cdkJson} ("tier": ${JSON.stringify(plan.config.current ?? 'default')} → "${plan.to}")` : plan.config.reason) : '-'],
      ],
      io.style,
    ),
  );
  if (plan.notes.length) io.write(`\n${plan.notes.map((n) => `  note: ${n}`).join('\n')}\n`);
  io.write(`\n${io.style.bold('Plan:')}\n${plan.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`);
  io.write('\nA failure before the last step puts the source back (its stack restarted, cdk.json restored) and removes nothing.\n');
  if (plan.blocked) {
    io.write(`\n${io.style.red('Cannot migrate now:')} ${plan.blocked}\n`);
    if (plan.blockedLines?.length) io.write(`Add by hand:\n${plan.blockedLines.map((l) => `  ${l}`).join('\n')}\n`);
  }
}

function planJson(plan: MigratePlan): Record<string, unknown> {
  return {
    deployment: plan.deployment,
    from: plan.from,
    to: plan.to,
    sourceStack: plan.sourceStack,
    targetStack: plan.targetStack,
    instanceId: plan.instanceId ?? null,
    blocked: plan.blocked ?? null,
    notes: plan.notes,
    plan: plan.steps,
  };
}

export async function runMigrate(io: CommandIO, options: MigrateOptions): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Looking at ${options.name}…`);
  let plan: MigratePlan;
  try {
    plan = await assessMigration(io, options);
  } finally {
    spinner.stop();
  }
  if (plan.from === plan.to) {
    if (options.json) io.write(`${JSON.stringify({ ...planJson(plan), done: true, nothingToDo: true }, null, 2)}\n`);
    else io.write(`${options.name} already runs on the ${plan.to} tier (${plan.sourceStack}): nothing to migrate.\n`);
    return ExitCode.ok;
  }
  if (!options.json) renderPlan(io, plan);
  if (plan.blocked) {
    if (options.json) io.write(`${JSON.stringify({ ...planJson(plan), done: false }, null, 2)}\n`);
    throw new OpsError(`cannot migrate ${options.name}: ${plan.blocked}`, 'nothing was done');
  }
  let go = options.yes;
  if (!go && io.services.prompt.available && !options.json) go = await io.services.prompt.confirm(`Migrate ${options.name} from ${plan.from} to ${plan.to}?`);
  if (!go) {
    if (options.json) io.write(`${JSON.stringify({ ...planJson(plan), done: false }, null, 2)}\n`);
    else io.write('\nNothing done: run again with --yes to migrate.\n');
    return ExitCode.failure;
  }
  const started = io.services.clock.now();
  const migration = new Migration(io, plan, options);
  const outcome = plan.to === 'scale' ? { ...(await migration.toScale()), notes: [] as string[] } : await migration.fromScale();
  const elapsed = formatElapsed(io.services.clock.now() - started);
  const kept = plan.from === 'scale' ? [`${scaleDataStackName(options.name)} (RDS and Valkey) is kept and still billed: \`npx cdk destroy ${scaleDataStackName(options.name)}\` removes it, with a final snapshot`] : [];
  if (options.json) {
    io.write(`${JSON.stringify({ ...planJson(plan), done: true, set: outcome.set, seconds: Math.round((io.services.clock.now() - started) / 1000), removed: outcome.removal ? null : plan.sourceStack, removalProblem: outcome.removal ?? null, notes: [...plan.notes, ...outcome.notes, ...kept] }, null, 2)}\n`);
  } else {
    io.write(`\n${io.style.green('Migrated')} ${options.name} from ${plan.from} to ${plan.to} in ${elapsed} with backup set ${outcome.set}; the functional check passed.\n`);
    for (const note of [...outcome.notes, ...kept]) io.write(`  note: ${note}\n`);
  }
  if (outcome.removal) {
    throw new OpsError(`${options.name} now runs on ${plan.to}, but the old compute stack was not removed: ${outcome.removal}`, `delete it by hand: aws cloudformation delete-stack --stack-name ${plan.sourceStack}`);
  }
  return ExitCode.ok;
}
