#!/usr/bin/env bash
# Restore one backup set (see backup-lib.sh) onto this host's stack:
#   1. checks every file of the set against its manifest (size and sha256): a mismatch touches nothing
#   2. takes the single-writer fence (waits, bounded, while another host holds it)
#   3. stops n8n and Qdrant, starts PostgreSQL alone
#   4. replaces n8n's database with the set's dump (pg_restore, one transaction) and n8n's files
#   5. empties Qdrant's local storage and makes the set's snapshot the newest on EFS, so that start.sh
#      restores it
#   6. start.sh (every service healthy), then functional-check.sh, which must pass
#
#   bash restore-backup.sh SET        (a set name under $GM_EFS_MOUNT/backups, or "latest": the newest set whose
#                                      manifest lists postgres.dump, never a -vectors set of the scale tier's AI host)
#
# Exit codes: 0 restored and the functional check passed; 1 a step failed (named); 2 bad usage, no such set
# or a set that fails its checksums; 3 the fence stayed held by another host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

main() {
  local set=${1:-} set_dir reason
  gm_init restore-backup
  [[ $# -eq 1 && -n "$set" ]] || gm_die 2 "restore: usage: restore-backup.sh SET (a set name in \$GM_EFS_MOUNT/backups, or latest)"
  gm_validate_settings
  gm_ai_role && gm_die 2 "restore: this is the scale tier's AI host, which runs neither n8n nor PostgreSQL; a set goes into the scale tier with gm-ops migrate"
  gm_require_secrets
  gm_export_compose_env
  if [[ "$set" == latest ]]; then
    # The newest full set: a vector set of the AI host (no postgres.dump) is never "latest".
    set=$(gm_backup_latest_full)
    [[ -n "$set" ]] || gm_die 2 "restore: there is no backup set in $GM_BACKUP_DIR with n8n's database (postgres.dump)"
  fi
  [[ "$set" =~ ^[0-9]{8}T[0-9]{6}Z(-[a-z0-9.-]+)?$ && -f "$GM_BACKUP_DIR/$set/manifest.json" ]] ||
    gm_die 2 "restore: no backup set '$set' in $GM_BACKUP_DIR (sets: $(gm_backup_sets | tr '\n' ' '))"
  set_dir="$GM_BACKUP_DIR/$set"
  reason=$(gm_backup_verify "$set_dir") || gm_die 2 "restore: backup set $set is damaged: $reason; nothing was touched"
  gm_info "restore: backup set $set verified against its manifest"

  gm_fence_acquire || exit 3
  gm_info "restore: stopping n8n and Qdrant"
  gm_compose stop --timeout "$GM_STOP_TIMEOUT" n8n qdrant 2>&1 | gm_log_lines INFO "compose:" || gm_die 1 "restore: docker compose stop failed"
  gm_compose up --detach --no-deps postgres 2>&1 | gm_log_lines INFO "compose:" || gm_die 1 "restore: docker compose up postgres failed"
  gm_postgres_wait || exit 1
  gm_backup_restore_postgres "$set_dir/postgres.dump" || exit 1
  gm_info "restore: n8n's database restored from $set"
  gm_restore_n8n_files "$set_dir" || gm_die 1 "restore: n8n's files could not be restored"
  gm_restore_place_qdrant "$set_dir" || gm_die 1 "restore: the Qdrant snapshot could not be placed"
  bash "$GM_RUNTIME_DIR/host/start.sh" || gm_die 1 "restore: start.sh failed after the restore"
  if ! bash "$GM_RUNTIME_DIR/host/functional-check.sh"; then
    gm_die 1 "restore: the functional check failed after restoring $set"
  fi
  gm_info "restore: $set restored and the functional check passed"
}

main "$@"
