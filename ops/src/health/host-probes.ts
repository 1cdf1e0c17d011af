/**
 * `health` through SSM: every probe of a host in one script — curl of each HTTP service's health
 * endpoint on 127.0.0.1, pg_isready inside the postgres container, plus the containers' Docker state,
 * and with `--deep` the host's functional check. Works with nothing exposed. Probes run in parallel
 * on the host, each bounded by the probe timeout.
 */
import { z } from 'zod';
import { SERVICES } from '../contract';
import { containersScript, describeDockerHealth, parseContainers, type ContainerState } from '../host/containers';
import { findContainer, markerOf, shellQuote } from '../host/shell';
import { FUNCTION_CHECK_TIMEOUT_SECONDS, functionCheckScript, parseFunctionCheck } from './function-check';
import type { ProbeResult } from './levels';

function seconds(timeoutMs: number): string {
  return Math.max(1, Math.ceil(timeoutMs / 1000)).toString();
}

/** Seconds the whole script may run on the host (AWS-RunShellScript executionTimeout). */
export function hostProbeSeconds(timeoutMs: number, deep: boolean): number {
  return Math.max(Number(seconds(timeoutMs)) + 2, deep ? FUNCTION_CHECK_TIMEOUT_SECONDS : 0) + 30;
}

/** `functionServices`: the services the functional check is asked for by name (default: the host's own set). */
export function hostProbeScript(token: string, timeoutMs: number, deep = false, functionServices: readonly string[] = []): string {
  const marker = markerOf(token);
  const timeout = seconds(timeoutMs);
  const lines = [
    `M=${shellQuote(marker)}`,
    `d=$(mktemp -d) || exit 1`,
    `trap 'rm -rf "$d"' EXIT`,
    `clean() { head -c 200 | tr '\\t\\n\\r' '   '; }`,
    `probe_http() {`,
    `  r=$(curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time ${timeout} "http://127.0.0.1:$2$3" 2>"$d/$1.err"); rc=$?`,
    `  printf '%s probe\\t%s\\thttp\\t%s\\t%s\\t%s\\n' "$M" "$1" "$rc" "$r" "$(clean < "$d/$1.err")"`,
    `}`,
    `probe_pg() {`,
    `  ${findContainer('postgres')}`,
    `  if [ -z "$id" ]; then printf '%s probe\\tpostgres\\tpg_isready\\t-1\\t\\tno container\\n' "$M"; return; fi`,
    `  s=$(date +%s%N)`,
    `  out=$(timeout ${Number(timeout) + 2} docker exec "$id" sh -c 'pg_isready -q -h 127.0.0.1 -p 5432 -U "\${POSTGRES_USER:-postgres}" -t ${timeout}; echo "pg_isready exit $?"' 2>&1); rc=$?`,
    `  e=$(date +%s%N)`,
    `  case "$out" in *"pg_isready exit "*) rc=\${out##*pg_isready exit } ;; esac`,
    `  printf '%s probe\\tpostgres\\tpg_isready\\t%s\\t0 %s\\t%s\\n' "$M" "$rc" "$(( (e - s) / 1000000 ))ms" "$(printf '%s' "$out" | clean)"`,
    `}`,
  ];
  if (deep) lines.push(functionCheckScript(functionServices), `( fc_run > "$d/zz-function.out" ) &`);
  for (const service of SERVICES) {
    if (service.health.kind === 'http') {
      lines.push(`( probe_http ${service.name} ${service.port} ${shellQuote(service.health.path)} > "$d/${service.name}.out" ) &`);
    } else {
      lines.push(`( probe_pg > "$d/${service.name}.out" ) &`);
    }
  }
  lines.push(containersScript(token), `wait`, `cat "$d"/*.out`);
  return lines.join('\n');
}

const probeLine = z.tuple([
  z.string().min(1),
  z.enum(['http', 'pg_isready']),
  z.coerce.number().int(),
  z.string(),
  z.string(),
]);

interface RawProbe {
  readonly service: string;
  readonly kind: 'http' | 'pg_isready';
  readonly exitCode: number;
  readonly httpCode?: number;
  readonly latencyMs?: number;
  readonly error: string;
}

/** `200 0.004512` (curl) or `0 12ms` (pg_isready timing). */
function parseTiming(field: string): { code?: number; latencyMs?: number } {
  const [code, time] = field.trim().split(' ');
  const result: { code?: number; latencyMs?: number } = {};
  if (code && /^\d+$/.test(code)) result.code = Number(code);
  if (time?.endsWith('ms')) result.latencyMs = Number(time.slice(0, -2));
  else if (time && !Number.isNaN(Number(time))) result.latencyMs = Number(time) * 1000;
  return result;
}

