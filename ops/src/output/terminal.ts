/**
 * One decision about the terminal, shared by clipanion, ora and our own output:
 * colors only on a TTY without NO_COLOR (FORCE_COLOR forces them), spinners and redraws only on an
 * interactive terminal (TTY, not CI, TERM not dumb).
 */
import type { TerminalInfo } from '../context';

interface StreamLike {
  isTTY?: boolean;
}

export function detectTerminal(env: NodeJS.ProcessEnv, stdout: StreamLike, stderr: StreamLike): TerminalInfo {
  const dumb = env.TERM === 'dumb';
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const forceColor = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0';
  const stdoutIsTTY = Boolean(stdout.isTTY);
  const stderrIsTTY = Boolean(stderr.isTTY);
  const colorOn = (isTTY: boolean): boolean => {
    if (noColor || env.FORCE_COLOR === '0') return false;
    if (forceColor) return true;
    return isTTY && !dumb && !ci;
  };
  return {
    color: colorOn(stdoutIsTTY),
    errorColor: colorOn(stderrIsTTY),
    interactive: stderrIsTTY && !dumb && !ci,
    redraw: stdoutIsTTY && !dumb && !ci,
  };
}

/** Whether lines written to stderr may carry colors. */
export function stderrColor(terminal: TerminalInfo): boolean {
  return terminal.errorColor ?? terminal.color;
}

/** Clipanion's colorDepth for the same decision. */
export function colorDepthOf(terminal: TerminalInfo): number {
  return terminal.color ? 8 : 1;
}
