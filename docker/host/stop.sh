#!/usr/bin/env bash
# Stop the GeuseMaker stack within one time budget, in the order that protects data first:
#   1. n8n (no new writes), 2. PostgreSQL (its shutdown checkpoint flushes the database),
#   3. a Qdrant snapshot to EFS, only within the time that is left, 4. the other services,
#   5. whatever still runs is killed, 6. the single-writer fence is released -- always, even when a step
#      failed or ran out of time, 7. on the scale tier's AI host (GM_ROLE=ai-services), its A record
#      GM_AI_HOST_NAME is deleted while it still holds this host's address (never a failed stop).
#
# ExecStop of geusemaker.service (reboot, shutdown) and run by spot-watcher.sh on a spot interruption
# notice (which passes GM_STOP_BUDGET=100 to fit the two-minute notice). Safe to run when nothing runs.
# Every step gets a share of what is left of GM_STOP_BUDGET (seconds, default 270: geusemaker.service
# gives ExecStop 5 minutes) and is killed when it overruns; time is read through gm_now (GM_NOW_CMD).
#
# Exit codes: 0 stack stopped and fence released (or nothing to do); 1 a step failed or ran out of time
# (logged; the fence is released anyway).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Seconds kept back for what must still happen after a step: the fence release waits up to 10 s for its
# holder (plus the few seconds a killed step may overrun); the forced kill of leftovers; the stop of the
# other services.
readonly FENCE_RESERVE=14
readonly KILL_RESERVE=8
readonly REST_RESERVE=10
# A compose stop needs a few seconds beyond its --timeout (the docker CLI, the daemon's bookkeeping).
readonly COMPOSE_OVERHEAD=5
# At most this long for the deletion of the AI host's DNS record (GM_ROLE=ai-services), after the fence release.
readonly DNS_SECONDS=20

project_containers() {
  docker ps --quiet --filter label=com.docker.compose.project=geusemaker --filter status=running
}

# compose_stop RESERVE SERVICES...: docker compose stop, bounded by the time left minus RESERVE.
compose_stop() {
  local reserve=$1 seconds timeout
  shift
  seconds=$(gm_budget "$((GM_STOP_TIMEOUT + COMPOSE_OVERHEAD))" "$reserve")
  if ((seconds <= COMPOSE_OVERHEAD)); then
    gm_error "stop: no time left to stop ${*:-the other services}"
    return 1
  fi
  timeout=$((seconds - COMPOSE_OVERHEAD))
  gm_info "stop: docker compose stop ${*:-(all)} (timeout ${timeout}s, ${seconds}s in all)"
  if ! gm_run_bounded "$seconds" gm_compose stop --timeout "$timeout" "$@" 2>&1 | gm_log_lines INFO "compose:"; then
    gm_error "stop: docker compose stop ${*:-(all)} failed or ran out of time"
    return 1
  fi
}

snapshot_qdrant() {
  local seconds reserve=$((REST_RESERVE + KILL_RESERVE + FENCE_RESERVE))
  if ! gm_fence_holder_pid >/dev/null; then
    gm_info "stop: this host does not hold the fence: no Qdrant snapshot to EFS"
    return 0
  fi
  if (($(gm_budget 5 "$reserve") < 5)); then
    gm_error "stop: no time left for a Qdrant snapshot; the newest earlier snapshot stays the one to restore"
    return 1
  fi
  if ! gm_run_bounded "$(gm_budget 10 "$reserve")" gm_service_running qdrant; then
    gm_info "stop: Qdrant is not running: no snapshot"
    return 0
  fi
  seconds=$(gm_budget 999999 "$reserve")
  gm_info "stop: Qdrant snapshot to EFS (at most ${seconds}s)"
  if ! GM_DEADLINE=$(($(gm_now) + seconds)) gm_qdrant_snapshot; then
    gm_error "stop: Qdrant snapshot failed; the newest earlier snapshot stays the one to restore"
    return 1
  fi
}

