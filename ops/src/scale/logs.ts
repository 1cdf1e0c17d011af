/**
 * `gm-ops logs <name>` for a scale deployment: the ECS tasks' logs from their CloudWatch log groups (the compute
 * stack's LogGroupNames output: main, worker, webhook, runner, backlog), read with FilterLogEvents, merged by time
 * and printed with the logs command's printer. `--follow` polls every 5 s from the newest event seen; events are
 * told apart by their eventId, so a line at a poll boundary is printed once. The AI host's containers (ollama,
 * qdrant, crawl4ai) are read as in the other tiers, through SSM.
 */
import type { CommandIO } from '../command-io';
import { DeploymentNotFound, ExitCode, Interrupted, UsageProblem } from '../errors';
import { createLogPrinter } from '../logs/render';
import type { SinceSpec } from '../logs/since';
import { scaleApiOf, type FilteredLogEvent } from './api';
import { readScaleLayout } from './stacks';

/** The log sources of the n8n processes and the backlog function (keys of LogGroupNames). */
export const SCALE_LOG_SOURCES = ['main', 'worker', 'webhook', 'runner', 'backlog'] as const;
export const SCALE_DEFAULT_LOG_SOURCES = ['main', 'worker', 'webhook'] as const;

const FOLLOW_INTERVAL_MS = 5000;
/** One FilterLogEvents page holds up to 10,000 events; a poll reads at most this many pages per group. */
const MAX_PAGES = 20;

export interface ScaleLogsOptions {
  readonly name: string;
  readonly sources: readonly string[];
  readonly follow: boolean;
  readonly since?: SinceSpec;
  readonly tail?: number;
  readonly json: boolean;
  readonly timestamps: boolean;
}

interface Event {
  readonly source: string;
  readonly event: FilteredLogEvent;
}

/**
 * FilterLogEvents returns the oldest events first and cannot be asked for the newest: without --since the window is
 * the last hour (10 minutes when following), so that --tail shows the newest lines of a busy group.
 */
function startOf(since: SinceSpec | undefined, now: number, follow: boolean): number {
  if (!since) return now - (follow ? 10 * 60_000 : 3_600_000);
  return since.kind === 'relative' ? now - since.seconds * 1000 : Number(since.ns / 1_000_000n);
}

export async function runScaleLogs(io: CommandIO, options: ScaleLogsOptions): Promise<number> {
  const clients = io.aws();
  const layout = await readScaleLayout(clients.cloudFormation, options.name);
  if (!layout.compute) throw new DeploymentNotFound(options.name, await clients.region());
  const groups = options.sources.map((source) => ({ source, group: layout.logGroups[source] }));
  const missing = groups.filter((g) => !g.group).map((g) => g.source);
  const known = Object.keys(layout.logGroups);
  if (missing.length === groups.length) {
    throw new UsageProblem(`${layout.compute.stackName} names no log group for ${missing.join(', ')}`, `its LogGroupNames output has: ${known.join(', ') || 'none'}`);
  }
  if (missing.length) io.notice(`no log group for ${missing.join(', ')} (LogGroupNames has ${known.join(', ')}); reading the others`);
  const api = scaleApiOf(clients);
  const print = createLogPrinter(io.write, { json: options.json, timestamps: options.timestamps, style: io.style, services: options.sources });
  const seen = new Set<string>();
  let from = startOf(options.since, io.services.clock.now(), options.follow);

  const poll = async (first: boolean): Promise<void> => {
    const events: Event[] = [];
    for (const { source, group } of groups) {
      if (!group) continue;
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await api.filterLogEvents({ logGroupName: group, startTime: from, nextToken });
        for (const event of page.events ?? []) events.push({ source, event });
        nextToken = page.nextToken;
        pages += 1;
      } while (nextToken && pages < MAX_PAGES);
      if (nextToken) io.notice(`${source}: more than ${MAX_PAGES} pages of log events since ${new Date(from).toISOString()}; narrow the window with --since`);
    }
    let fresh = events.filter(({ event }) => !event.eventId || !seen.has(event.eventId));
    fresh.sort((a, b) => (a.event.timestamp ?? 0) - (b.event.timestamp ?? 0));
    if (first && options.tail !== undefined) fresh = fresh.slice(Math.max(0, fresh.length - options.tail));
    for (const { event } of events) if (event.eventId) seen.add(event.eventId);
    for (const { source, event } of fresh) {
      print({
        service: source,
        timestamp: event.timestamp === undefined ? undefined : new Date(event.timestamp).toISOString(),
        message: (event.message ?? '').replace(/\r?\n$/, ''),
      });
    }
    // The next poll starts at the newest event seen: events of that same millisecond come again and are skipped
    // by their eventId, none is lost.
    const newest = Math.max(from, ...events.map(({ event }) => event.timestamp ?? 0));
    from = newest;
  };

  await poll(true);
  while (options.follow) {
    if (io.services.signal.aborted) break;
    await io.services.sleep(FOLLOW_INTERVAL_MS, io.services.signal);
    if (io.services.signal.aborted) break;
    await poll(false);
  }
  // Ctrl-C ends a followed stream normally (as the other tiers' logs do).
  if (!options.follow && io.services.signal.aborted) throw new Interrupted();
  return ExitCode.ok;
}
