/**
 * Errors that reach the user: each one becomes exactly one line on stderr (a message and a hint)
 * and an exit code. Anything else is reported as an unexpected error, still on one line.
 */

/** Exit codes: 0 ok, 1 unhealthy or failed, 2 usage error, 130 interrupted. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class OpsError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

/** The user's invocation is wrong (bad option value, bad name, missing region): exit 2. */
export class UsageProblem extends OpsError {
  constructor(message: string, hint?: string) {
    super(message, hint, ExitCode.usage);
    this.name = 'UsageProblem';
  }
}

export class DeploymentNotFound extends OpsError {
  constructor(readonly deployment: string, region: string | undefined) {
    super(
      `deployment "${deployment}" not found${region ? ` in ${region}` : ''}`,
      'run `gm-ops list` to see the deployments in this region (or pass --region)',
    );
    this.name = 'DeploymentNotFound';
  }
}

export class HostNotRunning extends OpsError {
  constructor(deployment: string, detail: string) {
    super(`deployment "${deployment}" has no running host (${detail})`, `see \`gm-ops status ${deployment}\``);
    this.name = 'HostNotRunning';
  }
}

/** The host exists but SSM cannot run commands on it (agent offline, not registered). */
export class HostUnreachable extends OpsError {
  constructor(readonly instanceId: string, detail: string) {
    super(
      `host ${instanceId} is not reachable through SSM: ${detail}`,
      'the SSM agent may still be starting (wait a minute), or the host lost its network or IAM role; see `gm-ops status`',
    );
    this.name = 'HostUnreachable';
  }
}

/** The host may be fine, but gm-ops could not find out (an AWS call about it failed). */
export class HostStateUnknown extends OpsError {
  constructor(readonly instanceId: string, detail: string) {
    super(`the state of host ${instanceId} is unknown: ${detail}`, 'retry in a moment; see `gm-ops status`');
    this.name = 'HostStateUnknown';
  }
}

/** Ctrl-C during a one-shot command. */
export class Interrupted extends OpsError {
  constructor() {
    super('interrupted', undefined, ExitCode.interrupted);
    this.name = 'Interrupted';
  }
}

/** One line, whatever the message contains. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

export function formatErrorLine(error: OpsError, color: boolean): string {
  const prefix = color ? '\u001b[31mgm-ops:\u001b[39m' : 'gm-ops:';
  const hint = error.hint ? ` — ${oneLine(error.hint)}` : '';
  return `${prefix} ${oneLine(error.message)}${hint}\n`;
}
