/**
 * `gm-ops stop <name>`: takes the host away through its auto scaling group and keeps the data. It prints the plan;
 * acts on --yes (or a yes at a terminal); suspends the group's ScheduledActions process when the deployment has a
 * schedule (a scheduled start would bring the host back); sets the desired capacity to 0; waits, showing the
 * lifecycle state, while the clean-stop hook holds the host (Terminating:Wait: PostgreSQL flushed, Qdrant
 * snapshotted, the fence released) until it is gone; then shows what the deployment costs while stopped.
 * A scale deployment (its ECS services, the workers' scaling, its AI host) is stopped by scale-stop.ts.
 */
import { SuspendProcessesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { CommandIO } from '../command-io';
import { ExitCode, Interrupted, OpsError } from '../errors';
import { renderFields } from '../output/table';
import { formatElapsed } from '../restore/act';
import {
  CLEAN_STOP_HOOK,
  SCHEDULED_ACTIONS_PROCESS,
  cleanStopHook,
  describeScheduledAction,
  leavingInstances,
  lifecycleWords,
  liveInstances,
  readGroup,
  scheduledActions,
  type GroupInstance,
  type ScheduledAction,
} from './group';
import { renderStoppedCost, stoppedCost, stopOutcomeJson, type StoppedCost } from './stopped-cost';
import { resolveTarget, type LifecycleTarget } from './target';

export interface StopOptions {
  readonly name: string;
  readonly yes: boolean;
  readonly json: boolean;
  readonly timeoutMs: number;
  /** Between two looks at the group. */
  readonly pollMs: number;
}

type StopSituation = 'running' | 'stopping' | 'stopped';

interface StopPlan {
  readonly target: LifecycleTarget;
  readonly situation: StopSituation;
  readonly schedule: readonly ScheduledAction[];
  readonly suspend: boolean;
  readonly scaleIn: boolean;
  readonly steps: readonly string[];
  readonly facts: readonly (readonly [string, string])[];
}

export function hostLine(instances: readonly GroupInstance[]): string {
  if (instances.length === 0) return 'none';
  return instances.map((i) => `${i.instanceId} ${i.lifecycleState}${i.healthStatus && i.healthStatus !== 'Healthy' ? ` (${i.healthStatus})` : ''}`).join(', ');
}

function plan(target: LifecycleTarget, schedule: readonly ScheduledAction[], heartbeatSeconds: number | undefined, timeoutMs: number): StopPlan {
  const { group, name } = target;
  const live = liveInstances(group);
  const leaving = leavingInstances(group);
  const situation: StopSituation = group.desired > 0 || live.length > 0 ? 'running' : leaving.length > 0 ? 'stopping' : 'stopped';
  const suspend = schedule.length > 0 && !group.scheduleSuspended;
  // MaxSize 0 parks the group: no scheduled start (which sets only the desired capacity) can raise it again.
  const scaleIn = group.desired > 0 || (group.max > 0 && schedule.length > 0);
  const facts: [string, string][] = [
    ['Compute stack', `${target.compute.stackName} ${target.compute.status}`],
    ['Group', `${group.name}: desired ${group.desired}, min ${group.min}, max ${group.max}`],
    ['Host', hostLine([...live, ...leaving])],
    [
      'Schedule',
      schedule.length === 0
        ? 'none'
        : `${schedule.map(describeScheduledAction).join('; ')}${group.scheduleSuspended ? ' — suspended' : ''}`,
    ],
    ['Clean stop', `lifecycle hook ${CLEAN_STOP_HOOK}${heartbeatSeconds ? ` (up to ${heartbeatSeconds} s per heartbeat)` : ''}`],
  ];
  const steps: string[] = [];
  if (suspend) {
    steps.push(`Suspend the ${SCHEDULED_ACTIONS_PROCESS} process of ${group.name}, so that the schedule cannot start the host again (\`gm-ops start ${name}\` resumes it)`);
  }
  if (scaleIn) {
    steps.push(`Set the desired and maximum capacity of ${group.name} to 0 (UpdateAutoScalingGroup): the group scales in${live.length > 0 ? ` and terminates ${live.map((i) => i.instanceId).join(', ')}` : ''}`);
  }
  if (scaleIn || situation === 'stopping') {
    steps.push(`The host stops cleanly while ${CLEAN_STOP_HOOK} holds it (Terminating:Wait): PostgreSQL flushed, Qdrant snapshotted to EFS, the single-writer fence released`);
    steps.push(`Wait until the host is gone (at most ${formatElapsed(timeoutMs)})`);
  }
  return { target, situation, schedule, suspend, scaleIn, steps, facts };
}

function renderPlan(stop: StopPlan, io: CommandIO): string {
  const { style } = io;
  const { name, region } = stop.target;
  const lines = [`${style.bold(`Stop ${name}`)} (${region})`, '', renderFields(stop.facts, style).trimEnd(), ''];
  if (stop.steps.length === 0) {
    lines.push(`${style.green('Already stopped:')} ${name} has no host${stop.schedule.length > 0 ? ' and its schedule is suspended' : ''}.`);
    return `${lines.join('\n')}\n`;
  }
  if (stop.situation === 'stopped') lines.push(`${style.yellow('Found:')} ${name} has no host, but its schedule would start one.`, '');
  if (stop.situation === 'stopping') lines.push(`${style.yellow('Found:')} ${name} is stopping already.`, '');
  lines.push(style.bold('Plan:'));
  stop.steps.forEach((step, index) => lines.push(`  ${index + 1}. ${step}`));
  lines.push('', style.dim(`Stop deletes nothing: the file system and the secrets are kept; \`gm-ops start ${name}\` brings the host back.`));
  return `${lines.join('\n')}\n`;
}

interface StopResult {
  readonly elapsedMs: number;
  readonly suspended: boolean;
}

function planJson(stop: StopPlan, confirmed: boolean, result: StopResult | undefined, cost: StoppedCost | undefined, costError: string | undefined): unknown {
  const { target } = stop;
  return {
    deployment: target.name,
    region: target.region,
    computeStack: target.compute.stackName,
    autoScalingGroup: target.group.name,
    situation: stop.situation,
    hosts: [...liveInstances(target.group), ...leavingInstances(target.group)].map((i) => ({ instanceId: i.instanceId, lifecycleState: i.lifecycleState })),
    schedule: {
      scheduledActions: stop.schedule.map((a) => ({ name: a.name, recurrence: a.recurrence ?? null, timeZone: a.timeZone ?? null, desiredCapacity: a.desiredCapacity ?? null })),
      suspended: target.group.scheduleSuspended || (result?.suspended ?? false),
    },
    steps: stop.steps,
    ...stopOutcomeJson(confirmed, result, cost, costError),
  };
}

/** Polls the group until no instance is left (and the desired capacity stays 0), showing each lifecycle state once. */
async function waitGone(io: CommandIO, target: LifecycleTarget, options: StopOptions, started: number): Promise<void> {
  const { clock, sleep, signal } = io.services;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  const deadline = started + options.timeoutMs;
  const seen = new Map<string, string>();
  try {
    for (;;) {
      if (signal.aborted) throw new Interrupted();
      const group = await readGroup(clients.autoScaling, target.group.name);
      if (!group) return; // deleted meanwhile: no host either way
      if (group.desired > 0) {
        throw new OpsError(
          `the desired capacity of ${group.name} went back to ${group.desired} while ${target.name} was stopping (a scheduled action, or someone else?)`,
          `see \`gm-ops status ${target.name}\`; run \`gm-ops stop ${target.name}\` again to stop it`,
        );
      }
      const remaining = group.instances.filter((i) => i.lifecycleState !== 'Terminated');
      for (const instance of remaining) {
        if (seen.get(instance.instanceId) === instance.lifecycleState) continue;
        seen.set(instance.instanceId, instance.lifecycleState);
        if (!options.json) io.notice(`${instance.instanceId}: ${instance.lifecycleState} (${lifecycleWords(instance.lifecycleState)})`);
      }
      if (remaining.length === 0) return;
      const now = clock.now();
      const status = remaining.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ');
      if (now >= deadline) {
        const waiting = remaining.some((i) => i.lifecycleState === 'Terminating:Wait');
        throw new OpsError(
          `${target.name} is not stopped after ${formatElapsed(now - started)}: ${status}`,
          waiting
            ? `the host is still stopping cleanly (${CLEAN_STOP_HOOK} waits up to its heartbeat timeout, then continues); \`gm-ops stop ${target.name}\` again waits for it; \`gm-ops logs ${target.name}\` shows the host`
            : `\`gm-ops stop ${target.name}\` again waits for it; see \`gm-ops status ${target.name}\``,
        );
      }
      spinner.start(`Stopping ${target.name}: ${status}… ${formatElapsed(now - started)}`);
      await sleep(Math.min(options.pollMs, deadline - now), signal);
    }
  } finally {
    spinner.stop();
  }
}

export async function runStop(io: CommandIO, options: StopOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  let stop: StopPlan;
  spinner.start(`Looking at ${options.name}…`);
  let target: LifecycleTarget;
  try {
    target = await resolveTarget(clients, options.name, 'stop');
  } finally {
    spinner.stop();
  }
  if (target.tier === 'scale') {
    const { runScaleStop } = require('./scale-stop') as typeof import('./scale-stop');
    return runScaleStop(io, target, options);
  }
  spinner.start(`Looking at ${options.name}…`);
  try {
    const [schedule, hook] = await Promise.all([scheduledActions(clients.autoScaling, target.group.name), cleanStopHook(clients.autoScaling, target.group.name)]);
    if (target.group.desired > 0 || liveInstances(target.group).length > 0) requireCleanStop(target, hook !== undefined);
    stop = plan(target, schedule, hook?.heartbeatSeconds, options.timeoutMs);
  } finally {
    spinner.stop();
  }
  const costOf = async (): Promise<{ cost?: StoppedCost; error?: string }> => {
    spinner.start(`Pricing what ${options.name} costs while stopped…`);
    try {
      return { cost: await stoppedCost(clients, options.name, services.clock) };
    } catch (error) {
      if (services.signal.aborted) throw new Interrupted();
      return { error: error instanceof Error ? error.message : String(error) };
    } finally {
      spinner.stop();
    }
  };
  const finish = async (confirmed: boolean, result: StopResult | undefined): Promise<number> => {
    const { cost, error } = await costOf();
    if (options.json) {
      io.write(`${JSON.stringify(planJson(stop, confirmed, result, cost, error), null, 2)}\n`);
    } else {
      if (result) io.write(`\n${io.style.green('Stopped:')} ${options.name} has no host, ${formatElapsed(result.elapsedMs)} after the stop began.\n`);
      if (cost) io.write(`\n${renderStoppedCost(options.name, cost, io.style)}`);
      else io.notice(`what ${options.name} costs while stopped could not be read: ${error}`);
    }
    return ExitCode.ok;
  };
  if (!options.json) io.write(renderPlan(stop, io));
  if (stop.steps.length === 0) return finish(false, undefined);

  const acting = stop.suspend || stop.scaleIn;
  if (acting && !options.yes) {
    if (services.prompt.available && !options.json) {
      if (!(await services.prompt.confirm(`Stop ${options.name}?`))) {
        io.notice('nothing done');
        return ExitCode.failure;
      }
    } else {
      if (options.json) io.write(`${JSON.stringify(planJson(stop, false, undefined, undefined, undefined), null, 2)}\n`);
      throw new OpsError('not confirmed: nothing done', `rerun with --yes to stop it: gm-ops stop ${options.name} --yes`);
    }
  }
  const started = services.clock.now();
  const group = stop.target.group.name;
  // The schedule first: a scheduled start between the two calls would otherwise bring the host back.
  if (stop.suspend) {
    await clients.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: [SCHEDULED_ACTIONS_PROCESS] }));
    if (!options.json) io.notice(`${group}: ${SCHEDULED_ACTIONS_PROCESS} suspended — the schedule will not start ${options.name} until \`gm-ops start ${options.name}\``);
  }
  if (stop.scaleIn) {
    await clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group, MaxSize: 0, DesiredCapacity: 0 }));
    if (!options.json) io.notice(`${group}: desired and maximum capacity set to 0`);
  }
  await waitGone(io, stop.target, options, started);
  return finish(acting, { elapsedMs: services.clock.now() - started, suspended: stop.suspend });
}

/**
 * A group without the clean-stop hook (a compute stack deployed before it) would terminate the host outright:
 * Qdrant's vectors on local disk since the last snapshot would be lost. Stop refuses, and says how to update.
 */
export function requireCleanStop(target: LifecycleTarget, hasHook: boolean): void {
  const { group, compute, name } = target;
  if (hasHook && group.min === 0) return;
  const why = !hasHook
    ? `${group.name} has no ${CLEAN_STOP_HOOK} lifecycle hook`
    : `${group.name} has a minimum size of ${group.min}`;
  throw new OpsError(
    `${why}: ${compute.stackName} was deployed before gm-ops stop existed, and scaling it in would not stop the host cleanly (Qdrant's newest vectors live on the host's disk until a snapshot)`,
    `update it first: npx cdk deploy ${compute.stackName} -c name=${name} -c tier=${target.tier}; then \`gm-ops stop ${name}\``,
  );
}
