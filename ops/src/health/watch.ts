/**
 * `health` once or `--watch`: rounds every interval (measured on the injected clock, waited with
 * the injected sleep) until the signal aborts; consecutive failures carry over between rounds.
 */
import type { Clock, Sleep } from '../context';
import { FailureCounter } from './levels';
import type { DeploymentHealth } from './probe-round';
import { buildRound, type HealthRound } from './report';

export interface HealthLoopOptions {
  readonly mode: 'ssm' | 'direct';
  /** Rounds run the host's functional check too (`--deep`). */
  readonly deep?: boolean;
  readonly watch: boolean;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly signal: AbortSignal;
  /** One round of probes (re-resolving the hosts: they get replaced). */
  readonly probe: () => Promise<DeploymentHealth[]>;
  readonly onRound: (round: HealthRound) => void | Promise<void>;
}

/** Returns the last completed round (undefined if interrupted before the first). */
export async function runHealthLoop(options: HealthLoopOptions): Promise<HealthRound | undefined> {
  const failures = new FailureCounter();
  let last: HealthRound | undefined;
  for (let round = 1; ; round += 1) {
    const startedAt = options.clock.now();
    const deployments = await options.probe();
    if (options.signal.aborted && last) break;
    last = buildRound(round, startedAt, options.mode, deployments, failures, options.deep === true);
    await options.onRound(last);
    if (!options.watch || options.signal.aborted) break;
    const elapsed = options.clock.now() - startedAt;
    await options.sleep(Math.max(0, options.intervalMs - elapsed), options.signal);
    if (options.signal.aborted) break;
  }
  return last;
}
