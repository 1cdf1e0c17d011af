/**
 * The log cursor: for each source, where the next poll starts, so that across polls no line is lost
 * and none is printed twice.
 *
 * Docker sources: the cursor is (timestamp T, skip k) — the next poll runs `docker logs --since T`
 * (inclusive) and drops its first k lines on the host: the k lines at T that were already printed.
 * Many lines can share a timestamp across a poll boundary; counting them (not comparing messages)
 * keeps identical repeated lines apart.
 *
 * When a source was truncated by the cap, the poll's lines are printed only up to the earliest
 * truncation boundary of all sources, so the merged output stays in timestamp order; the rest is
 * fetched again next poll.
 *
 * File sources (the bootstrap log) have no reliable timestamps: their cursor is a line number.
 */
import type { LogPollRequest, SourceRequest } from './request';
import type { PollOutput, SourceChunk } from './parse-output';
import { dockerSinceArgument, sinceInstant, type SinceSpec } from './since';
import { formatTimestamp, leadingTimestamp, parseTimestamp } from './timestamp';

export interface LogRecord {
  readonly service: string;
  /** RFC3339Nano; undefined for a file line without a timestamp. */
  readonly timestamp?: string;
  readonly message: string;
  /** The line was longer than a poll's cap and was cut. */
  readonly truncated?: boolean;
}

export interface LogSource {
  readonly kind: 'docker' | 'file';
  readonly service: string;
  /** Files only. */
  readonly path?: string;
}

export interface LogCursorOptions {
  readonly sources: readonly LogSource[];
  readonly follow: boolean;
  /** Lines of history on the first poll; undefined = everything since `since`. */
  readonly tail?: number;
  readonly since?: SinceSpec;
  /** Bytes of log content per poll, all sources together. */
  readonly budget: number;
}

export interface PollResult {
  readonly records: LogRecord[];
  /** Some source had more than its share: poll again right away. */
  readonly truncated: boolean;
  /** Lines seen but kept for the next poll (ordering behind a truncated source). */
  readonly held: number;
  readonly notices: string[];
}

interface DockerCursor {
  readonly ns: bigint;
  readonly skip: number;
}

interface SourceState {
  readonly source: LogSource;
  docker?: DockerCursor;
  nextLine?: number;
  /** File lines inherit the last timestamp seen, for ordering and --since. */
  lastFileNs?: bigint;
  drained: boolean;
  missingNoticed: boolean;
}

interface Entry {
  readonly ns?: bigint;
  readonly text?: string;
  readonly message: string;
  readonly truncated?: boolean;
}

/** Minimum share of the budget per source: room for a timestamp and a useful part of a line. */
export const MIN_SOURCE_BUDGET = 512;

export class LogCursors {
  private readonly states: SourceState[];
  private polls = 0;
  private until?: string;
  private firstHostNowNs?: bigint;
  private dockerWarned = false;

  constructor(private readonly options: LogCursorOptions) {
    this.states = options.sources.map((source) => ({ source, drained: false, missingNoticed: false }));
  }

  /** Without --follow: every source has been read to the end. */
  get finished(): boolean {
    return !this.options.follow && this.polls > 0 && this.states.every((s) => s.drained);
  }

  /** Forget file positions (the host was replaced: its bootstrap log is a new file). */
  resetFiles(): void {
    for (const state of this.states) {
      if (state.source.kind === 'file') {
        state.nextLine = 1;
        state.lastFileNs = undefined;
      }
    }
  }

  buildRequest(token: string): LogPollRequest {
    const active = this.states.filter((s) => this.options.follow || !s.drained);
    const share = Math.floor(this.options.budget / Math.max(1, active.length));
    const sources: SourceRequest[] = active.map((state) => this.requestFor(state));
    return { token, budgetPerSource: Math.max(MIN_SOURCE_BUDGET, share), sources };
  }

