#!/usr/bin/env bash
# Act on repeated health failures (run by geusemaker-watchdog.timer, once a minute). Each run reads
# every service's state (docker compose ps) and counts consecutive failures per service:
#   - the 3rd consecutive failure of a service restarts it (docker compose restart SERVICE), once;
#   - if it still fails 3 checks after that restart, the host is marked unhealthy (mark-unhealthy.sh)
#     so that its auto scaling group replaces it — at most once an hour;
#   - nothing is done during the boot grace (GM_WATCHDOG_GRACE_SECONDS after boot, default the
#     longest bootstrap timeout, 2 h, or GM_BOOTSTRAP_TIMEOUT_MINUTES when the host settings have it).
# Every action is logged with its reason, and the last one is kept in $GM_RUN_DIR/watchdog/last-action
# ("<epoch> <action> <service> <reason>") for `gm-ops status`.
#
# Exit codes: 0 checked (whatever was found); 1 an action failed; 2 a bad setting.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Consecutive failures that trigger the restart, and then the replacement.
readonly FAILURES_BEFORE_ACTION=3
readonly REPLACE_INTERVAL_SECONDS=3600

state_dir() { printf '%s/watchdog' "$GM_RUN_DIR"; }

read_number() {
  local file value
  file="$(state_dir)/$1"
  value=$(cat "$file" 2>/dev/null || true)
  [[ "$value" =~ ^[0-9]+$ ]] && printf '%s' "$value" || printf '0'
}

write_state() { printf '%s\n' "$2" >"$(state_dir)/$1"; }

record_action() {
  local now=$1 action=$2 service=$3 reason=$4
  write_state last-action "$now $action $service $reason"
  gm_warn "watchdog: $action $service: $reason"
}

uptime_seconds() {
  local uptime
  uptime=$(cut -d' ' -f1 "${GM_UPTIME_FILE:-/proc/uptime}" 2>/dev/null || true)
  printf '%s' "${uptime%%.*}"
}

grace_seconds() {
  if [[ -n "${GM_WATCHDOG_GRACE_SECONDS:-}" ]]; then
    printf '%s' "$GM_WATCHDOG_GRACE_SECONDS"
  elif [[ -n "${GM_BOOTSTRAP_TIMEOUT_MINUTES:-}" ]]; then
    printf '%s' $((GM_BOOTSTRAP_TIMEOUT_MINUTES * 60))
  else
    printf '%s' 7200
  fi
}

# service_states: "service state/health" per service, "missing" for a service without a container;
# every service "unknown" when docker compose does not answer.
service_states() {
  local states="" svc state health answered=true
  local -A seen=()
  if states=$(gm_service_states 2>/dev/null); then
    while read -r svc state health _; do
      if [[ -n "$svc" ]]; then seen[$svc]="${state:-unknown}/${health:-none}"; fi
    done <<<"$states"
  else
    answered=false
  fi
  for svc in "${GM_SERVICES[@]}"; do
    if [[ "$answered" == false ]]; then
      printf '%s %s\n' "$svc" "docker-compose-ps-failed"
    else
      printf '%s %s\n' "$svc" "${seen[$svc]:-missing}"
    fi
  done
}

# A running container without a healthcheck ("none") counts as healthy; starting does not.
is_healthy() { [[ "$1" == running/healthy || "$1" == running/none ]]; }

main() {
  gm_init watchdog
  local grace uptime now
  grace=$(grace_seconds)
  [[ "$grace" =~ ^[0-9]+$ ]] || gm_die 2 "watchdog: GM_WATCHDOG_GRACE_SECONDS must be a whole number of seconds (got '$grace')"
  uptime=$(uptime_seconds)
  if [[ "$uptime" =~ ^[0-9]+$ ]] && ((uptime < grace)); then
    gm_info "watchdog: within the boot grace (${uptime}s of ${grace}s since boot): no action"
    return 0
  fi
  mkdir -p "$(state_dir)"
  now=$(gm_now)

  local svc status failures restarted_at failed=0 to_replace="" reason=""
  while read -r svc status; do
    if is_healthy "$status"; then
      if (($(read_number "failures.$svc") > 0)); then gm_info "watchdog: $svc is healthy again"; fi
      write_state "failures.$svc" 0
      rm -f "$(state_dir)/restarted.$svc"
      continue
    fi
    failures=$(($(read_number "failures.$svc") + 1))
    write_state "failures.$svc" "$failures"
    gm_info "watchdog: $svc is $status ($failures consecutive failed checks)"
    restarted_at=$(read_number "restarted.$svc")
    if ((restarted_at == 0 && failures >= FAILURES_BEFORE_ACTION)); then
      record_action "$now" restart "$svc" "$failures consecutive failed checks ($status)"
      write_state "restarted.$svc" "$failures"
      if ! gm_compose restart "$svc" 2>&1 | gm_log_lines INFO "compose:"; then
        gm_error "watchdog: docker compose restart $svc failed"
        failed=1
      fi
    elif ((restarted_at > 0 && failures >= restarted_at + FAILURES_BEFORE_ACTION)) && [[ -z "$to_replace" ]]; then
      to_replace=$svc
      reason="still $status after its restart ($failures consecutive failed checks)"
    fi
  done < <(service_states)

  if [[ -n "$to_replace" ]]; then
    local last_replace
    last_replace=$(read_number last-replace)
    if ((last_replace > 0 && now - last_replace < REPLACE_INTERVAL_SECONDS)); then
      gm_warn "watchdog: $to_replace is $reason, but the host was marked unhealthy $((now - last_replace))s ago: not again within the hour"
    else
      write_state last-replace "$now"
      record_action "$now" replace-host "$to_replace" "$reason"
      if ! bash "$GM_HOST_DIR/mark-unhealthy.sh"; then
        gm_error "watchdog: marking the host unhealthy failed"
        failed=1
      fi
    fi
  fi
  return "$failed"
}

main "$@"
