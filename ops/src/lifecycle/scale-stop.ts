/**
 * `gm-ops stop <name>` of a scale deployment: n8n's ECS services to 0 tasks and the AI host away; the data stays.
 * In order: the main and the webhook processors to a desired count of 0 (UpdateService); the workers' scalable
 * target to minimum and maximum 0 (RegisterScalableTarget: neither the backlog nor the CPU policy can start a worker
 * any more, and Application Auto Scaling moves the count into the new range at once) and their desired count to 0;
 * then the AI host's group as on the host tiers (ScheduledActions suspended when it has a schedule, maximum and
 * desired capacity 0, the clean-stop hook holding the host while Qdrant is snapshotted). It waits until the
 * services run no task and the host is gone.
 *
 * The database (RDS) and the queue (Valkey) keep running, and billing: the plan says what they cost. gm-ops does
 * not stop the RDS instance: AWS starts a stopped DB instance again after seven days (Amazon RDS User Guide,
 * "Stopping an Amazon RDS DB instance temporarily").
 *
 * Only what is left is planned: a stopped deployment is said to be stopped, a half-stopped one gets the remaining
 * steps. A step AWS refuses ends the stop in one line that says what was done before it and how to finish.
 */
import { SuspendProcessesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { toOpsError } from '../aws/classify-error';
import type { CommandIO } from '../command-io';
import { money } from '../cost/render';
import { ExitCode, Interrupted, OpsError } from '../errors';
import { renderFields } from '../output/table';
import { formatElapsed } from '../restore/act';
import { scaleApiOf } from '../scale/api';
import { readDatabase, readQueue, type ResourceState } from '../scale/state';
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
  type ScheduledAction,
} from './group';
import { ECS_DESIRED_COUNT, readScaleNow, readServicesNow, serviceLabel, type ScaleNow, type ServiceNow } from './scale-state';
import { hostLine, requireCleanStop, type StopOptions } from './stop';
import { keptRunningCost, renderStoppedCost, stoppedCost, stopOutcomeJson, type StoppedCost } from './stopped-cost';
import type { LifecycleTarget } from './target';

/** Why gm-ops leaves the RDS instance running (Amazon RDS User Guide, USER_StopInstance). */
export const RDS_RESTARTS_AFTER_SEVEN_DAYS = 'gm-ops does not stop RDS: AWS starts a stopped DB instance again after seven days';

type Situation = 'running' | 'stopping' | 'stopped';

/** One write of the stop, in order. */
interface Action {
  /** What it does, for the plan. */
  readonly step: string;
  /** What AWS call, on what, for a failure line. */
  readonly call: string;
  /** What is true once it is done, for the notices and a failure line. */
  readonly done: string;
  readonly run: () => Promise<unknown>;
}

