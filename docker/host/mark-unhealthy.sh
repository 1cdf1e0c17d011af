#!/usr/bin/env bash
# Ask this host's auto scaling group to replace it. Run by systemd when geusemaker.service fails
# (OnFailure=geusemaker-replace-host.service), e.g. when a reboot's start did not come up healthy or the fence
# stayed with another host. The group judges hosts by EC2 health only (a reboot must not replace a host), so
# a host whose stack is broken has to say so itself, as the bootstrap does on a failed first boot.
#
# Exit codes: 0 the group was told; 1 the call failed or the instance is unknown; 2 a missing setting.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  gm_init mark-unhealthy
  [[ -n "${GM_REGION:-}" ]] || gm_die 2 "mark-unhealthy: GM_REGION is not set in $GM_HOST_ENV_FILE"
  local instance output
  instance=$(gm_instance_id)
  [[ "$instance" =~ ^i-[0-9a-f]+$ ]] || gm_die 1 "mark-unhealthy: no instance id from the metadata service (got '$instance')"
  if ! output=$(aws autoscaling set-instance-health --region "$GM_REGION" --instance-id "$instance" \
    --health-status Unhealthy --no-should-respect-grace-period 2>&1); then
    gm_die 1 "mark-unhealthy: set-instance-health failed for $instance: ${output//$'\n'/ }"
  fi
  gm_warn "mark-unhealthy: the stack did not start on $instance: marked Unhealthy, its auto scaling group replaces it"
}

main "$@"
