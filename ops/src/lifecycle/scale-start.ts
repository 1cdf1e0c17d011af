/**
 * `gm-ops start <name>` of a scale deployment: the AI host first (its group's ScheduledActions resumed when
 * suspended, maximum and desired capacity 1), then n8n's ECS services back to what the deployed template declares
 * (GetTemplate of `GeuseScale-<name>`): the main's and the webhook processors' DesiredCount (UpdateService), the
 * workers' scalable target's MinCapacity and MaxCapacity (RegisterScalableTarget: Application Auto Scaling moves the
 * workers' count into that range at once, and the scaling policies own it again). Then it waits until the
 * deployment works: the checks of `gm-ops health <name> --deep` (scale/health.ts), liveness first, then the AI host's
 * functional check. A running deployment is said to be running, and checked once.
 */
import { ResumeProcessesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { toOpsError } from '../aws/classify-error';
import type { CommandIO } from '../command-io';
import { resolveHosts } from '../discovery/hosts';
import { ExitCode, Interrupted, OpsError } from '../errors';
import { renderFields } from '../output/table';
import { formatElapsed } from '../restore/act';
import { bootGraceMinutes } from '../restore/assess';
import { scaleApiOf } from '../scale/api';
import { scaleChecks, type ScaleCheck } from '../scale/health';
import { SCHEDULED_ACTIONS_PROCESS, leavingInstances, lifecycleWords, liveInstances } from './group';
import { ECS_DESIRED_COUNT, readDeclaredCounts, readScaleNow, serviceLabel, type DeclaredCounts, type ScaleNow } from './scale-state';
import type { StartOptions } from './start';
import type { LifecycleTarget } from './target';

interface Action {
  readonly call: string;
  readonly done: string;
  readonly run: () => Promise<unknown>;
}

function actionsOf(io: CommandIO, target: LifecycleTarget, now: ScaleNow, declared: DeclaredCounts, notes: string[]): Action[] {
  const clients = io.aws();
  const api = scaleApiOf(clients);
  const { group } = target;
  const { cluster } = now.layout;
  const actions: Action[] = [];
  if (group.scheduleSuspended) {
    actions.push({
      call: `ResumeProcesses of ${group.name}`,
      done: `${group.name}: ${SCHEDULED_ACTIONS_PROCESS} resumed — the schedule applies again`,
      run: () => clients.autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: group.name, ScalingProcesses: [SCHEDULED_ACTIONS_PROCESS] })),
    });
  }
  if (group.desired === 0) {
    actions.push({
      call: `UpdateAutoScalingGroup of ${group.name}`,
      done: `${group.name}: desired and maximum capacity 1; the group launches the AI host`,
      run: () => clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.name, MaxSize: 1, DesiredCapacity: 1 })),
    });
  }
  for (const s of now.services) {
    if (!s.exists || s.process === 'worker') continue;
    const count = declared.desired[s.process];
    if (count === undefined) {
      if (s.desired === 0) notes.push(`${target.compute.stackName} declares no DesiredCount for ${serviceLabel(s)}: left at 0`);
      continue;
    }
    if (s.desired === count) continue;
    actions.push({
      call: `UpdateService of ${serviceLabel(s)}`,
      done: `${serviceLabel(s)}: desired count ${count}, as the stack declares`,
      run: () => api.updateService({ cluster, service: s.serviceName, desiredCount: count }),
    });
  }
  const worker = now.services.find((s) => s.process === 'worker' && s.exists);
  if (worker && now.workers) {
    const bounds = now.workers.bounds;
    const wanted = declared.workers;
    const resourceId = now.workers.resourceId;
    if (!wanted) notes.push(`${target.compute.stackName} declares no scalable target for ${serviceLabel(worker)}: its scaling is left as it is`);
    else if (!bounds || bounds.min !== wanted.min || bounds.max !== wanted.max) {
      actions.push({
        call: `RegisterScalableTarget of ${resourceId}`,
        done: `the workers' scalable target: minimum ${wanted.min}, maximum ${wanted.max}, as the stack declares`,
        run: () => api.registerScalableTarget({ ServiceNamespace: 'ecs', ResourceId: resourceId, ScalableDimension: ECS_DESIRED_COUNT, MinCapacity: wanted.min, MaxCapacity: wanted.max }),
      });
    }
  }
  return actions;
}

const failingText = (checks: readonly ScaleCheck[]) =>
  checks
    .filter((c) => !c.ok)
    .map((c) => `${c.part}: ${c.detail}`)
    .join('; ');