interface ScalePlan {
  readonly target: LifecycleTarget;
  readonly now: ScaleNow;
  readonly schedule: readonly ScheduledAction[];
  readonly situation: Situation;
  readonly actions: readonly Action[];
  /** The plan's lines: the actions, then what happens and the wait. */
  readonly steps: readonly string[];
  readonly facts: readonly (readonly [string, string])[];
  readonly database: ResourceState;
  readonly queue: ResourceState;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const busy = (s: ServiceNow) => s.running + s.pending;

function servicesLine(now: ScaleNow): string {
  if (now.services.length === 0) return 'none named by the stack outputs';
  return now.services
    .map((s) => {
      if (!s.exists) return `${s.process} ${s.serviceName} missing`;
      const bounds = s.process === 'worker' && now.workers?.bounds ? ` (scaling ${now.workers.bounds.min} to ${now.workers.bounds.max})` : '';
      return `${s.process} ${s.running}/${s.desired}${bounds}`;
    })
    .join(' · ');
}

function resourceLine(kind: string, resource: ResourceState): string {
  if (!resource.id) return resource.problem ?? 'unknown';
  return `${kind} ${resource.id} ${resource.status ?? `(${resource.problem ?? 'state unknown'})`}`;
}

function plan(io: CommandIO, target: LifecycleTarget, now: ScaleNow, schedule: readonly ScheduledAction[], heartbeatSeconds: number | undefined, extras: { database: ResourceState; queue: ResourceState; timeoutMs: number }): ScalePlan {
  const clients = io.aws();
  const api = scaleApiOf(clients);
  const { group, name } = target;
  const { cluster } = now.layout;
  const actions: Action[] = [];
  const updateService = (s: ServiceNow): Action => ({
    step: `Set the desired count of ${serviceLabel(s)} to 0 (UpdateService)${s.running > 0 ? `: ${plural(s.running, 'task')} ${s.running === 1 ? 'stops' : 'stop'} after n8n's graceful shutdown` : ''}`,
    call: `UpdateService of ${serviceLabel(s)}`,
    done: `${serviceLabel(s)}: desired count 0`,
    run: () => api.updateService({ cluster, service: s.serviceName, desiredCount: 0 }),
  });
  for (const s of now.services) if (s.exists && s.process !== 'worker' && s.desired > 0) actions.push(updateService(s));
  const worker = now.services.find((s) => s.process === 'worker' && s.exists);
  const bounds = now.workers?.bounds;
  if (worker && now.workers && bounds && (bounds.min > 0 || bounds.max > 0)) {
    const resourceId = now.workers.resourceId;
    actions.push({
      step: `Register the workers' scalable target with minimum and maximum 0 (RegisterScalableTarget; now ${bounds.min} to ${bounds.max}), so that neither the backlog nor the CPU scaling policy can start a worker (\`gm-ops start ${name}\` restores the bounds the stack declares)`,
      call: `RegisterScalableTarget of ${resourceId}`,
      done: `the workers' scalable target: minimum and maximum 0`,
      run: () => api.registerScalableTarget({ ServiceNamespace: 'ecs', ResourceId: resourceId, ScalableDimension: ECS_DESIRED_COUNT, MinCapacity: 0, MaxCapacity: 0 }),
    });
  }
  if (worker && worker.desired > 0) actions.push(updateService(worker));
  const live = liveInstances(group);
  const leaving = leavingInstances(group);
  if (schedule.length > 0 && !group.scheduleSuspended) {
    actions.push({
      step: `Suspend the ${SCHEDULED_ACTIONS_PROCESS} process of ${group.name}, so that the schedule cannot start the AI host again (\`gm-ops start ${name}\` resumes it)`,
      call: `SuspendProcesses of ${group.name}`,
      done: `${group.name}: ${SCHEDULED_ACTIONS_PROCESS} suspended`,
      run: () => clients.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: group.name, ScalingProcesses: [SCHEDULED_ACTIONS_PROCESS] })),
    });
  }
  // MaxSize 0 parks the group: no scheduled start (which sets only the desired capacity) can raise it again.
  const scaleIn = group.desired > 0 || (group.max > 0 && schedule.length > 0);
  if (scaleIn) {
    actions.push({
      step: `Set the desired and maximum capacity of ${group.name} to 0 (UpdateAutoScalingGroup): the group scales in${live.length > 0 ? ` and terminates the AI host ${live.map((i) => i.instanceId).join(', ')}` : ''}`,
      call: `UpdateAutoScalingGroup of ${group.name}`,
      done: `${group.name}: desired and maximum capacity 0`,
      run: () => clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.name, MaxSize: 0, DesiredCapacity: 0 })),
    });
  }
  const draining = now.services.some((s) => s.exists && busy(s) > 0) || leaving.length > 0;
  const situation: Situation = actions.length > 0 ? 'running' : draining ? 'stopping' : 'stopped';
  const steps = actions.map((a) => a.step);
  if (scaleIn || leaving.length > 0) {
    steps.push(`The AI host stops cleanly while ${CLEAN_STOP_HOOK} holds it (Terminating:Wait): Qdrant snapshotted to EFS, the single-writer fence released`);
  }
  if (situation !== 'stopped') steps.push(`Wait until the services run no task and the AI host is gone (at most ${formatElapsed(extras.timeoutMs)})`);
  const facts: [string, string][] = [
    ['Compute stack', `${target.compute.stackName} ${target.compute.status}`],
    ['Services', `${servicesLine(now)} (running/desired tasks, cluster ${now.layout.cluster})`],
    ['AI host group', `${group.name}: desired ${group.desired}, min ${group.min}, max ${group.max}`],
    ['AI host', hostLine([...live, ...leaving])],
    ['Schedule', schedule.length === 0 ? 'none' : `${schedule.map(describeScheduledAction).join('; ')}${group.scheduleSuspended ? ' — suspended' : ''}`],
    ['Clean stop', `lifecycle hook ${CLEAN_STOP_HOOK}${heartbeatSeconds ? ` (up to ${heartbeatSeconds} s per heartbeat)` : ''}`],
    ['Database', resourceLine('RDS', extras.database)],
    ['Queue', resourceLine('Valkey', extras.queue)],
  ];
  return { target, now, schedule, situation, actions, steps, facts, database: extras.database, queue: extras.queue };
}

