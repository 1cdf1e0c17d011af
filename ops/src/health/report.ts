/** A round's results as rows with levels (and consecutive failures under --watch), as a table or JSON. */
import { formatMs, formatTime } from '../output/format';
import type { Style } from '../output/style';
import { renderTable } from '../output/table';
import type { FunctionResult } from './function-check';
import { HEALTH_THRESHOLDS, effectiveOutcome, isAcceptable, levelOf, type FailureCounter, type Level } from './levels';
import type { DeploymentHealth } from './probe-round';

export interface HealthRow {
  readonly deployment: string;
  /** The deployment's tier (dev, automation, gpu, scale), when it has a compute stack. */
  readonly tier?: string;
  readonly service: string;
  readonly check: string;
  readonly level: Level;
  readonly latencyMs?: number;
  readonly detail: string;
  readonly consecutiveFailures: number;
  /** `--deep`: the service's functional check (absent for rows that are not a service). */
  readonly function?: FunctionResult;
}

export interface HealthRound {
  readonly round: number;
  readonly at: number;
  readonly mode: 'ssm' | 'direct';
  readonly rows: HealthRow[];
  readonly healthy: boolean;
  /** The round ran the functional check (`--deep`). */
  readonly deep: boolean;
}

export function buildRound(
  round: number,
  at: number,
  mode: 'ssm' | 'direct',
  deployments: readonly DeploymentHealth[],
  failures: FailureCounter,
  deep = false,
): HealthRound {
  const rows: HealthRow[] = [];
  for (const deployment of deployments) {
    for (const result of deployment.results) {
      const consecutiveFailures = failures.record(`${deployment.name}/${result.service}/${result.check}`, effectiveOutcome(result));
      rows.push({
        deployment: deployment.name,
        ...(deployment.tier ? { tier: deployment.tier } : {}),
        service: result.service,
        check: result.check,
        level: levelOf(result, consecutiveFailures),
        latencyMs: result.latencyMs,
        detail: result.warning ? `${result.detail} (${result.warning})` : result.detail,
        consecutiveFailures,
        ...(result.function ? { function: result.function } : {}),
      });
    }
  }
  return { round, at, mode, rows, healthy: rows.every((r) => isAcceptable(r.level)), deep };
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

function paintFunction(result: FunctionResult | undefined, style: Style): string {
  if (!result) return style.dim('-');
  if (result.state === 'ok') return style.green(`ok ${formatMs(result.ms)}`);
  if (result.state === 'fail') return style.red(style.bold(`FAIL ${formatMs(result.ms)}`));
  return style.red('not checked');
}

export function renderRound(round: HealthRound, style: Style, watching: boolean): string {
  const rows = round.rows.map((row) => {
    const cells = [row.deployment, row.service, row.check, paintLevel(row, style, watching), formatMs(row.latencyMs)];
    if (!round.deep) return [...cells, row.detail];
    // A not-checked detail already says "not checked: ..."; ok and fail details are the check's own words.
    const functionDetail = row.function ? (row.function.state === 'not checked' ? row.function.detail : `function: ${row.function.detail}`) : undefined;
    return [...cells, paintFunction(row.function, style), functionDetail ? `${row.detail} · ${functionDetail}` : row.detail];
  });
  const summary = round.healthy ? style.green('healthy') : style.red('unhealthy');
  const header = watching
    ? `${style.bold(`Health (${round.mode === 'direct' ? 'direct' : 'through SSM'})`)} round ${round.round} at ${formatTime(round.at)}: ${summary}\n`
    : '';
  if (rows.length === 0) return `${header}no deployments\n`;
  const headers = ['DEPLOYMENT', 'SERVICE', 'CHECK', 'STATE', 'LATENCY', ...(round.deep ? ['FUNCTION'] : []), 'DETAIL'];
  return header + renderTable(headers, rows, style);
}

/**
 * One document per round. `deployments` says each deployment's tier and verdict; `services` has one row per check:
 * on a host tier its host and the services on it, on a scale deployment its entry, ECS services (main, worker,
 * webhook), database, queue, AI host and AI services.
 */
export function roundJson(round: HealthRound): object {
  const deployments = new Map<string, { tier: string | null; healthy: boolean }>();
  for (const row of round.rows) {
    const seen = deployments.get(row.deployment) ?? { tier: row.tier ?? null, healthy: true };
    deployments.set(row.deployment, { ...seen, healthy: seen.healthy && isAcceptable(row.level) });
  }
  return {
    round: round.round,
    at: new Date(round.at).toISOString(),
    mode: round.mode,
    deep: round.deep,
    healthy: round.healthy,
    deployments: [...deployments].map(([deployment, d]) => ({ deployment, tier: d.tier, healthy: d.healthy })),
    services: round.rows.map((row) => ({
      deployment: row.deployment,
      tier: row.tier ?? null,
      service: row.service,
      check: row.check,
      state: row.level,
      latencyMs: row.latencyMs === undefined ? null : Math.round(row.latencyMs),
      detail: row.detail,
      consecutiveFailures: row.consecutiveFailures,
      ...(round.deep
        ? { function: row.function ? { state: row.function.state, ok: row.function.state === 'ok', ms: row.function.ms ?? null, detail: row.function.detail } : null }
        : {}),
    })),
  };
}
