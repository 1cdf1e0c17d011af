/**
 * Runs the CLI in-process with a fake context: captured stdout/stderr, a fake clock that the fake
 * sleep advances (no real waiting), an abort controller, and the AWS clients of the test.
 */
import * as os from 'node:os';
import { Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { AwsClients } from '../../src/aws/clients';
import { runCli } from '../../src/cli';
import type { OpsContext, OpsServices, ProcessRunner, Prompt, TerminalInfo } from '../../src/context';
import type { Questions } from '../../src/init/questions';

export class FakeClock {
  constructor(public current = Date.parse('2025-01-15T12:00:00Z')) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

class Capture extends Writable {
  text = '';
  isTTY = false;
  _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export interface HarnessOptions {
  readonly clients?: AwsClients;
  readonly terminal?: Partial<TerminalInfo>;
  readonly env?: NodeJS.ProcessEnv;
  /** Called on every fake sleep, after the clock advanced (e.g. to abort after N polls). */
  readonly onSleep?: (ms: number, harness: Harness) => void | Promise<void>;
  readonly monotonicMs?: () => number;
  /** Default: the system's temporary directory (outside any GeuseMaker project). */
  readonly cwd?: string;
  /** Default: fails the test if anything tries to run a program. */
  readonly processRunner?: ProcessRunner;
  /** Default: nobody at the terminal. */
  readonly prompt?: Prompt;
  /** Free-text questions (`gm-ops init`); default: none. */
  readonly questions?: Questions;
}

const noProcesses: ProcessRunner = {
  run: async (command, args) => {
    throw new Error(`this test gave the harness no process runner (tried to run ${command} ${args.join(' ')})`);
  },
};

const nobodyThere: Prompt = {
  available: false,
  confirm: async () => {
    throw new Error('this test gave the harness no prompt');
  },
};

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Harness {
  readonly clock = new FakeClock();
  readonly controller = new AbortController();
  readonly sleeps: number[] = [];
  readonly stdout = new Capture();
  readonly stderr = new Capture();
  readonly context: OpsContext;
  private ids = 0;

  constructor(readonly options: HarnessOptions = {}) {
    const services: OpsServices = {
      aws: () => {
        if (!options.clients) throw new Error('this test gave the harness no AWS clients');
        return options.clients;
      },
      clock: this.clock,
      sleep: async (ms, signal) => {
        this.sleeps.push(ms);
        this.clock.advance(ms);
        await options.onSleep?.(ms, this);
        await Promise.resolve();
        void signal;
      },
      monotonicMs: options.monotonicMs ?? (() => performance.now()),
      signal: this.controller.signal,
      terminal: { color: false, interactive: false, redraw: false, ...options.terminal },
      randomId: () => `tok${(this.ids += 1).toString().padStart(6, '0')}`,
      cwd: () => options.cwd ?? os.tmpdir(),
      processRunner: options.processRunner ?? noProcesses,
      prompt: options.prompt ?? nobodyThere,
      questions: options.questions,
    };
    this.context = {
      env: options.env ?? {},
      stdin: process.stdin,
      stdout: this.stdout,
      stderr: this.stderr,
      colorDepth: services.terminal.color ? 8 : 1,
      services,
    };
  }

  abort(): void {
    this.controller.abort();
  }

  async run(...args: string[]): Promise<RunResult> {
    const code = await runCli(args, this.context);
    return { code, stdout: this.stdout.text, stderr: this.stderr.text };
  }
}

/** One CLI run with a fresh harness. */
export function runWith(options: HarnessOptions, ...args: string[]): Promise<RunResult> {
  return new Harness(options).run(...args);
}
