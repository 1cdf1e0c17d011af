/**
 * A spinner on stderr while waiting for AWS, only on an interactive terminal and never with --json.
 * ora is loaded only when a spinner is really shown.
 */
import type { TerminalInfo } from '../context';

export interface Spinner {
  start(text: string): void;
  update(text: string): void;
  stop(): void;
}

const silent: Spinner = { start() {}, update() {}, stop() {} };

/** The spinners on screen now, so that Ctrl-C can clear their line before the process exits. */
const spinning = new Set<import('ora').Ora>();

/** Stops every spinner on screen: its line cleared, the cursor shown again. */
export function stopAllSpinners(): void {
  for (const instance of spinning) instance.stop();
  spinning.clear();
}

export function createSpinner(stderr: NodeJS.WritableStream, terminal: TerminalInfo, json: boolean): Spinner {
  if (!terminal.interactive || json) return silent;
  let instance: import('ora').Ora | undefined;
  return {
    start(text) {
      if (!instance) {
        const ora = require('ora') as typeof import('ora');
        instance = ora({
          stream: stderr,
          isEnabled: true,
          discardStdin: false,
          hideCursor: true,
          // ora colors its frame only when `color` is truthy.
          color: ((terminal.errorColor ?? terminal.color) ? 'cyan' : false) as import('ora').Color,
        });
      }
      instance.start(text);
      spinning.add(instance);
    },
    update(text) {
      if (instance) instance.text = text;
    },
    stop() {
      if (!instance) return;
      instance.stop();
      spinning.delete(instance);
    },
  };
}
