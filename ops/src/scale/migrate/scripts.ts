/**
 * The scripts `gm-ops migrate` runs on hosts through SSM (AWS-RunShellScript), and the reading of what they print.
 * Each prints `<marker> exit <code>` and its last ERROR lines as `<marker> error <line>` (the host scripts log
 * `... ERROR ...` lines on stderr), plus what the step produced (`<marker> set <name>`, `<marker> fence <state>`).
 * They use the runtime's own host library (docker/host/lib.sh, backup-lib.sh): the fence, the backup sets and
 * their manifests are the same as for `gm-ops backup` and `gm-ops restore --to`.
 */
import { HOST_PATHS } from '../../contract';
import { markerOf, shellQuote } from '../../host/shell';

const HOST_DIR = `${HOST_PATHS.runtimeDir}/host`;
/** Timers that would act on a stopped stack: the watchdog restarts services and replaces the host. */
const TIMERS = 'geusemaker-watchdog.timer geusemaker-backup.timer geusemaker-qdrant-snapshot.timer';
/**
 * geusemaker.service's OnFailure unit marks the host unhealthy (its group replaces it): masked until the migration
 * ends or is undone, so that a stop that reports a failure never brings a replacement host onto the data.
 */
const REPLACE_UNIT = 'geusemaker-replace-host.service';

/** Lines that source the host library inside `bash -c` (after `set -euo pipefail`). */
function libraryPrelude(script: string): string {
  return [
    'set -euo pipefail',
    `export GM_SCRIPT=${shellQuote(script)}`,
    `source ${HOST_DIR}/lib.sh`,
    `source ${HOST_DIR}/backup-lib.sh`,
    `gm_init ${shellQuote(script)}`,
    'gm_validate_settings',
    'gm_require_secrets',
    'gm_export_compose_env',
  ].join('\n');
}

/** Runs `body` with bash, its stderr kept; prints the exit and its last ERROR lines with the marker. */
function wrap(token: string, body: string, extra: string[] = []): string {
  const marker = markerOf(token);
  return [
    `M=${shellQuote(marker)}`,
    'err=$(mktemp)',
    `out=$(bash -c ${shellQuote(body)} 2>"$err"); rc=$?`,
    `printf '%s exit %s\\n' "$M" "$rc"`,
    `printf '%s\\n' "$out" | grep -E '^(set|fence|note) ' | sed "s/^/$M /"`,
    ...extra,
    `grep ' ERROR ' "$err" | tail -n 3 | sed "s/^/$M error /"`,
    'rm -f "$err"',
  ].join('\n');
}

/**
 * Fences the single host's writers and takes a backup set: the timers stop (no watchdog restart, no scheduled
 * backup), n8n stops (no new execution writes to the database), then backup.sh writes one set tagged
 * `migrate-to-<tier>` while PostgreSQL and Qdrant still run. The host keeps the fence.
 */
export function freezeAndBackupScript(targetTier: string): (token: string) => string {
  return (token) =>
    wrap(
      token,
      [
        `systemctl stop ${TIMERS} || true`,
        `systemctl mask --runtime ${REPLACE_UNIT} || true`,
        libraryPrelude('migrate-backup'),
        'gm_fence_holder_pid >/dev/null || gm_die 1 "migrate: this host does not hold the single-writer fence; nothing to back up here"',
        'gm_compose stop --timeout "$GM_STOP_TIMEOUT" n8n 2>&1 | gm_log_lines INFO "compose:" || gm_die 1 "migrate: n8n could not be stopped"',
        'gm_info "migrate: n8n stopped; taking the backup set"',
        `name=$(bash ${HOST_DIR}/backup.sh --tag ${shellQuote(`migrate-to-${targetTier}`)})`,
        '[[ -n "$name" ]] || gm_die 1 "migrate: backup.sh wrote no set"',
        'printf "set %s\\n" "$name"',
      ].join('\n'),
    );
}

/** Stops the host's whole stack (stop.sh: n8n, PostgreSQL flushed, a Qdrant snapshot, the fence released) and its timers. */
export function haltScript(token: string): string {
  return wrap(
    token,
    [
      `systemctl stop ${TIMERS} || true`,
      `systemctl mask --runtime ${REPLACE_UNIT} || true`,
      'systemctl stop geusemaker.service',
      `pid=$(cat /run/geusemaker/fence.pid 2>/dev/null || true)`,
      'if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then echo "fence held"; else echo "fence released"; fi',
    ].join('\n'),
  );
}

/** Brings a halted or frozen host back: the stack restarts (start.sh: fence, every service healthy), then its timers. */
export function resumeScript(token: string): string {
  return wrap(token, [`systemctl unmask --runtime ${REPLACE_UNIT} || true`, 'systemctl restart geusemaker.service', `systemctl start ${TIMERS}`].join('\n'));
}

