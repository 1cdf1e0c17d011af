#!/usr/bin/env bash
# Watch IMDS for the two ways this host is taken away, and stop the stack cleanly before it goes.
#
# Polls IMDS (v2: session token from PUT /latest/api/token) every $GM_SPOT_POLL_SECONDS (5) seconds:
#   - on a spot instance, /latest/meta-data/spot/instance-action. 404 = no notice; 200 = interruption notice:
#     runs stop.sh with a budget of $GM_SPOT_STOP_BUDGET (100) seconds for the whole stop (n8n, PostgreSQL
#     flushed, a Qdrant snapshot if time is left, fence released), well inside the two-minute notice, and
#     exits with its code;
#   - with $GM_TERMINATION_HOOK set (the group's termination lifecycle hook: scale-in by `gm-ops stop`, a
#     schedule or a replacement), /latest/meta-data/autoscaling/target-lifecycle-state. 404 (not set yet) and
#     any other state (InService, Standby, Detached...) = nothing to do; "Terminated" = the group is about to
#     terminate this host and holds it in Terminating:Wait: the watchdog timer is stopped (it must not restart
#     a service once the fence is released), then `systemctl stop geusemaker.service` (ExecStop is
#     stop.sh, with its own 270 s budget, well inside the hook's heartbeat; the unit stays stopped, so nothing
#     brings the stack back), then `aws autoscaling complete-lifecycle-action --lifecycle-action-result CONTINUE`
#     for this instance, whatever the stop's outcome (stop.sh releases the fence either way). Exits 0 once
#     completed, 1 when the completion failed (systemd restarts the watcher, which completes again).
# An on-demand instance without a termination hook has nothing to watch: exits 0 at once. Run by
# geusemaker-spot-watcher.service.
#
# GM_SPOT_MAX_POLLS (default 0 = forever) bounds the loop; GM_STOP_SCRIPT overrides stop.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOKEN=
TOKEN_POLLS=0

refresh_token() {
  TOKEN=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
    "$GM_IMDS_URL/latest/api/token" 2>/dev/null) || TOKEN=
  TOKEN_POLLS=0
  [[ -n "$TOKEN" ]]
}

# imds_get PATH BODYFILE: prints the HTTP status (000 when IMDS cannot be reached).
imds_get() {
  local code
  code=$(curl -sS --max-time 2 -o "$2" -w '%{http_code}' -H "X-aws-ec2-metadata-token: $TOKEN" \
    "$GM_IMDS_URL$1" 2>/dev/null) || code=000
  printf '%s' "${code:-000}"
}

# clean_stop_for_scale_in: the clean stop the termination hook waits for, then the hook's completion.
clean_stop_for_scale_in() {
  local instance rc=0 output
  gm_warn "scale-in watcher: this host's target lifecycle state is Terminated; stopping the stack cleanly (systemctl stop geusemaker.service)"
  # First the watchdog: it must not restart a service of a stack that no longer holds the fence while the
  # group waits for the completion below.
  systemctl stop geusemaker-watchdog.timer 2>&1 | gm_log_lines INFO "systemctl:" ||
    gm_warn "scale-in watcher: could not stop geusemaker-watchdog.timer"
  if ! systemctl stop geusemaker.service 2>&1 | gm_log_lines INFO "systemctl:"; then
    gm_error "scale-in watcher: systemctl stop geusemaker.service failed; completing the lifecycle action anyway (stop.sh releases the fence on every path)"
  else
    gm_info "scale-in watcher: the stack is stopped (database flushed, vectors snapshotted, fence released)"
  fi
  if ! instance=$(imds_value /latest/meta-data/instance-id) || [[ ! "$instance" =~ ^i-[0-9a-f]+$ ]]; then
    gm_error "scale-in watcher: cannot read this host's instance id from IMDS; the hook $GM_TERMINATION_HOOK continues at its heartbeat timeout"
    return 1
  fi
  output=$(aws autoscaling complete-lifecycle-action --region "$GM_REGION" --lifecycle-hook-name "$GM_TERMINATION_HOOK" \
    --auto-scaling-group-name "$GM_AUTO_SCALING_GROUP" --instance-id "$instance" --lifecycle-action-result CONTINUE 2>&1) || rc=$?
  if ((rc != 0)); then
    output=$(grep -v '^[[:space:]]*$' <<<"$output" | paste -sd ' ' -)
    gm_error "scale-in watcher: complete-lifecycle-action failed (exit $rc): $output"
    return 1
  fi
  gm_info "scale-in watcher: completed the lifecycle action $GM_TERMINATION_HOOK for $instance (CONTINUE): the group terminates this host now"
}

# imds_value PATH: the body of a 200 answer (token refreshed once on 401).
imds_value() {
  local body code
  body=$(mktemp "$GM_RUN_DIR/imds.XXXXXX") || return 1
  code=$(imds_get "$1" "$body")
  if [[ "$code" == 401 ]] && refresh_token; then code=$(imds_get "$1" "$body"); fi
  if [[ "$code" != 200 ]]; then
    rm -f "$body"
    return 1
  fi
  tr -d '\n' <"$body"
  rm -f "$body"
}

