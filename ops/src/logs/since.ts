/** `--since`: a duration back from now (10m, 2h, 1h30m, 3d) or an RFC3339 time. */
import { UsageProblem } from '../errors';
import { formatTimestamp, parseTimestamp } from './timestamp';

export type SinceSpec =
  | { readonly kind: 'relative'; readonly seconds: number }
  | { readonly kind: 'absolute'; readonly ns: bigint };

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export const SINCE_RULE = 'use a duration like 30s, 10m, 2h, 1h30m or 3d, or an RFC3339 time like 2024-05-01T12:00:00Z';

export function parseSince(text: string): SinceSpec {
  const value = text.trim();
  const match = value.length > 0 ? DURATION.exec(value) : null;
  if (match) {
    const [, d = '0', h = '0', m = '0', s = '0'] = match;
    const seconds = Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
    if (seconds <= 0) throw new UsageProblem(`invalid --since "${text}": the duration must be more than zero`, SINCE_RULE);
    return { kind: 'relative', seconds };
  }
  const ns = parseTimestamp(value);
  if (ns === undefined) throw new UsageProblem(`invalid --since "${text}"`, SINCE_RULE);
  return { kind: 'absolute', ns };
}

/** The `docker logs --since` argument: Docker computes relative durations on the host itself. */
export function dockerSinceArgument(since: SinceSpec): string {
  return since.kind === 'relative' ? `${since.seconds}s` : formatTimestamp(since.ns);
}

/** The instant a since-spec designates, relative to the host's clock. */
export function sinceInstant(since: SinceSpec, hostNowNs: bigint): bigint {
  return since.kind === 'absolute' ? since.ns : hostNowNs - BigInt(since.seconds) * 1_000_000_000n;
}
