/** A round's results as rows with levels (and consecutive failures under --watch), as a table or JSON. */
import { formatMs, formatTime } from '../output/format';
import type { Style } from '../output/style';
import { renderTable } from '../output/table';
import { HEALTH_THRESHOLDS, isAcceptable, levelOf, type FailureCounter, type Level } from './levels';
import type { DeploymentHealth } from './probe-round';

export interface HealthRow {
  readonly deployment: string;
  readonly service: string;
  readonly check: string;
  readonly level: Level;
  readonly latencyMs?: number;
  readonly detail: string;
  readonly consecutiveFailures: number;
}

export interface HealthRound {
  readonly round: number;
  readonly at: number;
  readonly mode: 'ssm' | 'direct';
  readonly rows: HealthRow[];
  readonly healthy: boolean;
}

export function buildRound(
  round: number,
  at: number,
  mode: 'ssm' | 'direct',
  deployments: readonly DeploymentHealth[],
  failures: FailureCounter,
): HealthRound {
  const rows: HealthRow[] = [];
  for (const deployment of deployments) {
    for (const result of deployment.results) {
      const consecutiveFailures = failures.record(`${deployment.name}/${result.service}/${result.check}`, result.outcome);
      rows.push({
        deployment: deployment.name,
        service: result.service,
        check: result.check,
        level: levelOf(result, consecutiveFailures),
        latencyMs: result.latencyMs,
        detail: result.warning ? `${result.detail} (${result.warning})` : result.detail,
        consecutiveFailures,
      });
    }
  }
  return { round, at, mode, rows, healthy: rows.every((r) => isAcceptable(r.level)) };
}

function paintLevel(row: HealthRow, style: Style, watching: boolean): string {
  const text =
    row.level === 'FAIL' && watching ? `FAIL ${row.consecutiveFailures}/${HEALTH_THRESHOLDS.criticalAfterFailures}` : row.level;
  switch (row.level) {
    case 'OK':
      return style.green(text);
    case 'WARN':
      return style.yellow(text);
    case 'FAIL':
    case 'CRITICAL':
      return style.red(style.bold(text));
    default:
      return style.dim(text);
  }
}

export function renderRound(round: HealthRound, style: Style, watching: boolean): string {
  const rows = round.rows.map((row) => [
    row.deployment,
    row.service,
    row.check,
    paintLevel(row, style, watching),
    formatMs(row.latencyMs),
    row.detail,
  ]);
  const summary = round.healthy ? style.green('healthy') : style.red('unhealthy');
  const header = watching
    ? `${style.bold(`Health (${round.mode === 'direct' ? 'direct' : 'through SSM'})`)} round ${round.round} at ${formatTime(round.at)}: ${summary}\n`
    : '';
  if (rows.length === 0) return `${header}no deployments\n`;
  return header + renderTable(['DEPLOYMENT', 'SERVICE', 'CHECK', 'STATE', 'LATENCY', 'DETAIL'], rows, style);
}

export function roundJson(round: HealthRound): object {
  return {
    round: round.round,
    at: new Date(round.at).toISOString(),
    mode: round.mode,
    healthy: round.healthy,
    services: round.rows.map((row) => ({
      deployment: row.deployment,
      service: row.service,
      check: row.check,
      state: row.level,
      latencyMs: row.latencyMs === undefined ? null : Math.round(row.latencyMs),
      detail: row.detail,
      consecutiveFailures: row.consecutiveFailures,
    })),
  };
}
