/**
 * The process entry (bin/gm-ops.js): builds the real services (AWS SDK clients, wall clock, timers,
 * Ctrl-C) and the terminal decision, runs the CLI, sets the exit code.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createAwsClients } from './aws/clients';
import { runCli } from './cli';
import type { OpsContext, OpsServices, Sleep } from './context';
import { ExitCode, Interrupted, OpsError, formatErrorLine } from './errors';
import { stopAllSpinners } from './output/spinner';
import { colorDepthOf, detectTerminal, stderrColor } from './output/terminal';
import { spawnProcessRunner } from './restore/process-runner';
import { terminalPrompt } from './restore/prompt';
import { terminalQuestions } from './init/questions';

/** How long a command may take to end by itself after the first Ctrl-C. */
const INTERRUPT_GRACE_MS = 150;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export function createRealServices(env: NodeJS.ProcessEnv, signal: AbortSignal): OpsServices {
  return {
    aws: (options) => createAwsClients(options, env),
    clock: { now: () => Date.now() },
    sleep: realSleep,
    monotonicMs: () => performance.now(),
    signal,
    terminal: detectTerminal(env, process.stdout, process.stderr),
    randomId: () => randomBytes(9).toString('hex'),
    cwd: () => process.cwd(),
    processRunner: spawnProcessRunner(env),
    prompt: terminalPrompt(process.stdin, process.stderr),
    questions: terminalQuestions(process.stdin, process.stderr),
  };
}

function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export function main(argv: string[]): void {
  // The SDK warns on every run under Node 20 about its future Node 22 requirement: not the user's business here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // `gm-ops logs ... | head` closes the pipe: that is a normal end, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  });

  const controller = new AbortController();
  const color = stderrColor(detectTerminal(process.env, process.stdout, process.stderr));
  process.on('SIGINT', () => {
    if (controller.signal.aborted) return;
    stopAllSpinners();
    // Loops (logs -f, health --watch) end cleanly on abort and print their last lines at once; a
    // command waiting on the network does not, so the process ends itself a moment later.
    controller.abort();
    setTimeout(() => {
      process.stderr.write(formatErrorLine(new Interrupted(), color), () => process.exit(ExitCode.interrupted));
    }, INTERRUPT_GRACE_MS).unref();
  });

  const services = createRealServices(process.env, controller.signal);
  const context: OpsContext = {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    colorDepth: colorDepthOf(services.terminal),
    services,
  };
  runCli(argv, context)
    .catch((error: unknown) => {
      const problem = error instanceof OpsError ? error : new OpsError(`unexpected error: ${(error as Error)?.message ?? String(error)}`);
      process.stderr.write(formatErrorLine(problem, stderrColor(services.terminal)));
      return problem.exitCode;
    })
    .then(async (code) => {
      process.exitCode = code;
      await Promise.all([flush(process.stdout), flush(process.stderr)]);
      // Idle keep-alive sockets of the SDK must not hold the process open.
      setTimeout(() => process.exit(code), 50).unref();
    });
}
