/**
 * `health --deep`: the host's own functional check (`functional-check.sh --json`, written by the
 * runtime), run inside the same SSM command as the liveness probes. Each service does its real job
 * once with the real secrets; its outcome is reported beside the service's liveness.
 *
 * The script prints one JSON object per line, `{"service","ok","ms","detail"}`, and exits 0 (all
 * ok), 1 (some failed) or 2 (bad usage or configuration). Its output is read defensively: a line
 * that is not such an object, a service it did not report, or a host without the script (an older
 * runtime) each make that service "not checked", never a crash.
 */
import { z } from 'zod';
import { HOST_PATHS, SERVICES } from '../contract';
import { markerOf, shellQuote } from '../host/shell';

export const FUNCTION_CHECK_PATH = `${HOST_PATHS.runtimeDir}/host/functional-check.sh`;

/** The whole check may take this long on the host (a crawl, a Qdrant round trip, an n8n login). */
export const FUNCTION_CHECK_TIMEOUT_SECONDS = 150;

/** SSM keeps 24,000 characters of stdout: the check's share is capped on the host well below that. */
export const FUNCTION_CHECK_MAX_LINES = 20;
export const FUNCTION_CHECK_MAX_LINE_CHARS = 400;

export type FunctionState = 'ok' | 'fail' | 'not checked';

export interface FunctionResult {
  readonly state: FunctionState;
  readonly ms?: number;
  readonly detail: string;
}

/**
 * Script lines (POSIX sh) that run the check (of `services` by name, or the host's default set) and print `<marker> function\t<line>` per line of its
 * output, then `<marker> function-exit\t<code>\t<first stderr line>`; or `<marker> function-absent`.
 * Uses the probe script's `$M` (the marker), `$d` (its temporary directory whose `*.out` files it prints at the
 * end) and `clean` (its one-line sanitizer).
 */
export function functionCheckScript(services: readonly string[] = []): string {
  const path = shellQuote(FUNCTION_CHECK_PATH);
  const named = services.map((service) => ` --service ${shellQuote(service)}`).join('');
  return [
    `fc_run() {`,
    `  if [ ! -f ${path} ]; then printf '%s function-absent\\n' "$M"; return; fi`,
    `  timeout ${FUNCTION_CHECK_TIMEOUT_SECONDS} bash ${path} --json${named} > "$d/fc.raw" 2> "$d/fc.stderr"; fc_rc=$?`,
    `  head -n ${FUNCTION_CHECK_MAX_LINES} "$d/fc.raw" | cut -c 1-${FUNCTION_CHECK_MAX_LINE_CHARS} | tr -d '\\r' | while IFS= read -r fc_line; do`,
    `    printf '%s function\\t%s\\n' "$M" "$fc_line"`,
    `  done`,
    `  printf '%s function-exit\\t%s\\t%s\\n' "$M" "$fc_rc" "$(grep -v '^[[:space:]]*$' "$d/fc.stderr" | head -n 1 | clean)"`,
    `}`,
  ].join('\n');
}

const resultLine = z.object({
  service: z.string().min(1),
  ok: z.boolean(),
  ms: z.number().nonnegative().optional(),
  detail: z.string().optional(),
});

interface FunctionReport {
  readonly absent: boolean;
  readonly exitCode?: number;
  readonly stderr: string;
  readonly results: Map<string, z.infer<typeof resultLine>>;
  /** Lines the check printed that were not a result object. */
  readonly unreadable: number;
}

function readReport(stdout: string, token: string): FunctionReport | undefined {
  const marker = markerOf(token);
  const results = new Map<string, z.infer<typeof resultLine>>();
  let absent = false;
  let exitCode: number | undefined;
  let stderr = '';
  let unreadable = 0;
  let seen = false;
  for (const line of stdout.split('\n')) {
    if (line === `${marker} function-absent`) {
      absent = true;
      seen = true;
    } else if (line.startsWith(`${marker} function-exit\t`)) {
      const [code, error] = line.slice(`${marker} function-exit\t`.length).split('\t');
      exitCode = /^\d+$/.test(code ?? '') ? Number(code) : undefined;
      stderr = (error ?? '').trim();
      seen = true;
    } else if (line.startsWith(`${marker} function\t`)) {
      seen = true;
      const text = line.slice(`${marker} function\t`.length).trim();
      if (text === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        unreadable += 1;
        continue;
      }
      const result = resultLine.safeParse(parsed);
      if (!result.success) unreadable += 1;
      else if (!results.has(result.data.service)) results.set(result.data.service, result.data);
    }
  }
  return seen ? { absent, exitCode, stderr, results, unreadable } : undefined;
}

function whyNotChecked(report: FunctionReport | undefined): string {
  if (!report) return 'the host returned no functional check output';
  if (report.absent) return `this host has no ${FUNCTION_CHECK_PATH} (a runtime older than the functional check; replace the host to update it)`;
  const stderr = report.stderr ? `: ${report.stderr}` : '';
  if (report.exitCode === 124) return `the functional check did not finish within ${FUNCTION_CHECK_TIMEOUT_SECONDS} s`;
  if (report.exitCode === 2) return `the functional check could not run (exit 2, bad usage or configuration${stderr})`;
  if (report.exitCode === 126 || report.exitCode === 127) return `the functional check could not be started (exit ${report.exitCode}${stderr})`;
  if (report.exitCode === undefined) return 'the functional check output was cut short';
  const garbage = report.unreadable > 0 ? `; ${report.unreadable} line${report.unreadable === 1 ? ' was' : 's were'} not a result` : '';
  return `the functional check reported nothing for this service (exit ${report.exitCode}${garbage}${stderr})`;
}

/** One result per contract service, keyed by service name. */
export function parseFunctionCheck(stdout: string, token: string): Map<string, FunctionResult> {
  const report = readReport(stdout, token);
  const outcome = new Map<string, FunctionResult>();
  for (const service of SERVICES) {
    const result = report?.results.get(service.name);
    if (!result) {
      outcome.set(service.name, { state: 'not checked', detail: `not checked: ${whyNotChecked(report)}` });
      continue;
    }
    const detail = (result.detail ?? '').trim() || (result.ok ? 'works' : 'failed (no reason given)');
    outcome.set(service.name, { state: result.ok ? 'ok' : 'fail', ms: result.ms, detail });
  }
  return outcome;
}
