/**
 * What `gm-ops status` shows about the host watchdog (docker/host/watchdog.sh): its last action (a service
 * restarted, or the host marked unhealthy for replacement), when and why. Read in the same SSM command as
 * the containers.
 */
import { HOST_PATHS } from '../contract';
import { markerOf, shellQuote } from '../host/shell';

export interface WatchdogAction {
  /** restart, or replace-host. */
  readonly action: string;
  readonly service: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly at: string;
}

export interface WatchdogStatus {
  /** Null when the watchdog has not acted since the host booted (the state lives under /run). */
  readonly lastAction: WatchdogAction | null;
}

/** Script lines printing `<marker> watchdog <the last-action line>`, or `<marker> watchdog none`. */
export function watchdogScript(token: string): string {
  const marker = markerOf(token);
  const file = shellQuote(HOST_PATHS.watchdogLastAction);
  return [
    `if [ -s ${file} ]; then printf '%s watchdog %s\\n' '${marker}' "$(head -n 1 ${file})"`,
    `else printf '%s watchdog none\\n' '${marker}'; fi`,
  ].join('\n');
}

const ACTION_LINE = /^(\d{1,12}) (\S+) (\S+) ?(.*)$/;

/** Undefined when the host printed nothing about it (an older runtime, or the script did not run). */
export function parseWatchdog(stdout: string, token: string): WatchdogStatus | undefined {
  const prefix = `${markerOf(token)} watchdog `;
  const line = stdout.split('\n').find((l) => l.startsWith(prefix));
  if (line === undefined) return undefined;
  const value = line.slice(prefix.length);
  if (value === 'none') return { lastAction: null };
  const match = ACTION_LINE.exec(value);
  if (!match) return undefined;
  const [, epochSeconds, action, service, reason] = match;
  return { lastAction: { action, service, reason, at: new Date(Number(epochSeconds) * 1000).toISOString() } };
}

const ACTION_TEXT: Record<string, (service: string) => string> = {
  restart: (service) => `restarted ${service}`,
  'replace-host': (service) => `marked the host unhealthy for replacement (${service})`,
};

/** "restarted qdrant 5m ago (2025-01-15 11:55:00Z): <reason>", or "no action yet". */
export function describeWatchdog(status: WatchdogStatus, formatWhen: (epochMs: number) => string): string {
  const last = status.lastAction;
  if (!last) return 'no action yet';
  const what = ACTION_TEXT[last.action]?.(last.service) ?? `${last.action} ${last.service}`;
  return `${what} ${formatWhen(Date.parse(last.at))}${last.reason ? `: ${last.reason}` : ''}`;
}