  private requestFor(state: SourceState): SourceRequest {
    const { source } = state;
    const firstPoll = this.polls === 0;
    if (source.kind === 'file') {
      if (state.nextLine !== undefined) return { kind: 'file', service: source.service, path: source.path!, startLine: state.nextLine };
      return { kind: 'file', service: source.service, path: source.path!, tail: this.options.tail };
    }
    if (state.docker) {
      return { kind: 'docker', service: source.service, since: formatTimestamp(state.docker.ns), skip: state.docker.skip, until: this.until };
    }
    const since = firstPoll && this.options.since ? dockerSinceArgument(this.options.since) : undefined;
    if (firstPoll && this.options.tail === undefined) return { kind: 'docker', service: source.service, since, skip: 0, until: this.until };
    return { kind: 'docker', service: source.service, since, skip: 0, tail: this.options.tail ?? 0 };
  }

  consume(output: PollOutput, request: LogPollRequest): PollResult {
    const notices: string[] = [];
    const hostNowNs = output.hostNow !== undefined ? parseTimestamp(output.hostNow) : undefined;
    if (this.polls === 0) {
      this.firstHostNowNs = hostNowNs;
      if (!this.options.follow && output.hostNow && hostNowNs !== undefined) this.until = formatTimestamp(hostNowNs);
    }
    this.polls += 1;
    if (!output.dockerAvailable && !this.dockerWarned) {
      this.dockerWarned = true;
      notices.push('Docker is not answering on the host (still booting, or the daemon is down)');
    }

    // 1. Docker sources: entries, and the truncation boundary of each truncated source.
    const docker: { state: SourceState; entries: Entry[]; chunk: SourceChunk; tailMode: boolean }[] = [];
    let cutoff: bigint | undefined;
    let truncated = false;
    for (const sourceRequest of request.sources) {
      const state = this.stateOf(sourceRequest.service);
      const chunk = output.chunks.get(sourceRequest.service);
      if (!chunk) {
        // SSM stopped before this source: nothing read, ask again.
        truncated = true;
        continue;
      }
      if (chunk.status === 'missing') {
        this.onMissing(state, notices, hostNowNs);
        continue;
      }
      state.missingNoticed = false;
      if (sourceRequest.kind === 'file') continue;
      const entries = this.dockerEntries(chunk, state, notices);
      if (chunk.truncated) {
        truncated = true;
        const boundary = entries.length > 0 ? entries[entries.length - 1].ns : undefined;
        if (boundary !== undefined && (cutoff === undefined || boundary < cutoff)) cutoff = boundary;
      }
      docker.push({ state, entries, chunk, tailMode: sourceRequest.tail !== undefined });
    }

    // 2. Consume docker entries up to the cutoff; advance the cursors.
    const batches: { service: string; entries: Entry[] }[] = [];
    let held = 0;
    for (const { state, entries, chunk, tailMode } of docker) {
      let count = 0;
      while (count < entries.length && (cutoff === undefined || (entries[count].ns ?? 0n) <= cutoff)) count += 1;
      const consumed = entries.slice(0, count);
      held += entries.length - count;
      const firstNs = entries[0]?.ns;
      const pre = tailMode ? chunk.pre : 0;
      if (consumed.length > 0) {
        const lastNs = consumed[consumed.length - 1].ns!;
        const atLast = consumed.filter((e) => e.ns === lastNs).length;
        if (state.docker && state.docker.ns === lastNs) state.docker = { ns: lastNs, skip: state.docker.skip + atLast };
        else state.docker = { ns: lastNs, skip: atLast + (firstNs === lastNs ? pre : 0) };
      } else if (!state.docker) {
        if (firstNs !== undefined) state.docker = { ns: firstNs, skip: pre };
        else if (hostNowNs !== undefined) state.docker = { ns: hostNowNs, skip: 0 };
      }
      const untilNs = this.until !== undefined ? parseTimestamp(this.until) : undefined;
      state.drained =
        (!chunk.truncated && count === entries.length) ||
        (untilNs !== undefined && state.docker !== undefined && state.docker.ns > untilNs);
      if (consumed.length > 0) batches.push({ service: state.source.service, entries: consumed });
    }

    // 3. File sources: line cursor.
    for (const sourceRequest of request.sources) {
      if (sourceRequest.kind !== 'file') continue;
      const chunk = output.chunks.get(sourceRequest.service);
      if (!chunk || chunk.status !== 'content') continue;
      const state = this.stateOf(sourceRequest.service);
      if (sourceRequest.startLine !== undefined && chunk.startLine !== undefined && chunk.startLine < sourceRequest.startLine) {
        notices.push(`the ${state.source.service} log was truncated or rotated on the host; reading it from its start`);
      }
      const lines: { text: string; truncated?: boolean }[] = chunk.lines.map((text) => ({ text }));
      if (chunk.truncated) {
        truncated = true;
        if (lines.length === 0 && chunk.partial !== undefined) lines.push({ text: chunk.partial, truncated: true });
      }
      state.nextLine = (chunk.startLine ?? 1) + lines.length;
      state.drained = !chunk.truncated;
      const sinceNs =
        this.options.since && this.firstHostNowNs !== undefined ? sinceInstant(this.options.since, this.firstHostNowNs) : undefined;
      const entries: Entry[] = [];
      for (const line of lines) {
        const stamp = leadingTimestamp(line.text);
        if (stamp) state.lastFileNs = stamp.ns;
        const ns = state.lastFileNs;
        if (sinceNs !== undefined && ns !== undefined && ns < sinceNs) continue;
        entries.push({ ns, text: stamp?.text, message: line.text, truncated: line.truncated });
      }
      if (entries.length > 0) batches.push({ service: state.source.service, entries });
    }

    return { records: mergeInOrder(batches), truncated, held, notices };
  }