export async function runScaleStart(io: CommandIO, target: LifecycleTarget, options: StartOptions): Promise<number> {
  const { services } = io;
  const { clock, sleep, signal } = services;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  const { group, name } = target;
  let now: ScaleNow;
  let declared: DeclaredCounts;
  spinner.start(`Looking at ${name}…`);
  try {
    [now, declared] = await Promise.all([readScaleNow(clients, name), readDeclaredCounts(clients.cloudFormation, target.compute.stackName)]);
  } finally {
    spinner.stop();
  }
  const notes: string[] = [];
  const actions = actionsOf(io, target, now, declared, notes);
  const running = actions.length === 0;
  const timeoutMs = options.timeoutMs ?? bootGraceMinutes(target.compute, 'scale') * 60_000;
  if (!options.json) {
    const hosts = [...liveInstances(group), ...leavingInstances(group)];
    const servicesLine = now.services.map((s) => (s.exists ? `${s.process} ${s.running}/${s.desired}` : `${s.process} ${s.serviceName} missing`)).join(' · ');
    const declaredLine = [
      ...now.services.filter((s) => declared.desired[s.process] !== undefined).map((s) => `${s.process} ${declared.desired[s.process]}`),
      ...(declared.workers ? [`workers ${declared.workers.min} to ${declared.workers.max}`] : []),
    ].join(' · ');
    const facts: [string, string][] = [
      ['Compute stack', `${target.compute.stackName} ${target.compute.status}`],
      ['Services', `${servicesLine || 'none'} (running/desired tasks)`],
      ['Worker scaling', now.workers?.bounds ? `${now.workers.bounds.min} to ${now.workers.bounds.max}` : 'no scalable target'],
      ['Declared', declaredLine || 'nothing'],
      ['AI host group', `${group.name}: desired ${group.desired}, min ${group.min}, max ${group.max}`],
      ['AI host', hosts.length === 0 ? 'none' : hosts.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ')],
      ['Schedule', group.scheduleSuspended ? `${SCHEDULED_ACTIONS_PROCESS} suspended` : 'not suspended'],
    ];
    io.write(`${io.style.bold(`Start ${name}`)} (${target.region}, scale)\n\n${renderFields(facts, io.style)}\n`);
    for (const note of notes) io.notice(note);
    if (running) io.notice(`${name} is running already; checking that every part works`);
  }

  const started = clock.now();
  const done: string[] = [];
  for (const action of actions) {
    if (signal.aborted) throw new Interrupted();
    try {
      await action.run();
    } catch (error) {
      if (error instanceof Interrupted) throw error;
      const cause = toOpsError(error);
      throw new OpsError(
        `starting ${name} failed at ${action.call}: ${cause.message}`,
        `${cause.hint ? `${cause.hint}; ` : ''}done before it: ${done.length > 0 ? done.join(', ') : 'nothing'}; \`gm-ops start ${name}\` again does only what is left`,
      );
    }
    done.push(action.done);
    if (!options.json) io.notice(action.done);
  }

  const deadline = started + timeoutMs;
  const seen = new Map<string, string>();
  const checkOptions = { name, timeoutMs: options.probeTimeoutMs, json: options.json };
  try {
    for (;;) {
      if (signal.aborted) throw new Interrupted();
      const host = (await resolveHosts(clients.autoScaling, clients.ec2, [group.name])).get(group.name)?.host;
      if (host?.lifecycleState && !host.lifecycleState.startsWith('Terminat') && seen.get(host.instanceId) !== host.lifecycleState) {
        seen.set(host.instanceId, host.lifecycleState);
        if (!options.json && !(running && host.lifecycleState === 'InService')) io.notice(`AI host ${host.instanceId}: ${host.lifecycleState} (${lifecycleWords(host.lifecycleState)})`);
      }
      spinner.start(`Checking that every part of ${name} works…`);
      // Liveness first (cheap); the AI host's functional check once everything answers.
      let checks = await scaleChecks(io, now.layout, { ...checkOptions, deep: false });
      if (checks.every((c) => c.ok)) checks = await scaleChecks(io, now.layout, { ...checkOptions, deep: true });
      spinner.stop();
      if (checks.every((c) => c.ok)) {
        const elapsedMs = clock.now() - started;
        if (options.json) {
          io.write(
            `${JSON.stringify(
              {
                deployment: name,
                region: target.region,
                tier: 'scale',
                computeStack: target.compute.stackName,
                autoScalingGroup: group.name,
                situation: running ? 'running' : 'stopped',
                actions: done,
                declared: { desired: declared.desired, workers: declared.workers ?? null },
                notes,
                result: { healthy: true, secondsToHealthy: Math.round(elapsedMs / 1000), checks },
              },
              null,
              2,
            )}\n`,
          );
        } else if (running) io.write(`${io.style.green('Running:')} every part of ${name} works (the AI host's functional check passed).\n`);
        else io.write(`${io.style.green('Started:')} every part of ${name} works (the AI host's functional check passed), ${formatElapsed(elapsedMs)} after the start began.\n`);
        return ExitCode.ok;
      }
      const problems = failingText(checks);
      if (running) {
        throw new OpsError(`${name} is running but does not work: ${problems}`, `\`gm-ops health ${name} --deep\` and \`gm-ops status ${name}\` show each part`);
      }
      const at = clock.now();
      if (at >= deadline) {
        throw new OpsError(
          `${name} does not work after ${formatElapsed(at - started)} (last seen: ${problems})`,
          `see \`gm-ops status ${name}\` and \`gm-ops logs ${name}\`; \`gm-ops start ${name}\` again keeps waiting`,
        );
      }
      spinner.start(`Starting ${name}: ${problems}… ${formatElapsed(at - started)}`);
      await sleep(Math.min(options.pollMs, deadline - at), signal);
    }
  } finally {
    spinner.stop();
  }
}