# report_unexpected CODE: an answer that is neither 200, 404 nor 401, logged once until things are normal again.
report_unexpected() {
  if [[ "$warned" == false ]]; then
    gm_warn "spot watcher: unexpected answer $1 from IMDS, still watching"
    warned=true
  fi
}

main() {
  gm_init spot-watcher
  : "${GM_SPOT_POLL_SECONDS:=5}"
  : "${GM_SPOT_MAX_POLLS:=0}"
  : "${GM_STOP_SCRIPT:=$GM_RUNTIME_DIR/host/stop.sh}"
  : "${GM_SPOT_STOP_BUDGET:=100}"
  : "${GM_TERMINATION_HOOK:=}"
  gm_require_uint GM_SPOT_POLL_SECONDS
  gm_require_uint GM_SPOT_STOP_BUDGET
  [[ "$GM_SPOT_MAX_POLLS" =~ ^[0-9]+$ ]] || gm_die 2 "setting GM_SPOT_MAX_POLLS must be a whole number (got '$GM_SPOT_MAX_POLLS')"
  if [[ -n "$GM_TERMINATION_HOOK" ]]; then
    [[ -n "${GM_AUTO_SCALING_GROUP:-}" && -n "${GM_REGION:-}" ]] ||
      gm_die 2 "GM_TERMINATION_HOOK is set but GM_AUTO_SCALING_GROUP or GM_REGION is not: cannot complete the lifecycle action"
  fi

  local body polls=0 code rc warned=false watch_spot=true
  body=$(mktemp "$GM_RUN_DIR/spot-action.XXXXXX")
  # shellcheck disable=SC2064 # the file name is fixed now
  trap "rm -f '$body'" EXIT

  if refresh_token && [[ "$(imds_get /latest/meta-data/instance-life-cycle "$body")" == 200 ]] &&
    [[ "$(<"$body")" == on-demand ]]; then
    if [[ -z "$GM_TERMINATION_HOOK" ]]; then
      gm_info "spot watcher: on-demand instance, no interruption notice can come and no termination hook is set; exiting"
      return 0
    fi
    watch_spot=false
  fi
  if [[ "$watch_spot" == true ]]; then
    gm_info "spot watcher: polling $GM_IMDS_URL/latest/meta-data/spot/instance-action every ${GM_SPOT_POLL_SECONDS}s"
  fi
  if [[ -n "$GM_TERMINATION_HOOK" ]]; then
    gm_info "scale-in watcher: polling $GM_IMDS_URL/latest/meta-data/autoscaling/target-lifecycle-state every ${GM_SPOT_POLL_SECONDS}s (hook $GM_TERMINATION_HOOK)"
  fi

  while :; do
    if [[ -z "$TOKEN" ]] || ((TOKEN_POLLS >= 3600)); then
      refresh_token || true
    fi
    if [[ -n "$TOKEN" ]]; then
      TOKEN_POLLS=$((TOKEN_POLLS + 1))
      if [[ "$watch_spot" == true ]]; then
        code=$(imds_get /latest/meta-data/spot/instance-action "$body")
        case "$code" in
          200)
            gm_warn "spot watcher: interruption notice received: $(tr -d '\n' <"$body"); stopping the stack"
            rc=0
            # As on a scale-in: the watchdog must not restart a service once stop.sh has released the fence.
            systemctl stop geusemaker-watchdog.timer 2>&1 | gm_log_lines INFO "systemctl:" ||
              gm_warn "spot watcher: could not stop geusemaker-watchdog.timer"
            # Two minutes in all, from the notice to the termination: the whole stop gets GM_SPOT_STOP_BUDGET.
            GM_STOP_BUDGET=$GM_SPOT_STOP_BUDGET bash "$GM_STOP_SCRIPT" || rc=$?
            if ((rc == 0)); then
              gm_info "spot watcher: stack stopped cleanly before the interruption"
            else
              gm_error "spot watcher: stop.sh failed (exit $rc)"
            fi
            return "$rc"
            ;;
          404) warned=false ;;
          401) TOKEN= ;;
          *) report_unexpected "$code" ;;
        esac
      fi
      if [[ -n "$GM_TERMINATION_HOOK" && -n "$TOKEN" ]]; then
        code=$(imds_get /latest/meta-data/autoscaling/target-lifecycle-state "$body")
        case "$code" in
          200)
            if [[ "$(tr -d '\n' <"$body")" == Terminated ]]; then
              clean_stop_for_scale_in
              return
            fi
            ;;
          404) ;;
          401) TOKEN= ;;
          *) report_unexpected "$code" ;;
        esac
      fi
    elif [[ "$warned" == false ]]; then
      gm_warn "spot watcher: no IMDSv2 token, still trying"
      warned=true
    fi
    polls=$((polls + 1))
    if ((GM_SPOT_MAX_POLLS > 0 && polls >= GM_SPOT_MAX_POLLS)); then
      gm_info "spot watcher: no interruption notice or termination after $polls polls; exiting (GM_SPOT_MAX_POLLS)"
      return 0
    fi
    sleep "$GM_SPOT_POLL_SECONDS"
  done
}

main "$@"
