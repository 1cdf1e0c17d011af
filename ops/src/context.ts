/**
 * What every command receives besides its options: the clipanion context (stdio, env) plus the
 * injectable services. Tests build a fake one (fake AWS clients, fake clock and sleep, captured
 * stdio); `main.ts` builds the real one.
 */
import type { BaseContext } from 'clipanion';
import type { AwsClientFactory } from './aws/clients';
import type { Questions } from './init/questions';

/** Wall-clock time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** Waits `ms` milliseconds; resolves early (without throwing) when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What the terminal allows, decided once from the streams and the environment. */
export interface TerminalInfo {
  /** ANSI colors on stdout (our own output and clipanion's). */
  readonly color: boolean;
  /** ANSI colors on stderr (error lines, notices, the spinner); absent means the same as `color`. */
  readonly errorColor?: boolean;
  /** Spinners on stderr: stderr is a TTY, not CI, TERM is not dumb. */
  readonly interactive: boolean;
  /** Redraw in place on stdout (`health --watch`): stdout is a TTY, not CI, TERM is not dumb. */
  readonly redraw: boolean;
}

export interface ProcessResult {
  /** null when the process was ended by a signal. */
  readonly exitCode: number | null;
  readonly signal?: string;
}

/** Runs another program (restore runs `npx cdk deploy`): tests inject a fake, nothing is spawned. */
export interface ProcessRunner {
  /** Runs to completion with its output streamed to `output`; resolves on failure too (see the result). */
  run(
    command: string,
    args: readonly string[],
    options: { readonly cwd: string; readonly output: NodeJS.WritableStream; readonly signal?: AbortSignal },
  ): Promise<ProcessResult>;
}

/** A question to the person at the terminal (restore's confirmation). */
export interface Prompt {
  /** True only when someone can answer: stdin and stderr are terminals. */
  readonly available: boolean;
  confirm(question: string): Promise<boolean>;
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
  /** The working directory (restore looks for the GeuseMaker project from here). */
  readonly cwd: () => string;
  readonly processRunner: ProcessRunner;
  readonly prompt: Prompt;
  /** Free-text questions (`gm-ops init`); absent where nobody can answer. */
  readonly questions?: Questions;
}

export interface OpsContext extends BaseContext {
  services: OpsServices;
}
