/**
 * `gm-ops restore <name> --to <set|time>`: puts the deployment's database, n8n files and vectors back to one
 * backup set, on its current host, through the host's restore-backup.sh (checksums first, behind the
 * single-writer fence, ends with the functional check). Prints the plan first; acts on --yes or a confirmation.
 *
 * On the scale tier the host is the AI host, which keeps only Qdrant's vectors (n8n's database is on RDS, which
 * restore-backup.sh leaves to RDS's own backups and refuses to touch there): the set's Qdrant snapshot is restored
 * with the runtime's own library functions (the same steps restore-backup.sh and gm-ops migrate take for Qdrant),
 * and the AI host's functional check must pass.
 */
import { HOST_PATHS } from '../contract';
import type { CommandIO } from '../command-io';
import { databaseInstanceOf, databaseProtection, readScaleDataStack } from '../discovery/scale-deployment';
import { ExitCode, OpsError, UsageProblem } from '../errors';
import { markerOf, shellQuote } from '../host/shell';
import { renderFields } from '../output/table';
import type { BackupSet } from './host-scripts';
import { deploymentHost, readSets, runOnHost } from './run';

const HOST_DIR = `${HOST_PATHS.runtimeDir}/host`;

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

/** What a restore needs of a set: n8n's database on a single host; Qdrant's snapshot on the scale tier's AI host. */
export type SetPurpose = 'full' | 'vectors';

const REQUIRED_FILE: Record<SetPurpose, { readonly file: string; readonly what: string }> = {
  full: { file: 'postgres.dump', what: "n8n's database (postgres.dump)" },
  vectors: { file: 'qdrant.snapshot', what: "Qdrant's vectors (qdrant.snapshot)" },
};

export function setHolds(set: BackupSet, purpose: SetPurpose): boolean {
  return set.files.some((f) => f.name === REQUIRED_FILE[purpose].file);
}

/**
 * The set `to` names, or the newest one created at or before the time `to` gives, among the sets that hold what this
 * restore needs (an AI host's vector set never restores a single host's database, and a set without vectors gives the
 * AI host nothing to restore).
 */
export function chooseSet(all: readonly BackupSet[], to: string, deployment: string, purpose: SetPurpose = 'full'): BackupSet {
  if (all.length === 0) throw new OpsError(`${deployment} has no backup sets to restore`, `take one with \`gm-ops backup ${deployment}\``);
  const { what } = REQUIRED_FILE[purpose];
  const sets = all.filter((s) => setHolds(s, purpose));
  if (SET_NAME.test(to)) {
    const set = all.find((s) => s.name === to);
    if (!set) throw new OpsError(`${deployment} has no backup set ${to}`, `see \`gm-ops backups ${deployment}\``);
    if (!setHolds(set, purpose)) {
      throw new OpsError(
        `backup set ${to} holds no ${what}, which this restore needs (it holds ${set.files.map((f) => f.name).join(', ') || 'no files'})`,
        sets.length > 0 ? `choose one that does, e.g. ${sets[sets.length - 1].name} (see \`gm-ops backups ${deployment}\`)` : `take one with \`gm-ops backup ${deployment}\``,
      );
    }
    return set;
  }
  const time = chooseSetFormat(to);
  if (sets.length === 0) throw new OpsError(`${deployment} has no backup set with ${what} to restore`, `take one with \`gm-ops backup ${deployment}\``);
  const candidates = sets.filter((s) => Date.parse(s.created) <= time).sort((a, b) => Date.parse(a.created) - Date.parse(b.created));
  const set = candidates[candidates.length - 1];
  if (!set) throw new OpsError(`${deployment} has no backup set made at or before ${new Date(time).toISOString()} (the oldest is ${sets[0].name})`);
  return set;
}

/** Runs `command` on the host; prints `<marker> exit <code>` and its last ERROR and functional-check FAIL lines. */
function reported(command: string) {
  return (token: string): string => {
    const marker = markerOf(token);
    return [
      `out=$(mktemp)`,
      `${command} >"$out" 2>&1; rc=$?`,
      `printf '%s exit %s\\n' '${marker}' "$rc"`,
      `grep -E ' ERROR |^[a-z0-9]+ FAIL ' "$out" | tail -n 3 | sed "s/^/${marker} error /"`,
      `rm -f "$out"`,
    ].join('\n');
  };
}

function restoreScript(set: string): (token: string) => string {
  return reported(`bash ${HOST_DIR}/restore-backup.sh ${shellQuote(set)}`);
}

/**
 * On the scale tier's AI host: the set's checksums (and that it lists qdrant.snapshot), the fence, Qdrant stopped and
 * its local storage emptied with the set's snapshot made the newest on EFS (gm_restore_place_qdrant), then start.sh,
 * which restores Qdrant from it, and the functional check (Qdrant, Ollama, Crawl4AI on this role). Exit codes as
 * restore-backup.sh's: 1 a step failed, 2 no such set or a damaged one (nothing touched), 3 the fence.
 */
