/**
 * `gm-ops restore <name> --to <set|time>`: puts the deployment's database, n8n files and vectors back to one
 * backup set, on its current host, through the host's restore-backup.sh (checksums first, behind the
 * single-writer fence, ends with the functional check). Prints the plan first; acts on --yes or a confirmation.
 */
import { HOST_PATHS } from '../contract';
import type { CommandIO } from '../command-io';
import { ExitCode, OpsError, UsageProblem } from '../errors';
import { markerOf, shellQuote } from '../host/shell';
import { renderFields } from '../output/table';
import type { BackupSet } from './host-scripts';
import { readSets, runningHost, runOnHost } from './run';

const SET_NAME = /^\d{8}T\d{6}Z(-[a-z0-9.-]+)?$/;

export interface RestoreToOptions {
  readonly name: string;
  readonly to: string;
  readonly yes: boolean;
  readonly json: boolean;
}

/** The time `to` gives (NaN for a set name); a usage error when it is neither. */
function chooseSetFormat(to: string): number {
  if (SET_NAME.test(to)) return NaN;
  const time = Date.parse(to);
  if (!/^\d{4}-\d{2}-\d{2}/.test(to) || Number.isNaN(time)) {
    throw new UsageProblem(`--to must be a backup set name (e.g. 20261129T030000Z) or a time (e.g. 2026-11-29T12:00:00Z), got "${to}"`);
  }
  return time;
}

/** The set `to` names, or the newest one created at or before the time `to` gives. */
export function chooseSet(sets: readonly BackupSet[], to: string, deployment: string): BackupSet {
  if (sets.length === 0) throw new OpsError(`${deployment} has no backup sets to restore`, `take one with \`gm-ops backup ${deployment}\``);
  if (SET_NAME.test(to)) {
    const set = sets.find((s) => s.name === to);
    if (!set) throw new OpsError(`${deployment} has no backup set ${to}`, `see \`gm-ops backups ${deployment}\``);
    return set;
  }
  const time = chooseSetFormat(to);
  const candidates = sets.filter((s) => Date.parse(s.created) <= time).sort((a, b) => Date.parse(a.created) - Date.parse(b.created));
  const set = candidates[candidates.length - 1];
  if (!set) throw new OpsError(`${deployment} has no backup set made at or before ${new Date(time).toISOString()} (the oldest is ${sets[0].name})`);
  return set;
}

function restoreScript(set: string) {
  return (token: string): string => {
    const marker = markerOf(token);
    return [
      `out=$(mktemp)`,
      `bash ${HOST_PATHS.runtimeDir}/host/restore-backup.sh ${shellQuote(set)} >"$out" 2>&1; rc=$?`,
      `printf '%s exit %s\\n' '${marker}' "$rc"`,
      `grep -E ' ERROR |^[a-z0-9]+ FAIL ' "$out" | tail -n 3 | sed "s/^/${marker} error /"`,
      `rm -f "$out"`,
    ].join('\n');
  };
}

export async function runRestoreTo(io: CommandIO, options: RestoreToOptions): Promise<number> {
  // A bad --to is a usage error before any AWS call.
  chooseSetFormat(options.to);
  const instanceId = await runningHost(io, options.name);
  const set = chooseSet(await readSets(io, instanceId), options.to, options.name);
  const steps = [
    `check every file of ${set.name} against its manifest (sizes, sha256); a mismatch stops here, nothing touched`,
    'take the single-writer fence on the file system',
    "stop n8n and Qdrant; replace n8n's database with the set's dump (restored into a new database, then swapped in)",
    "replace n8n's files; restore Qdrant's storage from the set's snapshot",
    'start the stack and run the functional check; the restore succeeds only when it passes',
  ];
  if (!options.json) {
    io.write(`${io.style.bold(`Restore ${options.name} to backup set ${set.name}`)}\n\n`);
    io.write(renderFields([['Host', instanceId], ['Set made', set.created || '-'], ['Runtime', set.runtimeVersion], ['Size', `${set.bytes} bytes`]], io.style));
    io.write(`\n${io.style.bold('Plan:')}\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`);
  }
  let go = options.yes;
  if (!go && io.services.prompt.available && !options.json) go = await io.services.prompt.confirm(`Restore ${options.name} to ${set.name}? Its current data is replaced.`);
  if (!go) {
    if (options.json) io.write(`${JSON.stringify({ deployment: options.name, set: set.name, plan: steps, done: false }, null, 2)}\n`);
    else io.write(`\nNothing done: run again with --yes to restore.\n`);
    return ExitCode.failure;
  }
  const spinner = io.spinner(options.json);
  const started = io.services.clock.now();
  spinner.start(`Restoring ${options.name} to ${set.name}…`);
  try {
    const { token, stdout } = await runOnHost(io, instanceId, restoreScript(set.name), 'gm-ops restore --to', 2 * 3600);
    spinner.stop();
    const marker = markerOf(token);
    const exitLine = stdout.split('\n').find((l) => l.startsWith(`${marker} exit `));
    const exit = exitLine ? /^(\d+)$/.exec(exitLine.slice(`${marker} exit `.length)) : null;
    const errors = stdout.split('\n').filter((l) => l.startsWith(`${marker} error `)).map((l) => l.slice(`${marker} error `.length).replace(/^.*? ERROR /, ''));
    if (!exit) throw new OpsError(`restore-backup.sh on ${instanceId} gave no result`);
    if (exit[1] !== '0') {
      throw new OpsError(`the restore of ${options.name} to ${set.name} failed: ${errors.join('; ') || `restore-backup.sh exited ${exit[1]}`}`);
    }
    const seconds = Math.round((io.services.clock.now() - started) / 1000);
    if (options.json) io.write(`${JSON.stringify({ deployment: options.name, set: set.name, plan: steps, done: true, seconds }, null, 2)}\n`);
    else io.write(`\n${io.style.green('Restored')} ${options.name} to ${set.name} in ${seconds} s; the functional check passed.\n`);
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