/** "Kept running: ..." — the database and the queue, what they cost, and why RDS is not stopped. */
function keptLine(stop: ScalePlan, cost: StoppedCost | undefined, costError: string | undefined): string {
  const parts = [stop.database.id ? `the database (RDS ${stop.database.id})` : 'the database', stop.queue.id ? `the queue (Valkey ${stop.queue.id})` : 'the queue'].join(' and ');
  let price: string;
  if (!cost) price = `what they cost could not be read (${costError ?? 'unknown'})`;
  else {
    const kept = keptRunningCost(cost);
    price = !kept.found
      ? `not found by \`gm-ops cost ${stop.target.name}\``
      : kept.priced
        ? `about ${money(kept.monthlyCost)} a month (offline price table as of ${cost.asOf}, ${cost.region})`
        : `their price is not in the shipped table for ${cost.region} (\`gm-ops cost ${stop.target.name}\` asks the AWS Price List)`;
  }
  return `Kept running, and billed: ${parts}, ${price}. ${RDS_RESTARTS_AFTER_SEVEN_DAYS}.`;
}

function renderPlan(io: CommandIO, stop: ScalePlan, kept: string): string {
  const { style } = io;
  const { name, region } = stop.target;
  const lines = [`${style.bold(`Stop ${name}`)} (${region}, scale)`, '', renderFields(stop.facts, style).trimEnd(), ''];
  if (stop.situation === 'stopped') {
    lines.push(`${style.green('Already stopped:')} ${name} runs no n8n task and has no AI host${stop.schedule.length > 0 ? ', and its schedule is suspended' : ''}.`, '', kept);
    return `${lines.join('\n')}\n`;
  }
  if (stop.situation === 'stopping') lines.push(`${style.yellow('Found:')} ${name} is stopping already.`, '');
  lines.push(style.bold('Plan:'));
  stop.steps.forEach((step, index) => lines.push(`  ${index + 1}. ${step}`));
  lines.push('', kept, style.dim(`Stop deletes nothing: the database, the queue, the file system and the secrets are kept; \`gm-ops start ${name}\` brings the services and the AI host back.`));
  return `${lines.join('\n')}\n`;
}

