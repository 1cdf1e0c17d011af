import { FailureCounter, HEALTH_THRESHOLDS, isAcceptable, levelOf, type ProbeResult } from '../src/health/levels';

const up = (latencyMs: number, warning?: string): ProbeResult => ({ service: 's', check: 'c', outcome: 'up', latencyMs, detail: '', warning });
const down: ProbeResult = { service: 's', check: 'c', outcome: 'down', detail: '' };

describe('health levels', () => {
  it('uses 2 s and 5 s response-time thresholds', () => {
    expect(HEALTH_THRESHOLDS).toEqual({ warnMs: 2000, criticalMs: 5000, criticalAfterFailures: 3 });
    expect(levelOf(up(2000), 0)).toBe('OK');
    expect(levelOf(up(2001), 0)).toBe('WARN');
    expect(levelOf(up(5000), 0)).toBe('WARN');
    expect(levelOf(up(5001), 0)).toBe('CRITICAL');
    expect(levelOf(up(10, 'docker says unhealthy'), 0)).toBe('WARN');
  });

  it('a failure is FAIL until the third in a row, then CRITICAL', () => {
    const counter = new FailureCounter();
    const levels = ['down', 'down', 'down', 'up', 'down', 'skipped', 'down', 'down'].map((outcome) =>
      levelOf({ ...down, outcome: outcome as ProbeResult['outcome'] }, counter.record('k', outcome as ProbeResult['outcome'])),
    );
    expect(levels).toEqual(['FAIL', 'FAIL', 'CRITICAL', 'OK', 'FAIL', 'SKIP', 'FAIL', 'CRITICAL']);
  });

  it('OK, WARN and SKIP keep the exit code at 0', () => {
    expect(['OK', 'WARN', 'SKIP'].every((l) => isAcceptable(l as never))).toBe(true);
    expect(['FAIL', 'CRITICAL', 'UNKNOWN'].some((l) => isAcceptable(l as never))).toBe(false);
  });
});
