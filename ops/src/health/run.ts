/**
 * `gm-ops health [<name>...]`: exit 0 when everything is healthy, 1 otherwise. Host tiers are probed on their host
 * (or, with --direct, at their entry); scale deployments by their own checks (scale/health.ts), in the same report.
 */
import type { CommandIO } from '../command-io';
import { ExitCode, Interrupted } from '../errors';
import { probeDirectRound, probeSsmRound, type DeploymentHealth } from './probe-round';
import { renderRound, roundJson } from './report';
import { resolveTargets, type HealthTarget } from './targets';
import { runHealthLoop } from './watch';

export interface HealthOptions {
  readonly names: readonly string[];
  readonly direct: boolean;
  /** Run the host's functional check in the same SSM command (not with `direct`). */
  readonly deep: boolean;
  readonly watch: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly json: boolean;
  /** Under --watch, mark the host of a deployment with a CRITICAL check Unhealthy (after confirmation). */
  readonly replaceOnCritical?: boolean;
  /** Confirm the replacement without asking. */
  readonly yes?: boolean;
}

const CLEAR_SCREEN = '\u001b[H\u001b[2J';

export async function runHealth(io: CommandIO, options: HealthOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const mode = options.direct ? 'direct' : 'ssm';
  const spinner = io.spinner(options.json || (options.watch && services.terminal.redraw));

  const probeHosts = (targets: readonly HealthTarget[]): Promise<DeploymentHealth[]> => {
    const round = { timeoutMs: options.timeoutMs, monotonicMs: services.monotonicMs };
    if (options.direct) return probeDirectRound(targets, round);
    return probeSsmRound(targets, {
      ...round,
      ssm: clients.ssm,
      sleep: services.sleep,
      clock: services.clock,
      signal: services.signal,
      randomId: services.randomId,
      deep: options.deep,
    });
  };
  // A scale deployment is not one host: its n8n runs on ECS, its database on RDS, its queue on ElastiCache.
  const probeScale = async (targets: readonly HealthTarget[]): Promise<DeploymentHealth[]> => {
    const { probeScaleRound } = require('../scale/health') as typeof import('../scale/health');
    return probeScaleRound(io, targets, { direct: options.direct, deep: options.deep, timeoutMs: options.timeoutMs });
  };
  const probeOnce = async (): Promise<DeploymentHealth[]> => {
    const targets = await resolveTargets(clients, options.names);
    const scale = targets.filter((t) => t.tier === 'scale');
    const hosts = targets.filter((t) => t.tier !== 'scale');
    const [hostRounds, scaleRounds] = await Promise.all([
      hosts.length > 0 || scale.length === 0 ? probeHosts(hosts) : [],
      scale.length > 0 ? probeScale(scale) : [],
    ]);
    const byName = new Map([...hostRounds, ...scaleRounds].map((d) => [d.name, d]));
    return targets.map((t) => byName.get(t.name)!);
  };

  let lastGood: DeploymentHealth[] | undefined;
  const replacer = options.replaceOnCritical
    ? new (require('./replace') as typeof import('./replace')).CriticalReplacer({
        autoScaling: clients.autoScaling,
        prompt: services.prompt,
        yes: options.yes === true,
        notice: io.notice,
      })
    : undefined;
  const probe = async (): Promise<DeploymentHealth[]> => {
    spinner.start(options.direct ? 'Probing entry points…' : options.deep ? 'Probing hosts and checking that each service works, through SSM…' : 'Probing hosts through SSM…');
    try {
      lastGood = await probeOnce();
      return lastGood;
    } catch (error) {
      // Under --watch a failed round (throttling, a network blip) is reported, not fatal.
      if (!options.watch || error instanceof Interrupted || !lastGood) throw error;
      io.notice(`round failed: ${(error as Error).message}; retrying at the next interval`);
      return lastGood.map((d) => ({ ...d, results: d.results.map((r) => ({ ...r, outcome: 'unknown' as const, detail: 'round failed' })) }));
    } finally {
      spinner.stop();
    }
  };

  const last = await runHealthLoop({
    mode,
    deep: options.deep,
    watch: options.watch,
    intervalMs: options.intervalMs,
    clock: services.clock,
    sleep: services.sleep,
    signal: services.signal,
    probe,
    onRound: async (round) => {
      if (options.json) {
        io.write(`${JSON.stringify(roundJson(round), null, options.watch ? undefined : 2)}\n`);
      } else if (options.watch) {
        io.write(`${services.terminal.redraw ? CLEAR_SCREEN : round.round > 1 ? '\n' : ''}${renderRound(round, io.style, true)}`);
      } else {
        io.write(renderRound(round, io.style, false));
      }
      if (replacer && lastGood) await replacer.act(round, new Map(lastGood.map((d) => [d.name, d])));
    },
  });
  if (!last) throw new Interrupted();
  return last.healthy ? ExitCode.ok : ExitCode.failure;
}