function planJson(stop: ScalePlan, confirmed: boolean, result: { elapsedMs: number } | undefined, cost: StoppedCost | undefined, costError: string | undefined): unknown {
  const { target, now } = stop;
  const kept = cost ? keptRunningCost(cost) : undefined;
  return {
    deployment: target.name,
    region: target.region,
    tier: 'scale',
    computeStack: target.compute.stackName,
    cluster: now.layout.cluster,
    autoScalingGroup: target.group.name,
    situation: stop.situation,
    services: now.services.map((s) => ({ process: s.process, serviceName: s.serviceName, exists: s.exists, desired: s.desired, running: s.running, pending: s.pending })),
    workerScaling: now.workers?.bounds ? { min: now.workers.bounds.min, max: now.workers.bounds.max } : null,
    hosts: [...liveInstances(target.group), ...leavingInstances(target.group)].map((i) => ({ instanceId: i.instanceId, lifecycleState: i.lifecycleState })),
    schedule: {
      scheduledActions: stop.schedule.map((a) => ({ name: a.name, recurrence: a.recurrence ?? null, timeZone: a.timeZone ?? null, desiredCapacity: a.desiredCapacity ?? null })),
      suspended: target.group.scheduleSuspended || (result !== undefined && stop.actions.some((a) => a.call.startsWith('SuspendProcesses'))),
    },
    steps: stop.steps,
    keptRunning: {
      database: stop.database.id ?? null,
      queue: stop.queue.id ?? null,
      monthlyCost: kept?.found && kept.priced ? kept.monthlyCost.toString() : null,
      note: RDS_RESTARTS_AFTER_SEVEN_DAYS,
    },
    ...stopOutcomeJson(confirmed, result, cost, costError),
  };
}

/** Polls the services and the group until no task runs and no instance is left, showing each change once. */
async function waitStopped(io: CommandIO, stop: ScalePlan, options: StopOptions, started: number): Promise<void> {
  const { clock, sleep, signal } = io.services;
  const clients = io.aws();
  const { name } = stop.target;
  const spinner = io.spinner(options.json);
  const deadline = started + options.timeoutMs;
  const seen = new Map<string, string>();
  /** Each change once; a part already at rest when first seen is not worth a line. */
  const say = (key: string, value: string, text: string, atRest = false) => {
    const before = seen.get(key);
    if (before === value) return;
    seen.set(key, value);
    if (!options.json && !(before === undefined && atRest)) io.notice(text);
  };
  try {
    for (;;) {
      if (signal.aborted) throw new Interrupted();
      const [services, group] = await Promise.all([readServicesNow(clients, stop.now.layout), readGroup(clients.autoScaling, stop.target.group.name)]);
      const back = services.find((s) => s.exists && s.desired > 0);
      if (back) {
        throw new OpsError(
          `the desired count of ${serviceLabel(back)} went back to ${back.desired} while ${name} was stopping (a deploy, or someone else?)`,
          `see \`gm-ops status ${name}\`; run \`gm-ops stop ${name}\` again to stop it`,
        );
      }
      if (group && group.desired > 0) {
        throw new OpsError(
          `the desired capacity of ${group.name} went back to ${group.desired} while ${name} was stopping (a scheduled action, or someone else?)`,
          `see \`gm-ops status ${name}\`; run \`gm-ops stop ${name}\` again to stop it`,
        );
      }
      const tasks = services.filter((s) => s.exists && busy(s) > 0);
      for (const s of services.filter((x) => x.exists)) {
        say(s.serviceName, String(busy(s)), busy(s) > 0 ? `${serviceLabel(s)}: ${plural(busy(s), 'task')} still running` : `${serviceLabel(s)}: no task running`, busy(s) === 0);
      }
      const instances = (group?.instances ?? []).filter((i) => i.lifecycleState !== 'Terminated');
      for (const instance of instances) say(instance.instanceId, instance.lifecycleState, `AI host ${instance.instanceId}: ${instance.lifecycleState} (${lifecycleWords(instance.lifecycleState)})`);
      if (tasks.length === 0 && instances.length === 0) return;
      const now = clock.now();
      const status = [...tasks.map((s) => `${s.process} ${plural(busy(s), 'task')}`), ...instances.map((i) => `AI host ${i.instanceId} ${i.lifecycleState}`)].join(', ');
      if (now >= deadline) {
        const waiting = instances.some((i) => i.lifecycleState === 'Terminating:Wait');
        throw new OpsError(
          `${name} is not stopped after ${formatElapsed(now - started)}: ${status}`,
          waiting
            ? `the AI host is still stopping cleanly (${CLEAN_STOP_HOOK} waits up to its heartbeat timeout, then continues); \`gm-ops stop ${name}\` again waits for it`
            : `\`gm-ops stop ${name}\` again waits for it; see \`gm-ops status ${name}\``,
        );
      }
      spinner.start(`Stopping ${name}: ${status}… ${formatElapsed(now - started)}`);
      await sleep(Math.min(options.pollMs, deadline - now), signal);
    }
  } finally {
    spinner.stop();
  }
}