/** Reads the database secret (RDS's JSON shape) into libpq's environment; `pg` runs a PostgreSQL client image. */
function databaseClient(secretArn: string, endpoint: string): string {
  const region = secretArn.split(':')[3] ?? '';
  const [host, port = '5432'] = endpoint.split(':');
  return [
    `secret=$(aws secretsmanager get-secret-value --region ${shellQuote(region)} --secret-id ${shellQuote(secretArn)} --query SecretString --output text) ||`,
    '  gm_die 1 "migrate: the database secret cannot be read from this host"',
    `field() { printf '%s' "$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }`,
    'if ! PGUSER=$(field username) || ! PGPASSWORD=$(field password); then gm_die 1 "migrate: the database secret has no username and password"; fi',
    // The database's certificate and name are verified (libpq verify-full) with the region's RDS bundle, as n8n does.
    'ca_file="$GM_RUN_DIR/rds-ca-bundle.pem"',
    'ca_error=$(gm_fetch_rds_ca "$ca_file") || gm_die 1 "migrate: cannot fetch the RDS certificate bundle ${GM_RDS_CA_URL:-}: $ca_error"',
    `PGHOST=${shellQuote(host)} PGPORT=${shellQuote(port)} PGSSLMODE=verify-full PGSSLROOTCERT=/rds-ca/rds-ca-bundle.pem`,
    'export PGUSER PGPASSWORD PGHOST PGPORT PGSSLMODE PGSSLROOTCERT',
    'image=$(sed -n "s/^GM_POSTGRES_IMAGE=//p" "$GM_RUNTIME_DIR/versions.env")',
    '[[ -n "$image" ]] || gm_die 1 "migrate: no GM_POSTGRES_IMAGE in $GM_RUNTIME_DIR/versions.env"',
    // The password travels in the environment (docker -e NAME), never on a command line.
    'pg() { docker run --rm -i --network host -v "$ca_file:/rds-ca/rds-ca-bundle.pem:ro" -e PGUSER -e PGPASSWORD -e PGHOST -e PGPORT -e PGSSLMODE -e PGSSLROOTCERT "$image" "$@"; }',
    'sql() { pg psql --no-psqlrc --quiet --dbname=postgres --set=ON_ERROR_STOP=1 "$@"; }',
  ].join('\n');
}

export interface RdsTarget {
  readonly secretArn: string;
  readonly endpoint: string;
  readonly database: string;
}

/**
 * On the scale tier's AI host: checks the set against its manifest, restores its dump into a new database on RDS
 * (one transaction) and swaps it in, makes the set's Qdrant snapshot the one the AI host runs on, then runs the
 * AI host's start.sh (Qdrant restored from that snapshot; the pre-wired credentials upserted, pointing here).
 */
