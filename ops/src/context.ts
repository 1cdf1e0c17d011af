/**
 * What every command receives besides its options: the clipanion context (stdio, env) plus the
 * injectable services. Tests build a fake one (fake AWS clients, fake clock and sleep, captured
 * stdio); `main.ts` builds the real one.
 */
import type { BaseContext } from 'clipanion';
import type { AwsClientFactory } from './aws/clients';

/** Wall-clock time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** Waits `ms` milliseconds; resolves early (without throwing) when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What the terminal allows, decided once from the streams and the environment. */
export interface TerminalInfo {
  /** ANSI colors in our own output and clipanion's. */
  readonly color: boolean;
  /** Spinners on stderr: stderr is a TTY, not CI, TERM is not dumb. */
  readonly interactive: boolean;
  /** Redraw in place on stdout (`health --watch`): stdout is a TTY, not CI, TERM is not dumb. */
  readonly redraw: boolean;
}

export interface OpsServices {
  readonly aws: AwsClientFactory;
  readonly clock: Clock;
  readonly sleep: Sleep;
  /** Monotonic milliseconds, for measuring latencies of real network probes. */
  readonly monotonicMs: () => number;
  /** Aborted on Ctrl-C: long-running loops (`logs -f`, `health --watch`) stop cleanly. */
  readonly signal: AbortSignal;
  readonly terminal: TerminalInfo;
  /** A random token (markers in host scripts that log lines cannot forge). */
  readonly randomId: () => string;
}

export interface OpsContext extends BaseContext {
  services: OpsServices;
}