  private stateOf(service: string): SourceState {
    const state = this.states.find((s) => s.source.service === service);
    if (!state) throw new Error(`unknown log source ${service}`);
    return state;
  }

  private onMissing(state: SourceState, notices: string[], hostNowNs: bigint | undefined): void {
    if (!state.missingNoticed) {
      notices.push(
        state.source.kind === 'file'
          ? `no ${state.source.service} log on the host (${state.source.path})`
          : `no container for service ${state.source.service} on the host (yet)`,
      );
      state.missingNoticed = true;
    }
    // Its lines, once it appears, start after this poll began.
    if (state.source.kind === 'docker' && !state.docker && hostNowNs !== undefined) state.docker = { ns: hostNowNs, skip: 0 };
    if (state.source.kind === 'file' && state.nextLine === undefined) state.nextLine = 1;
    state.drained = true;
  }

  private dockerEntries(chunk: SourceChunk, state: SourceState, notices: string[]): Entry[] {
    const entries: Entry[] = [];
    let inherited = state.docker?.ns;
    const push = (line: string, truncatedLine: boolean) => {
      const stamp = leadingTimestamp(line);
      if (stamp) inherited = stamp.ns;
      if (inherited === undefined) {
        // Not a log line: `docker logs` itself complaining (e.g. the container went away).
        notices.push(`docker logs ${state.source.service}: ${line}`);
        return;
      }
      entries.push({
        ns: stamp ? stamp.ns : inherited,
        text: stamp ? stamp.text : undefined,
        message: stamp ? stamp.rest : line,
        truncated: truncatedLine || undefined,
      });
    };
    for (const line of chunk.lines) push(line, false);
    // A single line longer than the whole share: print what fits, marked, rather than stall.
    if (chunk.truncated && chunk.lines.length === 0 && chunk.partial !== undefined) push(chunk.partial, true);
    return entries;
  }
}

/** Stable merge by timestamp; lines without one keep their place after their predecessor. */
function mergeInOrder(batches: { service: string; entries: Entry[] }[]): LogRecord[] {
  const all: { key: bigint; order: number; record: LogRecord }[] = [];
  let order = 0;
  for (const { service, entries } of batches) {
    let key = -1n;
    for (const entry of entries) {
      if (entry.ns !== undefined) key = entry.ns;
      all.push({
        key,
        order: order++,
        record: {
          service,
          timestamp: entry.text,
          message: entry.message,
          ...(entry.truncated ? { truncated: true } : {}),
        },
      });
    }
  }
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.order - b.order));
  return all.map((x) => x.record);
}