export function restoreToRdsScript(set: string, rds: RdsTarget): (token: string) => string {
  const db = rds.database;
  return (token) =>
    wrap(
      token,
      [
        libraryPrelude('migrate-restore'),
        `set=${shellQuote(set)}`,
        'set_dir="$GM_BACKUP_DIR/$set"',
        '[[ -f "$set_dir/manifest.json" ]] || gm_die 2 "migrate: no backup set $set in $GM_BACKUP_DIR"',
        'reason=$(gm_backup_verify "$set_dir") || gm_die 2 "migrate: backup set $set is damaged: $reason"',
        databaseClient(rds.secretArn, rds.endpoint),
        `sql -c ${shellQuote(`DROP DATABASE IF EXISTS "${db}_restore";`)} -c ${shellQuote(`CREATE DATABASE "${db}_restore";`)} 2>&1 | gm_log_lines INFO "psql:" ||`,
        '  gm_die 1 "migrate: cannot create the restore database on RDS"',
        `if ! output=$(pg pg_restore --dbname=${shellQuote(`${db}_restore`)} --no-owner --no-privileges --single-transaction --exit-on-error <"$set_dir/postgres.dump" 2>&1); then`,
        `  sql -c ${shellQuote(`DROP DATABASE IF EXISTS "${db}_restore";`)} >/dev/null 2>&1 || true`,
        '  gm_die 1 "migrate: pg_restore into RDS failed: ${output//$\'\\n\'/ }"',
        'fi',
        `output=$(sql -c ${shellQuote(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND pid <> pg_backend_pid();`)} \\`,
        // Both renames in one transaction (allowed for RENAME; tried on PostgreSQL 15): never a moment without "${db}".
        `  -c ${shellQuote(`BEGIN; ALTER DATABASE "${db}" RENAME TO "${db}_replaced"; ALTER DATABASE "${db}_restore" RENAME TO "${db}"; COMMIT;`)} \\`,
        `  -c ${shellQuote(`DROP DATABASE "${db}_replaced" WITH (FORCE);`)} 2>&1) || gm_die 1 "migrate: swapping the restored database in failed: \${output//$'\\n'/ }"`,
        'gm_info "migrate: $set restored into RDS"',
        'if [[ -f "$set_dir/qdrant.snapshot" ]]; then',
        '  gm_compose stop --timeout "$GM_STOP_TIMEOUT" qdrant 2>&1 | gm_log_lines INFO "compose:" || gm_die 1 "migrate: Qdrant could not be stopped"',
        '  gm_restore_place_qdrant "$set_dir" || gm_die 1 "migrate: the Qdrant snapshot could not be placed"',
        'fi',
        // start.sh restores the placed snapshot into Qdrant and, as on every start, upserts the pre-wired credentials
        // (fixed ids) into n8n's database: the restored single-host credentials then point at this AI host. A failed
        // import only warns on an ordinary start; here it must fail the migration (GM_CREDENTIALS_REQUIRED).
        `GM_CREDENTIALS_REQUIRED=true bash ${HOST_DIR}/start.sh || gm_die 1 "migrate: start.sh on the AI host failed after the restore"`,
        'echo "note restored"',
      ].join('\n'),
    );
}

/**
 * On the scale tier's AI host, with the n8n services held at 0: a backup set whose dump comes from RDS (the same
 * set layout and manifest as backup.sh's, so restore-backup.sh restores it), tagged `migrate-to-<tier>`. The
 * single host's old database directory on EFS (from before the move to scale) is moved aside, not deleted, so the
 * new host never starts n8n on stale workflows before the set is restored.
 */
export function backupFromRdsScript(targetTier: string, rds: RdsTarget): (token: string) => string {
  return (token) =>
    wrap(
      token,
      [
        libraryPrelude('migrate-backup'),
        'gm_fence_holder_pid >/dev/null || gm_die 1 "migrate: the AI host does not hold the single-writer fence"',
        databaseClient(rds.secretArn, rds.endpoint),
        'gm_backup_dump_postgres() {',
        '  local file=$1',
        `  if ! pg pg_dump --dbname=${shellQuote(rds.database)} --format=custom >"$file" 2>"$file.err"; then`,
        '    gm_error "backup: pg_dump from RDS failed: $(tr \'\\n\' \' \' <"$file.err")"; rm -f "$file" "$file.err"; return 1',
        '  fi',
        '  rm -f "$file.err"; [[ -s "$file" ]] || { gm_error "backup: pg_dump wrote nothing"; return 1; }',
        '}',
        'mkdir -p "$GM_EFS_MOUNT/n8n"',
        `name=$(gm_backup_take ${shellQuote(`migrate-to-${targetTier}`)}) || gm_die 1 "migrate: the backup set failed"`,
        'printf "set %s\\n" "$name"',
        'if [[ -n "$(find "$GM_EFS_MOUNT/postgres" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ]]; then',
        '  mv "$GM_EFS_MOUNT/postgres" "$GM_EFS_MOUNT/postgres.before-$name" || gm_die 1 "migrate: the old database directory could not be moved aside"',
        '  printf "note moved %s\\n" "$GM_EFS_MOUNT/postgres.before-$name"',
        'fi',
      ].join('\n'),
    );
}

/** On the new single host: restore-backup.sh (checksums, fence, dump, files, Qdrant, start.sh, functional check). */
export function restoreBackupScript(set: string): (token: string) => string {
  return (token) => wrap(token, `bash ${HOST_DIR}/restore-backup.sh ${shellQuote(set)}`);
}

export interface StepOutput {
  readonly exitCode?: number;
  readonly set?: string;
  readonly fence?: string;
  readonly notes: string[];
  readonly errors: string[];
}

export function parseStep(stdout: string, token: string): StepOutput {
  const marker = markerOf(token);
  let exitCode: number | undefined;
  let set: string | undefined;
  let fence: string | undefined;
  const notes: string[] = [];
  const errors: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${marker} `)) continue;
    const rest = line.slice(marker.length + 1);
    const space = rest.indexOf(' ');
    const key = space < 0 ? rest : rest.slice(0, space);
    const value = space < 0 ? '' : rest.slice(space + 1).trim();
    if (key === 'exit' && /^\d+$/.test(value)) exitCode = Number(value);
    else if (key === 'set' && value) set = value;
    else if (key === 'fence') fence = value;
    else if (key === 'note') notes.push(value);
    else if (key === 'error') errors.push(value.replace(/^.*? ERROR /, ''));
  }
  return { exitCode, set, fence, notes, errors };
}