export async function runScaleStop(io: CommandIO, target: LifecycleTarget, options: StopOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  const { name } = target;
  let stop: ScalePlan;
  let cost: StoppedCost | undefined;
  let costError: string | undefined;
  spinner.start(`Looking at ${name}…`);
  try {
    const [now, schedule, hook] = await Promise.all([
      readScaleNow(clients, name),
      scheduledActions(clients.autoScaling, target.group.name),
      cleanStopHook(clients.autoScaling, target.group.name),
    ]);
    if (target.group.desired > 0 || liveInstances(target.group).length > 0) requireCleanStop(target, hook !== undefined);
    const [database, queue] = await Promise.all([readDatabase(clients, now.layout), readQueue(clients, now.layout)]);
    stop = plan(io, target, now, schedule, hook?.heartbeatSeconds, { database, queue, timeoutMs: options.timeoutMs });
    spinner.start(`Pricing what ${name} costs while stopped…`);
    try {
      cost = await stoppedCost(clients, name, services.clock);
    } catch (error) {
      if (services.signal.aborted) throw new Interrupted();
      costError = error instanceof Error ? error.message : String(error);
    }
  } finally {
    spinner.stop();
  }
  const kept = keptLine(stop, cost, costError);
  if (!options.json) io.write(renderPlan(io, stop, kept));
  const finish = (confirmed: boolean, result: { elapsedMs: number } | undefined): number => {
    if (options.json) {
      io.write(`${JSON.stringify(planJson(stop, confirmed, result, cost, costError), null, 2)}\n`);
    } else {
      if (result) io.write(`\n${io.style.green('Stopped:')} ${name} runs no n8n task and has no AI host, ${formatElapsed(result.elapsedMs)} after the stop began.\n`);
      if (cost) io.write(`\n${renderStoppedCost(name, cost, io.style)}`);
      else io.notice(`what ${name} costs while stopped could not be read: ${costError}`);
    }
    return ExitCode.ok;
  };
  if (stop.situation === 'stopped') return finish(false, undefined);

  if (stop.actions.length > 0 && !options.yes) {
    if (services.prompt.available && !options.json) {
      if (!(await services.prompt.confirm(`Stop ${name}?`))) {
        io.notice('nothing done');
        return ExitCode.failure;
      }
    } else {
      if (options.json) io.write(`${JSON.stringify(planJson(stop, false, undefined, cost, costError), null, 2)}\n`);
      throw new OpsError('not confirmed: nothing done', `rerun with --yes to stop it: gm-ops stop ${name} --yes`);
    }
  }
  const started = services.clock.now();
  const done: string[] = [];
  for (const action of stop.actions) {
    if (services.signal.aborted) throw new Interrupted();
    try {
      await action.run();
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      const cause = toOpsError(error);
      const left = stop.actions.slice(stop.actions.indexOf(action)).map((a) => a.done);
      throw new OpsError(
        `stopping ${name} failed at ${action.call}: ${cause.message}`,
        `${cause.hint ? `${cause.hint}; ` : ''}done before it: ${done.length > 0 ? done.join(', ') : 'nothing'}; not done: ${left.join(', ')}; \`gm-ops stop ${name}\` again does only what is left`,
      );
    }
    done.push(action.done);
    if (!options.json) io.notice(action.done);
  }
  await waitStopped(io, stop, options, started);
  return finish(stop.actions.length > 0, { elapsedMs: services.clock.now() - started });
}
