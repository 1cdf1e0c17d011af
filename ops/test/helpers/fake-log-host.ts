/**
 * A host simulated in TypeScript for the log follower: Docker's `logs` semantics (--since and --until
 * inclusive, --tail, --timestamps in RFC3339Nano), a bootstrap log file, the script's head -c caps and
 * output format — answering the follower's structured request instead of running sh. The real script
 * is exercised against a stub docker in logs-script.test.ts.
 */
import type { LogPollRequest } from '../../src/logs/request';
import { formatTimestamp, parseTimestamp } from '../../src/logs/timestamp';

export interface FakeLine {
  readonly ns: bigint;
  readonly message: string;
}

function cap(text: string, budget: number): { content: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= budget) return { content: text, truncated: false };
  return { content: bytes.subarray(0, budget).toString('utf8'), truncated: true };
}

export class FakeLogHost {
  /** The host clock. */
  nowNs = parseTimestamp('2025-01-15T12:00:00Z')!;
  readonly logs = new Map<string, FakeLine[]>();
  readonly files = new Map<string, string[]>();
  dockerAvailable = true;
  polls = 0;

  append(service: string, message: string, ns = this.nowNs): void {
    const log = this.logs.get(service) ?? [];
    log.push({ ns, message });
    this.logs.set(service, log);
  }

  private dockerLine(line: FakeLine): string {
    return `${formatTimestamp(line.ns)} ${line.message}`;
  }

  private since(value: string): bigint {
    const relative = /^(\d+)s$/.exec(value);
    if (relative) return this.nowNs - BigInt(relative[1]) * 1_000_000_000n;
    const ns = parseTimestamp(value);
    if (ns === undefined) throw new Error(`bad --since ${value}`);
    return ns;
  }

  private firstAtOrAfter(log: readonly FakeLine[], ns: bigint): number {
    let low = 0;
    let high = log.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (log[mid].ns < ns) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  answer(request: LogPollRequest): string {
    this.polls += 1;
    const M = `@@gm-ops:${request.token}`;
    const budget = request.budgetPerSource;
    let out = `${M} now ${formatTimestamp(this.nowNs)}\n`;
    if (!this.dockerAvailable) out += `${M} docker-unavailable\n`;
    for (const source of request.sources) {
      if (source.kind === 'file') {
        const file = this.files.get(source.path);
        if (!file) {
          out += `${M} missing ${source.service}\n`;
          continue;
        }
        const total = file.length;
        let start = source.startLine ?? (source.tail !== undefined ? Math.max(1, total - source.tail + 1) : 1);
        if (start > total + 1) start = 1;
        const text = file.slice(start - 1).map((l) => `${l}\n`).join('');
        const { content, truncated } = cap(text, budget);
        out += `${M} begin ${source.service} ${start}\n${content}\n${M} end ${source.service} ${truncated ? 1 : 0} 0\n`;
        continue;
      }
      const log = this.logs.get(source.service);
      if (!log || !this.dockerAvailable) {
        out += `${M} missing ${source.service}\n`;
        continue;
      }
      // The log is in timestamp order: find the range by binary search, then render only what fits.
      let from: number;
      let to = log.length;
      let pre = 0;
      if (source.tail !== undefined) {
        from = Math.max(0, log.length - source.tail);
        if (source.since !== undefined) from = Math.max(from, this.firstAtOrAfter(log, this.since(source.since)));
        if (from < to) {
          const first = log[from].ns;
          pre = from - this.firstAtOrAfter(log, first);
        }
      } else {
        from = source.since !== undefined ? this.firstAtOrAfter(log, this.since(source.since)) : 0;
        if (source.until !== undefined) to = this.firstAtOrAfter(log, parseTimestamp(source.until)! + 1n);
        from = Math.min(to, from + source.skip);
      }
      let text = '';
      for (let i = from; i < to && Buffer.byteLength(text) <= budget; i += 1) text += `${this.dockerLine(log[i])}\n`;
      const { content, truncated } = cap(text, budget);
      out += `${M} begin ${source.service}\n${content}\n${M} end ${source.service} ${truncated ? 1 : 0} ${pre}\n`;
    }
    return `${out}${M} done\n`;
  }
}
