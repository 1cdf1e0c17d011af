/**
 * RFC3339 timestamps as exact bigint nanoseconds since the epoch (Docker prints nanoseconds; a JS
 * Date would round them away and break the cursor).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;
const NS_PER_SECOND = 1_000_000_000n;

export function parseTimestamp(text: string): bigint | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59));
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  let seconds = BigInt(Math.floor(ms / 1000)) + (s === 60 ? 1n : 0n);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const offset = BigInt(Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
    seconds -= sign * offset;
  }
  return seconds * NS_PER_SECOND + BigInt(fraction.padEnd(9, '0') || '0');
}

/** RFC3339Nano in UTC with all nine digits: 2024-05-01T10:00:00.123456789Z. */
export function formatTimestamp(ns: bigint): string {
  let seconds = ns / NS_PER_SECOND;
  let nanos = ns % NS_PER_SECOND;
  if (nanos < 0n) {
    nanos += NS_PER_SECOND;
    seconds -= 1n;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${nanos.toString().padStart(9, '0')}Z`;
}

export function nsFromMs(ms: number): bigint {
  return BigInt(Math.round(ms)) * 1_000_000n;
}

/** A leading RFC3339 timestamp of a line (`2024-...Z message`), if any. */
export function leadingTimestamp(line: string): { ns: bigint; text: string; rest: string } | undefined {
  const space = line.indexOf(' ');
  const head = space < 0 ? line : line.slice(0, space);
  if (head.length < 20 || head.length > 40) return undefined;
  const ns = parseTimestamp(head);
  if (ns === undefined) return undefined;
  return { ns, text: head, rest: space < 0 ? '' : line.slice(space + 1) };
}
