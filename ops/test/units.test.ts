/** Small pure pieces: timestamps, --since, output parsing, terminal decisions, spinner, tables. */
import { Writable } from 'node:stream';
import { parsePollOutput } from '../src/logs/parse-output';
import { parseSince, dockerSinceArgument } from '../src/logs/since';
import { formatTimestamp, leadingTimestamp, parseTimestamp } from '../src/logs/timestamp';
import { AdaptiveInterval } from '../src/logs/interval';
import { detectTerminal } from '../src/output/terminal';
import { createSpinner } from '../src/output/spinner';
import { createStyle } from '../src/output/style';
import { renderTable } from '../src/output/table';
import { UsageProblem } from '../src/errors';

describe('RFC3339Nano timestamps', () => {
  it('parses exactly, to the nanosecond, with offsets', () => {
    expect(parseTimestamp('2025-01-15T10:00:00.123456789Z')).toBe(1736935200123456789n);
    expect(parseTimestamp('2025-01-15T10:00:00Z')).toBe(1736935200000000000n);
    expect(parseTimestamp('2025-01-15T11:30:00.5+01:30')).toBe(1736935200500000000n);
    expect(parseTimestamp('2025-01-15T08:00:00-02:00')).toBe(1736935200000000000n);
    for (const bad of ['2025-02-30T00:00:00Z', '2025-01-15 10:00:00Z', '2025-01-15T25:00:00Z', 'yesterday', '2025-01-15T10:00:00.1234567891Z']) {
      expect(parseTimestamp(bad)).toBeUndefined();
    }
  });

  it('formats with nine digits and round-trips', () => {
    expect(formatTimestamp(1736935200000000001n)).toBe('2025-01-15T10:00:00.000000001Z');
    for (const ns of [0n, 1736935200123456789n, 1736935199999999999n]) expect(parseTimestamp(formatTimestamp(ns))).toBe(ns);
  });

  it('finds a leading timestamp of a line', () => {
    expect(leadingTimestamp('2025-01-15T10:00:00.5Z hello world')).toMatchObject({ ns: 1736935200500000000n, rest: 'hello world' });
    expect(leadingTimestamp('no timestamp here')).toBeUndefined();
  });
});

describe('--since', () => {
  it('accepts durations and RFC3339 times', () => {
    expect(parseSince('10m')).toEqual({ kind: 'relative', seconds: 600 });
    expect(parseSince('1h30m')).toEqual({ kind: 'relative', seconds: 5400 });
    expect(parseSince('3d')).toEqual({ kind: 'relative', seconds: 259200 });
    expect(dockerSinceArgument(parseSince('2h'))).toBe('7200s');
    expect(dockerSinceArgument(parseSince('2025-01-15T11:00:00+01:00'))).toBe('2025-01-15T10:00:00.000000000Z');
  });

  it('rejects anything else with what is allowed', () => {
    for (const bad of ['', '10', '10x', '-5m', 'm', '0s']) expect(() => parseSince(bad)).toThrow(UsageProblem);
    expect(() => parseSince('soon')).toThrow('invalid --since "soon"');
  });
});

describe('poll output parsing', () => {
  const M = '@@gm-ops:tok123';
  it('splits complete lines from a partial one, reads flags, survives an SSM cut', () => {
    const stdout = [
      `${M} now 2025-01-15T10:00:00.000000000Z`,
      `${M} begin a`,
      'line 1',
      'line 2',
      'partial',
      `${M} end a 1 4`,
      `${M} begin empty`,
      '',
      `${M} end empty 0 0`,
      `${M} missing gone`,
      `${M} begin cut`,
      'complete',
      'cut in the mid',
    ].join('\n');
    const out = parsePollOutput(stdout, 'tok123');
    expect(out.hostNow).toBe('2025-01-15T10:00:00.000000000Z');
    expect(out.complete).toBe(false);
    expect(out.chunks.get('a')).toMatchObject({ lines: ['line 1', 'line 2'], partial: 'partial', truncated: true, pre: 4 });
    expect(out.chunks.get('empty')).toMatchObject({ lines: [], partial: undefined, truncated: false });
    expect(out.chunks.get('gone')).toMatchObject({ status: 'missing' });
    expect(out.chunks.get('cut')).toMatchObject({ lines: ['complete'], partial: 'cut in the mid', truncated: true });
  });

  it('ignores markers forged with another token', () => {
    const stdout = `${M} begin a\n@@gm-ops:other end a 0 0\nreal\n\n${M} end a 0 0\n`;
    expect(parsePollOutput(stdout, 'tok123').chunks.get('a')!.lines).toEqual(['@@gm-ops:other end a 0 0', 'real']);
  });
});

describe('adaptive interval', () => {
  it('resets on activity and doubles up to the maximum when idle', () => {
    const interval = new AdaptiveInterval(500, 3000);
    expect([false, false, false, false, true, false].map((a) => interval.next(a))).toEqual([1000, 2000, 3000, 3000, 500, 1000]);
  });
});

describe('terminal decisions', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it('colors and spinners on an interactive terminal only', () => {
    expect(detectTerminal({}, tty, tty)).toEqual({ color: true, errorColor: true, interactive: true, redraw: true });
    expect(detectTerminal({}, pipe, pipe)).toEqual({ color: false, errorColor: false, interactive: false, redraw: false });
    expect(detectTerminal({ NO_COLOR: '1' }, tty, tty)).toEqual({ color: false, errorColor: false, interactive: true, redraw: true });
    expect(detectTerminal({ CI: 'true' }, tty, tty)).toEqual({ color: false, errorColor: false, interactive: false, redraw: false });
    expect(detectTerminal({ TERM: 'dumb' }, tty, tty)).toMatchObject({ color: false, interactive: false });
    expect(detectTerminal({ FORCE_COLOR: '1' }, pipe, pipe)).toMatchObject({ color: true, interactive: false });
    expect(detectTerminal({ FORCE_COLOR: '1', NO_COLOR: '1' }, pipe, pipe)).toMatchObject({ color: false });
    expect(detectTerminal({}, pipe, tty)).toEqual({ color: false, errorColor: true, interactive: true, redraw: false });
  });

  it('spinner: nothing at all when not interactive or with --json; ora on stderr otherwise', () => {
    class Capture extends Writable {
      text = '';
      isTTY = true;
      _write(chunk: Buffer, _e: BufferEncoding, cb: () => void) {
        this.text += chunk.toString();
        cb();
      }
      clearLine() {}
      cursorTo() {}
      moveCursor() {}
    }
    for (const [terminal, json] of [
      [{ color: false, interactive: false, redraw: false }, false],
      [{ color: true, interactive: true, redraw: true }, true],
    ] as const) {
      const stream = new Capture();
      const spinner = createSpinner(stream, terminal, json);
      spinner.start('Working');
      spinner.stop();
      expect(stream.text).toBe('');
    }
    const stream = new Capture();
    const spinner = createSpinner(stream, { color: false, interactive: true, redraw: false }, false);
    spinner.start('Working');
    spinner.stop();
    expect(stream.text).toContain('Working');
    expect(stream.text).not.toContain('\u001b[36m'); // no cyan without colors
  });
});

describe('tables', () => {
  it('pads by visible width, ignoring ANSI codes', () => {
    const style = createStyle(true);
    const table = renderTable(['A', 'B'], [[style.red('x'), 'y'], ['long', 'z']], createStyle(false));
    expect(table.replace(/\u001b\[[0-9;]*m/g, '')).toBe('A     B\nx     y\nlong  z\n');
  });
});
