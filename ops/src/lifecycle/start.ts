/**
 * `gm-ops start <name>`: brings the host of a stopped deployment back through its auto scaling group. It resumes the
 * group's ScheduledActions process when it is suspended (gm-ops stop suspends it), sets the desired capacity to 1,
 * waits while the group launches the host (Pending, Pending:Wait while it bootstraps, InService), then until every
 * service works: the same SSM probes and functional check as `gm-ops health --deep` (the functional check once the
 * liveness probes pass). Bounded by --timeout.
 * A running deployment is said to be running, and checked. A scale deployment is started by scale-start.ts.
 */
import { ResumeProcessesCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { CommandIO } from '../command-io';
import { ExitCode, Interrupted, OpsError } from '../errors';
import { effectiveOutcome, type ProbeResult } from '../health/levels';
import { probeSsmRound } from '../health/probe-round';
import { resolveHosts, type HostLookup } from '../discovery/hosts';
import { renderFields } from '../output/table';
import { formatElapsed } from '../restore/act';
import { bootGraceMinutes } from '../restore/assess';
import { SCHEDULED_ACTIONS_PROCESS, leavingInstances, lifecycleWords, liveInstances } from './group';
import { resolveTarget, type LifecycleTarget } from './target';

export interface StartOptions {
  readonly name: string;
  readonly json: boolean;
  /** Default: the deployment's bootstrap timeout plus a margin (as restore waits for a booting host). */
  readonly timeoutMs?: number;
  /** Between two looks at the group and the host. */
  readonly pollMs: number;
  /** Each liveness probe on the host. */
  readonly probeTimeoutMs: number;
}

type StartSituation = 'running' | 'starting' | 'stopping' | 'stopped';

export interface Verdict {
  readonly healthy: boolean;
  /** "service: detail" of what does not work (or could not be checked). */
  readonly problems: readonly string[];
}

/** Working = every check up (skipped ones aside) and every function ok: what `health --deep` exits 0 on. */
export function verdict(results: readonly ProbeResult[]): Verdict {
  const problems = results
    .filter((r) => {
      const outcome = effectiveOutcome(r);
      return outcome !== 'up' && outcome !== 'skipped';
    })
    .map((r) => `${r.service}: ${r.function && r.function.state !== 'ok' && r.outcome === 'up' ? r.function.detail : r.detail}`);
  return { healthy: problems.length === 0 && results.length > 1, problems };
}

interface StartResult {
  readonly instanceId: string;
  readonly elapsedMs: number;
  readonly results: readonly ProbeResult[];
}

function situationOf(target: LifecycleTarget): StartSituation {
  const { group } = target;
  const live = liveInstances(group);
  if (group.desired > 0 && live.some((i) => i.lifecycleState === 'InService')) return 'running';
  if (group.desired > 0) return 'starting';
  return leavingInstances(group).length > 0 ? 'stopping' : 'stopped';
}

function json(target: LifecycleTarget, situation: StartSituation, resumed: boolean, scaled: boolean, result: StartResult): unknown {
  return {
    deployment: target.name,
    region: target.region,
    computeStack: target.compute.stackName,
    autoScalingGroup: target.group.name,
    situation,
    schedule: { resumed },
    desiredCapacitySet: scaled,
    result: {
      healthy: true,
      instanceId: result.instanceId,
      secondsToHealthy: Math.round(result.elapsedMs / 1000),
      services: result.results.map((r) => ({
        service: r.service,
        outcome: effectiveOutcome(r),
        detail: r.detail,
        function: r.function ? { state: r.function.state, ms: r.function.ms ?? null, detail: r.function.detail } : null,
      })),
    },
  };
}

export async function runStart(io: CommandIO, options: StartOptions): Promise<number> {
  const { services } = io;
  const { clock, sleep, signal } = services;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  spinner.start(`Looking at ${options.name}…`);
  let target: LifecycleTarget;
  try {
    target = await resolveTarget(clients, options.name, 'start');
  } finally {
    spinner.stop();
  }
  if (target.tier === 'scale') {
    const { runScaleStart } = require('./scale-start') as typeof import('./scale-start');
    return runScaleStart(io, target, options);
  }
  const { group, name } = target;
  const situation = situationOf(target);
  const timeoutMs = options.timeoutMs ?? bootGraceMinutes(target.compute, target.tier) * 60_000;
  if (!options.json) {
    const hosts = [...liveInstances(group), ...leavingInstances(group)];
    const facts: [string, string][] = [
      ['Compute stack', `${target.compute.stackName} ${target.compute.status}`],
      ['Group', `${group.name}: desired ${group.desired}, min ${group.min}, max ${group.max}`],
      ['Host', hosts.length === 0 ? 'none' : hosts.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ')],
      ['Schedule', group.scheduleSuspended ? `${SCHEDULED_ACTIONS_PROCESS} suspended` : 'not suspended'],
    ];
    io.write(`${io.style.bold(`Start ${name}`)} (${target.region})\n\n${renderFields(facts, io.style)}\n`);
  }

  const started = clock.now();
  if (group.scheduleSuspended) {
    await clients.autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: group.name, ScalingProcesses: [SCHEDULED_ACTIONS_PROCESS] }));
    if (!options.json) io.notice(`${group.name}: ${SCHEDULED_ACTIONS_PROCESS} resumed — the schedule applies again`);
  }
  const scaled = group.desired === 0;
  if (scaled) {
    await clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group.name, MaxSize: 1, DesiredCapacity: 1 }));
    if (!options.json) io.notice(`${group.name}: desired and maximum capacity set to 1; the group launches a host${situation === 'stopping' ? ' (it waits on the single-writer fence until the old one has stopped)' : ''}`);
  } else if (situation === 'running' && !options.json) {
    io.notice(`${name} is running already; checking that every service works`);
  }

  const deadline = started + timeoutMs;
  const seen = new Map<string, string>();
  let status = 'waiting for the group to launch a host';
  let firstCheck = situation === 'running';
  try {
    for (;;) {
      if (signal.aborted) throw new Interrupted();
      const lookup: HostLookup = (await resolveHosts(clients.autoScaling, clients.ec2, [group.name])).get(group.name)!;
      const host = lookup.host;
      const leaving = host?.lifecycleState?.startsWith('Terminat') ?? false;
      if (host && !leaving && host.lifecycleState && seen.get(host.instanceId) !== host.lifecycleState) {
        seen.set(host.instanceId, host.lifecycleState);
        if (!options.json && !(firstCheck && host.lifecycleState === 'InService')) io.notice(`${host.instanceId}: ${host.lifecycleState} (${lifecycleWords(host.lifecycleState)})`);
      }
      if (host && !leaving && host.lifecycleState === 'InService' && host.state === 'running') {
        spinner.start(`Checking that every service of ${name} works on ${host.instanceId}…`);
        const probe = async (deep: boolean) =>
          (
            await probeSsmRound([{ name, tier: target.tier, compute: target.compute, lookup }], {
              timeoutMs: options.probeTimeoutMs,
              monotonicMs: services.monotonicMs,
              ssm: clients.ssm,
              sleep,
              clock,
              signal,
              randomId: services.randomId,
              deep,
            })
          )[0];
        // The liveness probes first (cheap); the functional check once every service answers.
        let round = await probe(false);
        let judged = verdict(round.results);
        if (judged.healthy) {
          round = await probe(true);
          judged = verdict(round.results);
        }
        if (judged.healthy) {
          const result = { instanceId: host.instanceId, elapsedMs: clock.now() - started, results: round.results };
          spinner.stop();
          if (options.json) io.write(`${JSON.stringify(json(target, situation, group.scheduleSuspended, scaled, result), null, 2)}\n`);
          else if (situation === 'running') io.write(`${io.style.green('Running:')} every service of ${name} works on ${host.instanceId} (functional check passed).\n`);
          else io.write(`${io.style.green('Started:')} every service of ${name} works on ${host.instanceId} (functional check passed), ${formatElapsed(result.elapsedMs)} after the start began.\n`);
          return ExitCode.ok;
        }
        status = `${host.instanceId} is in service; not working yet: ${judged.problems.join('; ')}`;
        const ageMs = host.launchedAt !== undefined ? clock.now() - host.launchedAt : Infinity;
        if (firstCheck && ageMs >= bootGraceMinutes(target.compute, target.tier) * 60_000) {
          throw new OpsError(
            `${name} is running on ${host.instanceId} but does not work: ${judged.problems.join('; ')}`,
            `\`gm-ops health ${name} --deep\` shows each service; \`gm-ops restore ${name}\` replaces an unhealthy host`,
          );
        }
      } else if (host && !leaving) {
        status = `${host.instanceId} is ${host.lifecycleState ?? host.state} (${lifecycleWords(host.lifecycleState ?? host.state)})`;
      } else if (host) {
        status = `the old host ${host.instanceId} is ${host.lifecycleState}; waiting for the group to launch a new one`;
      }
      firstCheck = false;
      const now = clock.now();
      if (now >= deadline) {
        throw new OpsError(
          `${name} does not work after ${formatElapsed(now - started)} (last seen: ${status})`,
          `see \`gm-ops status ${name}\` and \`gm-ops logs ${name}\` (the bootstrap log is /var/log/geusemaker-bootstrap.log); \`gm-ops start ${name}\` again keeps waiting`,
        );
      }
      spinner.start(`Starting ${name}: ${status}… ${formatElapsed(now - started)}`);
      await sleep(Math.min(options.pollMs, deadline - now), signal);
    }
  } finally {
    spinner.stop();
  }
}