# kill_leftovers: the project's containers still running after the stops are killed (PostgreSQL recovers
# from its WAL), so that no writer outlives the fence.
kill_leftovers() {
  local ids seconds
  seconds=$(gm_budget "$KILL_RESERVE" "$FENCE_RESERVE")
  if ((seconds < 1)) || ! ids=$(gm_run_bounded "$seconds" project_containers); then
    gm_error "stop: cannot list the running containers (is docker running?)"
    return 1
  fi
  [[ -n "$ids" ]] || {
    gm_info "stop: every container of the stack is stopped"
    return 0
  }
  gm_error "stop: containers still running, killing them: ${ids//$'\n'/ }"
  seconds=$(gm_budget "$KILL_RESERVE" "$FENCE_RESERVE")
  if ((seconds >= 1)); then
    # shellcheck disable=SC2086 # one container id per word
    gm_run_bounded "$seconds" docker kill $ids 2>&1 | gm_log_lines INFO "docker:" || true
  fi
  return 1
}

# deregister_dns: the AI host's A record goes with it (see gm_ai_deregister_dns), after the fence release so that it
# never delays it, bounded by what is left of the budget; a failure or no time left is a WARN line, never a failed stop.
deregister_dns() {
  local seconds rc=0
  seconds=$(gm_budget "$DNS_SECONDS")
  if ((seconds < 2)); then
    gm_warn "stop: no time left to delete ${GM_AI_HOST_NAME:-the AI host name} from the hosted zone ${GM_AI_HOST_ZONE_ID:-}; the record stays"
    return 0
  fi
  gm_run_bounded "$seconds" gm_ai_deregister_dns || rc=$?
  ((rc != 124)) || gm_warn "stop: deleting ${GM_AI_HOST_NAME:-the AI host name} from the hosted zone ran out of time (${seconds}s); the record stays"
  return 0
}

main() {
  local rc=0 budget
  gm_init stop
  [[ "$GM_STOP_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || GM_STOP_TIMEOUT=30
  [[ "$GM_QDRANT_SNAPSHOT_KEEP" =~ ^[1-9][0-9]*$ ]] || GM_QDRANT_SNAPSHOT_KEEP=4
  case "$GM_TIER" in dev | automation | gpu | scale) ;; *) GM_TIER=dev ;; esac
  case "$GM_N8N_TLS" in off | self-signed) ;; *) GM_N8N_TLS=off ;; esac
  budget=${GM_STOP_BUDGET:-270}
  [[ "$budget" =~ ^[1-9][0-9]*$ ]] || budget=270
  GM_DEADLINE=$(($(gm_now) + budget))
  # The public URL does not matter to a stop; skip the IMDS lookup of the TLS mode.
  GM_N8N_PUBLIC_URL=${GM_N8N_PUBLIC_URL:-http://localhost:5678/}
  gm_export_compose_env
  gm_info "stop: stopping the stack (deployment $GM_DEPLOYMENT) within ${budget}s"

  # The AI host (GM_ROLE=ai-services) runs neither n8n nor PostgreSQL: its stop starts with the Qdrant snapshot.
  if ! gm_ai_role; then
    compose_stop "$((KILL_RESERVE + FENCE_RESERVE))" n8n || rc=1
    compose_stop "$((KILL_RESERVE + FENCE_RESERVE))" postgres || rc=1
  fi
  snapshot_qdrant || rc=1
  compose_stop "$((KILL_RESERVE + FENCE_RESERVE))" || rc=1
  kill_leftovers || rc=1
  gm_fence_release || rc=1
  if gm_ai_role; then deregister_dns; fi

  if ((rc == 0)); then
    gm_info "stop: done"
  else
    gm_error "stop: FINISHED WITH ERRORS (exit $rc)"
  fi
  return "$rc"
}

main "$@"
