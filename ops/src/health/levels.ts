/**
 * From a probe result to a level: response time over 2 s warns, over 5 s is critical; a failure is
 * FAIL, and under --watch the third consecutive failure is CRITICAL. With --deep, a service that is
 * up but whose function failed (or could not be checked) counts as a failure.
 */
import type { FunctionResult } from './function-check';

export const HEALTH_THRESHOLDS = {
  warnMs: 2000,
  criticalMs: 5000,
  criticalAfterFailures: 3,
} as const;

export type Outcome = 'up' | 'down' | 'skipped' | 'unknown';
export type Level = 'OK' | 'WARN' | 'FAIL' | 'CRITICAL' | 'SKIP' | 'UNKNOWN';

export interface ProbeResult {
  readonly service: string;
  /** What was checked: "http /healthz/readiness", "pg_isready", "tcp 443", "host". */
  readonly check: string;
  readonly outcome: Outcome;
  readonly latencyMs?: number;
  readonly detail: string;
  /** Up, but something is off (Docker reports the container unhealthy): at least WARN. */
  readonly warning?: string;
  /** `--deep`: whether the service did its real job once (the host's functional check). */
  readonly function?: FunctionResult;
}

/** Liveness, made a failure when the service's function failed or was not checked. */
export function effectiveOutcome(result: ProbeResult): Outcome {
  if (result.outcome === 'up' && result.function && result.function.state !== 'ok') return 'down';
  return result.outcome;
}

export function levelOf(result: ProbeResult, consecutiveFailures: number): Level {
  switch (effectiveOutcome(result)) {
    case 'skipped':
      return 'SKIP';
    case 'unknown':
      return 'UNKNOWN';
    case 'down':
      return consecutiveFailures >= HEALTH_THRESHOLDS.criticalAfterFailures ? 'CRITICAL' : 'FAIL';
    case 'up': {
      const latency = result.latencyMs ?? 0;
      if (latency > HEALTH_THRESHOLDS.criticalMs) return 'CRITICAL';
      if (latency > HEALTH_THRESHOLDS.warnMs || result.warning) return 'WARN';
      return 'OK';
    }
  }
}

/** Levels that keep the exit code at 0. */
export function isAcceptable(level: Level): boolean {
  return level === 'OK' || level === 'WARN' || level === 'SKIP';
}

/** Consecutive failures per check, across --watch rounds: a success resets, skips leave it alone. */
export class FailureCounter {
  private readonly counts = new Map<string, number>();

  record(key: string, outcome: Outcome): number {
    const previous = this.counts.get(key) ?? 0;
    const next = outcome === 'down' ? previous + 1 : outcome === 'up' ? 0 : previous;
    this.counts.set(key, next);
    return next;
  }
}
