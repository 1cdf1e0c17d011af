#!/usr/bin/env bash
# One full Qdrant storage snapshot to $GM_EFS_MOUNT/qdrant-snapshots, keeping the newest
# $GM_QDRANT_SNAPSHOT_KEEP (default 4). Run by geusemaker-qdrant-snapshot.timer every
# $GM_QDRANT_SNAPSHOT_MINUTES minutes; stop.sh takes one more on the way down.
#
# Only the host holding the fence writes to EFS. Exit codes: 0 snapshot saved, or nothing to do
# (fence not held here, Qdrant not running, another snapshot running); 1 the snapshot failed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local lockfd
  gm_init qdrant-snapshot
  gm_validate_settings
  gm_export_compose_env
  if ! gm_fence_holder_pid >/dev/null; then
    gm_info "qdrant snapshot: skipped, this host does not hold the fence"
    return 0
  fi
  if ! gm_service_running qdrant; then
    gm_info "qdrant snapshot: skipped, Qdrant is not running"
    return 0
  fi
  # A backup set's snapshot may hold the lock for hours: the newest snapshot is then on its way already.
  exec {lockfd}>>"$GM_RUN_DIR/qdrant-snapshot.lock"
  if ! flock --nonblock "$lockfd"; then
    gm_info "qdrant snapshot: skipped, another snapshot is running on this host (a backup set, or stop.sh)"
    return 0
  fi
  exec {lockfd}>&-
  gm_qdrant_snapshot
}

main "$@"