function parseProbes(stdout: string, token: string): Map<string, RawProbe> {
  const prefix = `${markerOf(token)} probe\t`;
  const probes = new Map<string, RawProbe>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const parsed = probeLine.safeParse(line.slice(prefix.length).split('\t'));
    if (!parsed.success) continue;
    const [service, kind, exitCode, timing, error] = parsed.data;
    const { code, latencyMs } = parseTiming(timing);
    probes.set(service, { service, kind, exitCode, httpCode: code, latencyMs, error: error.trim() });
  }
  return probes;
}

const CURL_ERRORS: Record<number, string> = {
  6: 'cannot resolve host',
  7: 'connection refused (nothing listening)',
  28: 'no response within the probe timeout',
  52: 'empty reply',
  56: 'connection reset',
};

const PG_ERRORS: Record<number, string> = {
  1: 'server is rejecting connections (starting up?)',
  2: 'no response',
  3: 'no attempt made (bad parameters)',
  124: 'no response within the probe timeout',
};

function probeOutcome(raw: RawProbe | undefined, timeoutMs: number, path?: string): Omit<ProbeResult, 'service' | 'check'> {
  if (!raw) return { outcome: 'unknown', detail: 'the host returned no result for this probe' };
  if (raw.kind === 'pg_isready') {
    if (raw.exitCode === -1) return { outcome: 'down', detail: 'no postgres container' };
    if (raw.exitCode === 0) return { outcome: 'up', latencyMs: raw.latencyMs, detail: 'accepting connections' };
    return { outcome: 'down', latencyMs: raw.latencyMs, detail: PG_ERRORS[raw.exitCode] ?? `pg_isready exit ${raw.exitCode}: ${raw.error}` };
  }
  if (raw.exitCode === 0 && raw.httpCode !== undefined && raw.httpCode >= 200 && raw.httpCode < 400) {
    return { outcome: 'up', latencyMs: raw.latencyMs, detail: `HTTP ${raw.httpCode} ${path ?? ''}`.trim() };
  }
  if (raw.exitCode === 0) return { outcome: 'down', latencyMs: raw.latencyMs, detail: `HTTP ${raw.httpCode ?? '?'} ${path ?? ''}`.trim() };
  if (raw.exitCode === 28) return { outcome: 'down', latencyMs: timeoutMs, detail: CURL_ERRORS[28] };
  return { outcome: 'down', latencyMs: raw.latencyMs, detail: CURL_ERRORS[raw.exitCode] ?? `curl exit ${raw.exitCode}: ${raw.error}` };
}

function withContainer(result: ProbeResult, container: ContainerState | undefined, dockerAvailable: boolean): ProbeResult {
  if (!dockerAvailable) return { ...result, outcome: 'down', detail: `${result.detail} · Docker is not answering` };
  if (!container || container.state === 'missing') return { ...result, outcome: 'down', detail: 'no container' };
  if (container.state !== 'running') {
    return { ...result, outcome: 'down', detail: `container ${container.state}${container.restarts ? `, ${container.restarts} restarts` : ''}` };
  }
  const docker = describeDockerHealth(container.health);
  const detail = `${result.detail} · ${container.health === 'none' ? docker : `docker ${docker}`}`;
  if (result.outcome === 'up' && container.health === 'unhealthy') return { ...result, detail, warning: 'Docker reports the container unhealthy' };
  return { ...result, detail };
}

/** One ProbeResult per contract service; with `deep`, each carries its functional check's result. */
export function parseHostProbes(stdout: string, token: string, timeoutMs: number, deep = false): ProbeResult[] {
  const probes = parseProbes(stdout, token);
  const { containers, dockerAvailable } = parseContainers(stdout, token);
  const functions = deep ? parseFunctionCheck(stdout, token) : undefined;
  return SERVICES.map((service) => {
    const path = service.health.kind === 'http' ? service.health.path : undefined;
    const check = path ? `http ${path}` : 'pg_isready';
    const base: ProbeResult = { service: service.name, check, ...probeOutcome(probes.get(service.name), timeoutMs, path) };
    const live = withContainer(base, containers.find((c) => c.service === service.name), dockerAvailable);
    return functions ? { ...live, function: functions.get(service.name) } : live;
  });
}
