/**
 * Renders a poll request into the POSIX sh script run on the host. Output format (M = marker):
 *
 *   M now <host time, RFC3339Nano>
 *   M docker-unavailable                      (when the daemon does not answer)
 *   M missing <service>                       (no container / no file)
 *   M begin <service> [<start line>]
 *   <at most budget bytes of log content>
 *   M end <service> <truncated 0|1> <lines before the tail window sharing its first timestamp>
 *   M done
 *
 * The blank line before each `end` is added by the script, so the client can tell whether the
 * content's last line was complete. Every source is capped on the host with head -c, so the whole
 * output stays under what SSM returns (24,000 characters).
 */
import { findContainer, markerOf, shellQuote } from '../host/shell';
import type { DockerSourceRequest, FileSourceRequest, LogPollRequest } from './request';

function intArg(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`invalid ${what}: ${value}`);
  return String(value);
}

function dockerSource(source: DockerSourceRequest, budget: number): string[] {
  const name = shellQuote(source.service);
  const lines = [findContainer(source.service), `if [ -z "$id" ]; then echo "$M missing "${name}; else`, `  echo "$M begin "${name}`];
  if (source.tail !== undefined) {
    const since = source.since !== undefined ? ` --since ${shellQuote(source.since)}` : '';
    lines.push(
      `  docker logs --timestamps${since} --tail ${intArg(source.tail, 'tail')} "$id" > "$full" 2>&1`,
      `  first=$(head -n 1 "$full" | cut -d ' ' -f 1)`,
      `  pre=0`,
      `  case "$first" in [0-9][0-9][0-9][0-9]-*)`,
      `    all=$(( $(docker logs --timestamps --since "$first" --until "$first" "$id" 2>/dev/null | wc -l) ))`,
      `    inw=$(awk -v f="$first " 'index($0, f) == 1 { c++ } END { print c + 0 }' "$full")`,
      `    pre=$((all - inw)); if [ "$pre" -lt 0 ]; then pre=0; fi ;;`,
      `  esac`,
      `  head -c ${budget + 1} "$full" > "$tmp"`,
    );
  } else {
    const since = source.since !== undefined ? ` --since ${shellQuote(source.since)}` : '';
    const until = source.until !== undefined ? ` --until ${shellQuote(source.until)}` : '';
    lines.push(
      `  pre=0`,
      `  docker logs --timestamps${since}${until} "$id" 2>&1 | tail -n +${intArg(source.skip + 1, 'skip')} | head -c ${budget + 1} > "$tmp"`,
    );
  }
  lines.push(`  gm_emit ${name} ${budget} "$pre"`, `fi`);
  return lines;
}

function fileSource(source: FileSourceRequest, budget: number): string[] {
  const name = shellQuote(source.service);
  const start =
    source.startLine !== undefined
      ? `start=${intArg(source.startLine, 'start line')}`
      : source.tail !== undefined
        ? `start=$((total - ${intArg(source.tail, 'tail')} + 1)); if [ "$start" -lt 1 ]; then start=1; fi`
        : `start=1`;
  return [
    `f=${shellQuote(source.path)}`,
    `if [ ! -f "$f" ]; then echo "$M missing "${name}; else`,
    `  total=$(( $(wc -l < "$f") ))`,
    `  ${start}`,
    `  if [ "$start" -gt $((total + 1)) ]; then start=1; fi`,
    `  echo "$M begin "${name}" $start"`,
    `  tail -n +"$start" "$f" | head -c ${budget + 1} > "$tmp"`,
    `  gm_emit ${name} ${budget} 0`,
    `fi`,
  ];
}

export function renderLogScript(request: LogPollRequest): string {
  const budget = request.budgetPerSource;
  if (!Number.isSafeInteger(budget) || budget < 1) throw new Error(`invalid budget: ${budget}`);
  const lines = [
    `M=${shellQuote(markerOf(request.token))}`,
    `tmp=$(mktemp) && full=$(mktemp) || exit 1`,
    `trap 'rm -f "$tmp" "$full"' EXIT`,
    `gm_emit() {`,
    `  size=$(( $(wc -c < "$tmp") ))`,
    `  if [ "$size" -gt "$2" ]; then head -c "$2" "$tmp"; t=1; else cat "$tmp"; t=0; fi`,
    `  printf '\\n%s end %s %s %s\\n' "$M" "$1" "$t" "$3"`,
    `}`,
    `echo "$M now $(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"`,
    `if ! docker ps -q >/dev/null 2>&1; then echo "$M docker-unavailable"; fi`,
  ];
  for (const source of request.sources) {
    lines.push(...(source.kind === 'docker' ? dockerSource(source, budget) : fileSource(source, budget)));
  }
  lines.push(`echo "$M done"`);
  return lines.join('\n');
}
