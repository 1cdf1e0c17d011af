/**
 * The sh scripts `gm-ops backup` and `gm-ops backups` run on the host through SSM, and the parsing of what
 * they print: every line gm-ops reads carries the per-command marker (see host/shell.ts).
 */
import { z } from 'zod';
import { HOST_PATHS } from '../contract';
import { markerOf } from '../host/shell';

const BACKUP_DIR = `${HOST_PATHS.efsMount}/backups`;

/** One backup set on the file system, as its manifest.json describes it (docker/host/backup-lib.sh). */
export interface BackupSet {
  readonly name: string;
  readonly tag: string;
  readonly created: string;
  readonly runtimeVersion: string;
  readonly bytes: number;
  readonly files: { readonly name: string; readonly bytes: number; readonly sha256: string }[];
}

/** Prints one `<marker> set <manifest>` line per complete set, oldest first. */
export function listSetsScript(token: string): string {
  const marker = markerOf(token);
  return [
    `for m in $(ls -1d ${BACKUP_DIR}/[0-9]*/manifest.json 2>/dev/null | LC_ALL=C sort); do`,
    `  printf '%s set %s\\n' '${marker}' "$(tr -d '\\n' <"$m")"`,
    `done`,
    `printf '%s listed\\n' '${marker}'`,
  ].join('\n');
}

/** Runs backup.sh; prints `<marker> exit <code>`, `<marker> set <name>` and its last ERROR line. */
export function takeBackupScript(token: string): string {
  const marker = markerOf(token);
  return [
    `err=$(mktemp)`,
    `name=$(bash ${HOST_PATHS.runtimeDir}/host/backup.sh 2>"$err"); rc=$?`,
    `printf '%s exit %s\\n' '${marker}' "$rc"`,
    `printf '%s set %s\\n' '${marker}' "$name"`,
    `grep ' ERROR ' "$err" | tail -n 1 | sed "s/^/${marker} error /"`,
    `rm -f "$err"`,
  ].join('\n');
}

const manifestSchema = z.object({
  name: z.string().min(1),
  tag: z.string().default(''),
  created: z.string().default(''),
  runtimeVersion: z.string().default('unknown'),
  files: z.array(z.object({ name: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string() })),
});

export function parseSets(stdout: string, token: string): { sets: BackupSet[]; complete: boolean } {
  const marker = markerOf(token);
  const sets: BackupSet[] = [];
  let complete = false;
  for (const line of stdout.split('\n')) {
    if (line === `${marker} listed`) complete = true;
    if (!line.startsWith(`${marker} set `)) continue;
    try {
      const manifest = manifestSchema.parse(JSON.parse(line.slice(`${marker} set `.length)));
      sets.push({ ...manifest, bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0) });
    } catch {
      // A manifest that does not parse is not a set gm-ops can restore; it is left out.
    }
  }
  return { sets, complete };
}

export interface TakeResult {
  readonly exitCode: number;
  readonly set?: string;
  readonly error?: string;
}

export function parseTake(stdout: string, token: string): TakeResult | undefined {
  const marker = markerOf(token);
  let exitCode: number | undefined;
  let set: string | undefined;
  let error: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${marker} exit `)) exitCode = Number(line.slice(`${marker} exit `.length));
    if (line.startsWith(`${marker} set `)) set = line.slice(`${marker} set `.length).trim() || undefined;
    if (line.startsWith(`${marker} error `)) error = line.slice(`${marker} error `.length).replace(/^.*? ERROR /, '');
  }
  return exitCode === undefined || Number.isNaN(exitCode) ? undefined : { exitCode, set, error };
}