export function vectorsRestoreScript(set: string): (token: string) => string {
  const body = [
    'set -euo pipefail',
    `source ${HOST_DIR}/lib.sh`,
    `source ${HOST_DIR}/backup-lib.sh`,
    'gm_init restore-vectors',
    'gm_validate_settings',
    'gm_ai_role || gm_die 2 "restore: this host is not the scale tier\'s AI host (GM_ROLE=$GM_ROLE): a single host restores a whole set with restore-backup.sh"',
    'gm_require_secrets',
    'gm_export_compose_env',
    `set=${shellQuote(set)}`,
    'set_dir="$GM_BACKUP_DIR/$set"',
    '[[ "$set" =~ ^[0-9]{8}T[0-9]{6}Z(-[a-z0-9.-]+)?$ && -f "$set_dir/manifest.json" ]] || gm_die 2 "restore: no backup set \'$set\' in $GM_BACKUP_DIR"',
    'reason=$(gm_backup_verify "$set_dir" qdrant.snapshot) || gm_die 2 "restore: backup set $set is damaged: $reason; nothing was touched"',
    'gm_info "restore: backup set $set verified against its manifest"',
    'gm_fence_acquire || exit 3',
    'gm_info "restore: stopping Qdrant (Ollama and Crawl4AI keep running)"',
    'gm_compose stop --timeout "$GM_STOP_TIMEOUT" qdrant 2>&1 | gm_log_lines INFO "compose:" || gm_die 1 "restore: docker compose stop qdrant failed"',
    'gm_restore_place_qdrant "$set_dir" || gm_die 1 "restore: the Qdrant snapshot could not be placed"',
    `bash ${HOST_DIR}/start.sh || gm_die 1 "restore: start.sh failed after placing the snapshot of $set"`,
    `bash ${HOST_DIR}/functional-check.sh || gm_die 1 "restore: the functional check failed after restoring $set"`,
    'gm_info "restore: Qdrant restored from $set and the functional check passed"',
  ].join('\n');
  return reported(`bash -c ${shellQuote(body)}`);
}

export async function runRestoreTo(io: CommandIO, options: RestoreToOptions): Promise<number> {
  // A bad --to is a usage error before any AWS call.
  chooseSetFormat(options.to);
  const { instanceId, tier } = await deploymentHost(io, options.name);
  const scale = tier === 'scale';
  const set = chooseSet(await readSets(io, instanceId), options.to, options.name, scale ? 'vectors' : 'full');
  const database = scale ? databaseProtection(options.name, databaseInstanceOf(await readScaleDataStack(io.aws().cloudFormation, options.name))) : undefined;
  const steps = scale
    ? [
        `check every file of ${set.name} against its manifest (sizes, sha256) and that it holds a Qdrant snapshot; a mismatch stops here, nothing touched`,
        'take the single-writer fence on the file system (the AI host holds it while it runs)',
        "stop Qdrant (Ollama and Crawl4AI keep running); empty its local storage and make the set's snapshot the newest on the file system",
        "start the AI services: Qdrant is restored from the set's snapshot",
        'run the AI host\'s functional check (Qdrant, Ollama, Crawl4AI); the restore succeeds only when it passes',
      ]
    : [
        `check every file of ${set.name} against its manifest (sizes, sha256); a mismatch stops here, nothing touched`,
        'take the single-writer fence on the file system',
        "stop n8n and Qdrant; replace n8n's database with the set's dump (restored into a new database, then swapped in)",
        "replace n8n's files; restore Qdrant's storage from the set's snapshot",
        'start the stack and run the functional check; the restore succeeds only when it passes',
      ];
  const untouched = database ? `${database}. --to restores only the vectors; the database is not touched.` : undefined;
  if (!options.json) {
    io.write(`${io.style.bold(`Restore ${options.name} to backup set ${set.name}${scale ? ' (vectors only)' : ''}`)}\n\n`);
    io.write(renderFields([[scale ? 'AI host' : 'Host', instanceId], ['Set made', set.created || '-'], ['Runtime', set.runtimeVersion], ['Size', `${set.bytes} bytes`]], io.style));
    io.write(`\n${io.style.bold('Plan:')}\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`);
    if (untouched) io.write(`\n${io.style.dim(untouched)}\n`);
  }
  const document = (extra: Record<string, unknown>) => ({ deployment: options.name, set: set.name, ...(scale ? { restores: 'vectors', database: untouched } : {}), plan: steps, ...extra });
  let go = options.yes;
  if (!go && io.services.prompt.available && !options.json) {
    go = await io.services.prompt.confirm(scale ? `Restore the vectors of ${options.name} to ${set.name}? Qdrant's current data is replaced.` : `Restore ${options.name} to ${set.name}? Its current data is replaced.`);
  }
  if (!go) {
    if (options.json) io.write(`${JSON.stringify(document({ done: false }), null, 2)}\n`);
    else io.write(`\nNothing done: run again with --yes to restore.\n`);
    return ExitCode.failure;
  }
  const spinner = io.spinner(options.json);
  const started = io.services.clock.now();
  spinner.start(`Restoring ${options.name} to ${set.name}…`);
  try {
    const script = scale ? vectorsRestoreScript(set.name) : restoreScript(set.name);
    const { token, stdout } = await runOnHost(io, instanceId, script, 'gm-ops restore --to', 2 * 3600);
    spinner.stop();
    const marker = markerOf(token);
    const exitLine = stdout.split('\n').find((l) => l.startsWith(`${marker} exit `));
    const exit = exitLine ? /^(\d+)$/.exec(exitLine.slice(`${marker} exit `.length)) : null;
    const errors = stdout.split('\n').filter((l) => l.startsWith(`${marker} error `)).map((l) => l.slice(`${marker} error `.length).replace(/^.*? ERROR /, ''));
    const what = scale ? 'the vectors restore' : 'restore-backup.sh';
    if (!exit) throw new OpsError(`${what} on ${instanceId} gave no result`);
    if (exit[1] !== '0') {
      throw new OpsError(`the restore of ${options.name}${scale ? "'s vectors" : ''} to ${set.name} failed: ${errors.join('; ') || `${what} exited ${exit[1]}`}`);
    }
    const seconds = Math.round((io.services.clock.now() - started) / 1000);
    if (options.json) io.write(`${JSON.stringify(document({ done: true, seconds }), null, 2)}\n`);
    else io.write(`\n${io.style.green('Restored')} ${scale ? `the vectors of ${options.name}` : options.name} to ${set.name} in ${seconds} s; the functional check passed.\n`);
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
