#!/usr/bin/env bash
# Watch for a spot interruption notice and stop the stack cleanly within the two-minute warning.
#
# Polls IMDS (v2: session token from PUT /latest/api/token) at /latest/meta-data/spot/instance-action
# every $GM_SPOT_POLL_SECONDS (5) seconds. 404 = no notice; 200 = notice: runs stop.sh with a budget of
# $GM_SPOT_STOP_BUDGET (100) seconds for the whole stop (n8n, PostgreSQL flushed, a Qdrant snapshot if
# time is left, fence released), well inside the two-minute notice, and exits with its code. On an
# on-demand instance there is nothing to watch and it exits 0 at once. Run by
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

main() {
  gm_init spot-watcher
  : "${GM_SPOT_POLL_SECONDS:=5}"
  : "${GM_SPOT_MAX_POLLS:=0}"
  : "${GM_STOP_SCRIPT:=$GM_RUNTIME_DIR/host/stop.sh}"
  : "${GM_SPOT_STOP_BUDGET:=100}"
  gm_require_uint GM_SPOT_POLL_SECONDS
  gm_require_uint GM_SPOT_STOP_BUDGET
  [[ "$GM_SPOT_MAX_POLLS" =~ ^[0-9]+$ ]] || gm_die 2 "setting GM_SPOT_MAX_POLLS must be a whole number (got '$GM_SPOT_MAX_POLLS')"

  local body polls=0 code rc warned=false
  body=$(mktemp "$GM_RUN_DIR/spot-action.XXXXXX")
  # shellcheck disable=SC2064 # the file name is fixed now
  trap "rm -f '$body'" EXIT

  if refresh_token && [[ "$(imds_get /latest/meta-data/instance-life-cycle "$body")" == 200 ]] &&
    [[ "$(<"$body")" == on-demand ]]; then
    gm_info "spot watcher: on-demand instance, no interruption notice can come; exiting"
    return 0
  fi
  gm_info "spot watcher: polling $GM_IMDS_URL/latest/meta-data/spot/instance-action every ${GM_SPOT_POLL_SECONDS}s"

  while :; do
    if [[ -z "$TOKEN" ]] || ((TOKEN_POLLS >= 3600)); then
      refresh_token || true
    fi
    if [[ -n "$TOKEN" ]]; then
      TOKEN_POLLS=$((TOKEN_POLLS + 1))
      code=$(imds_get /latest/meta-data/spot/instance-action "$body")
      case "$code" in
        200)
          gm_warn "spot watcher: interruption notice received: $(tr -d '\n' <"$body"); stopping the stack"
          rc=0
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
        *)
          if [[ "$warned" == false ]]; then
            gm_warn "spot watcher: unexpected answer $code from IMDS, still watching"
            warned=true
          fi
          ;;
      esac
    elif [[ "$warned" == false ]]; then
      gm_warn "spot watcher: no IMDSv2 token, still trying"
      warned=true
    fi
    polls=$((polls + 1))
    if ((GM_SPOT_MAX_POLLS > 0 && polls >= GM_SPOT_MAX_POLLS)); then
      gm_info "spot watcher: no interruption notice after $polls polls; exiting (GM_SPOT_MAX_POLLS)"
      return 0
    fi
    sleep "$GM_SPOT_POLL_SECONDS"
  done
}

main "$@"
