#!/usr/bin/env bash
# Stop the GeuseMaker stack cleanly: n8n and PostgreSQL first (PostgreSQL shuts down with a checkpoint),
# then a Qdrant snapshot to EFS, a graceful `docker compose stop` of the rest, and the single-writer fence
# is released.
#
# ExecStop of geusemaker.service (reboot, shutdown) and run by spot-watcher.sh on a spot
# interruption notice; safe to run when nothing runs. Every step is attempted even if an earlier one
# failed, except that the fence is kept when containers are still running (two writers must never
# be possible); its NFS lease then ends with the host.
#
# Exit codes: 0 stack stopped and fence released (or nothing to do); 1 a step failed (logged).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

project_containers() {
  docker ps --quiet --filter label=com.docker.compose.project=geusemaker --filter status=running
}

stop_stack() {
  local ids
  gm_info "stop: docker compose stop (timeout ${GM_STOP_TIMEOUT}s)"
  if ! gm_compose stop --timeout "$GM_STOP_TIMEOUT" 2>&1 | gm_log_lines INFO "compose:"; then
    gm_warn "stop: docker compose stop failed; stopping the project's containers directly"
    if ids=$(project_containers) && [[ -n "$ids" ]]; then
      # shellcheck disable=SC2086 # one container id per word
      docker stop --time "$GM_STOP_TIMEOUT" $ids 2>&1 | gm_log_lines INFO "docker:" || true
    fi
  fi
  if ! ids=$(project_containers); then
    gm_error "stop: cannot list the running containers (is docker running?)"
    return 1
  fi
  if [[ -n "$ids" ]]; then
    gm_error "stop: containers still running: ${ids//$'\n'/ }"
    return 1
  fi
  gm_info "stop: every container of the stack is stopped"
}

main() {
  local rc=0
  gm_init stop
  [[ "$GM_STOP_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || GM_STOP_TIMEOUT=30
  [[ "$GM_QDRANT_SNAPSHOT_KEEP" =~ ^[1-9][0-9]*$ ]] || GM_QDRANT_SNAPSHOT_KEEP=4
  case "$GM_TIER" in dev | automation | gpu) ;; *) GM_TIER=dev ;; esac
  gm_export_compose_env
  gm_info "stop: stopping the stack (deployment $GM_DEPLOYMENT)"

  # The writers first: n8n, then PostgreSQL with its shutdown checkpoint, before the Qdrant snapshot can
  # use up a spot interruption's two minutes.
  gm_info "stop: stopping n8n and PostgreSQL first (timeout ${GM_STOP_TIMEOUT}s)"
  if ! gm_compose stop --timeout "$GM_STOP_TIMEOUT" n8n postgres 2>&1 | gm_log_lines INFO "compose:"; then
    gm_warn "stop: stopping n8n and PostgreSQL failed; the full stop below tries again"
  fi

  if ! gm_fence_holder_pid >/dev/null; then
    gm_info "stop: this host does not hold the fence: no Qdrant snapshot to EFS"
  elif ! gm_service_running qdrant; then
    gm_info "stop: Qdrant is not running: no snapshot"
  elif ! gm_qdrant_snapshot; then
    gm_error "stop: Qdrant snapshot failed; the newest earlier snapshot stays the one to restore"
    rc=1
  fi

  if stop_stack; then
    gm_fence_release || rc=1
  else
    gm_error "stop: keeping the fence because the stack did not stop"
    rc=1
  fi

  if ((rc == 0)); then
    gm_info "stop: done"
  else
    gm_error "stop: FINISHED WITH ERRORS (exit $rc)"
  fi
  return "$rc"
}

main "$@"
