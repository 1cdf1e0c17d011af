#!/usr/bin/env bash
# Take one consistent backup set now: n8n's database (pg_dump), a full Qdrant snapshot and n8n's files, with
# a manifest, written to $GM_EFS_MOUNT/backups/<UTC time>[-TAG]/ (see backup-lib.sh), then keep the newest
# $GM_BACKUP_KEEP sets. Run by geusemaker-backup.timer on GM_BACKUP_SCHEDULE, by `gm-ops backup` through
# SSM, and by start.sh before a newer runtime migrates the data (--tag pre-upgrade-<from>-<to>).
#
#   bash backup.sh [--tag TAG]
#
# On the scale tier's AI host (GM_ROLE=ai-services) a set holds the Qdrant snapshot and data-version.env only.
# Only the host holding the fence writes a set. stdout: the set's name. Exit codes: 0 set written (or
# nothing to do: the fence is not held here); 1 the set failed (nothing kept); 2 bad usage or setting;
# 4 another backup is running on this host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"

main() {
  local tag='' lockfd
  gm_init backup
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --tag)
        [[ "${2:-}" =~ ^[a-z0-9][a-z0-9.-]{0,62}$ ]] || gm_die 2 "backup: --tag needs a name of lowercase letters, digits, dots and hyphens (got '${2:-}')"
        tag=$2
        shift 2 ;;
      *) gm_die 2 "backup: unknown argument '$1' (usage: backup.sh [--tag TAG])" ;;
    esac
  done
  gm_validate_settings
  gm_require_secrets
  gm_export_compose_env
  if ! gm_fence_holder_pid >/dev/null; then
    gm_info "backup: skipped, this host does not hold the fence"
    return 0
  fi
  exec {lockfd}>>"$GM_RUN_DIR/backup.lock"
  flock --nonblock "$lockfd" || gm_die 4 "backup: another backup is running on this host"
  if gm_ai_role; then
    # The scale tier's AI host: n8n's database is on RDS (automated backups, a final snapshot), n8n keeps no files here.
    gm_backup_take "$tag" live qdrant
  else
    gm_backup_take "$tag"
  fi
}

main "$@"
