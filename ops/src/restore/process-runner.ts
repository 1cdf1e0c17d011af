/**
 * The real process runner: spawns a program (no shell), streams its stdout and stderr to the given
 * stream, and resolves with its exit code. Ctrl-C reaches the child through the terminal's process
 * group; an aborted signal also ends it (SIGINT, as a person would).
 */
import type { ProcessRunner } from '../context';

export function spawnProcessRunner(env: NodeJS.ProcessEnv): ProcessRunner {
  return {
    run(command, args, options) {
      const { spawn } = require('node:child_process') as typeof import('node:child_process');
      return new Promise((resolve, reject) => {
        const child = spawn(command, [...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.on('data', (chunk: Buffer) => options.output.write(chunk));
        child.stderr.on('data', (chunk: Buffer) => options.output.write(chunk));
        const stop = () => child.kill('SIGINT');
        options.signal?.addEventListener('abort', stop, { once: true });
        child.on('error', (error) => {
          options.signal?.removeEventListener('abort', stop);
          reject(error);
        });
        child.on('close', (code, signal) => {
          options.signal?.removeEventListener('abort', stop);
          resolve({ exitCode: code, signal: signal ?? undefined });
        });
      });
    },
  };
}
