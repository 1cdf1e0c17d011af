/**
 * The poll loop of `gm-ops logs`: build a request from the cursors, run it on the host (one SSM
 * command for all sources), parse, print, advance. Without --follow it stops once every source is
 * drained; with --follow it paces itself (AdaptiveInterval) until the signal aborts.
 */
import type { Sleep } from '../context';
import { OpsError } from '../errors';
import { LogCursors, type LogCursorOptions, type LogRecord } from './cursor';
import { AdaptiveInterval } from './interval';
import { parsePollOutput } from './parse-output';
import type { LogPollRequest } from './request';
import { renderLogScript } from './script';

export interface FollowerOptions extends LogCursorOptions {
  /**
   * Runs a script on the host and returns its stdout; `hostChanged` when it ran on a new host
   * (the old one was replaced), whose bootstrap log is another file.
   */
  readonly run: (script: string, request: LogPollRequest) => Promise<{ stdout: string; hostChanged?: boolean }>;
  readonly emit: (record: LogRecord) => void;
  readonly notice: (message: string) => void;
  readonly sleep: Sleep;
  readonly signal: AbortSignal;
  readonly randomId: () => string;
  readonly minIntervalMs?: number;
  readonly maxIntervalMs?: number;
}

export interface FollowSummary {
  readonly polls: number;
  readonly lines: number;
}

const MAX_STALLED_POLLS = 3;

export async function followLogs(options: FollowerOptions): Promise<FollowSummary> {
  const cursors = new LogCursors(options);
  const interval = new AdaptiveInterval(options.minIntervalMs ?? 1000, options.maxIntervalMs ?? 10_000);
  let polls = 0;
  let lines = 0;
  let stalled = 0;
  while (!options.signal.aborted) {
    let request = cursors.buildRequest(options.randomId());
    if (request.sources.length === 0) break;
    const { stdout, hostChanged } = await options.run(renderLogScript(request), request);
    if (options.signal.aborted) break;
    polls += 1;
    if (hostChanged) {
      // The file positions were the old host's: read the new host's files from their start next time.
      cursors.resetFiles();
      request = { ...request, sources: request.sources.filter((s) => s.kind === 'docker') };
    }
    const result = cursors.consume(parsePollOutput(stdout, request.token), request);
    for (const notice of result.notices) options.notice(notice);
    for (const record of result.records) options.emit(record);
    lines += result.records.length;

    if (result.truncated && result.records.length === 0 && result.held === 0) {
      stalled += 1;
      if (stalled >= MAX_STALLED_POLLS) {
        throw new OpsError('the host returns log output that cannot be read as log lines', 'check the host with `gm-ops status`');
      }
    } else {
      stalled = 0;
    }
    if (cursors.finished) break;
    const more = result.truncated || result.held > 0;
    if (!options.follow) continue; // draining: poll again at once
    await options.sleep(more ? 0 : interval.next(result.records.length > 0), options.signal);
  }
  return { polls, lines };
}
