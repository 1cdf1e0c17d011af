#!/usr/bin/env bash
# Install and enable the systemd units of the runtime; called by the bootstrap after start.sh
# succeeded (`bash $GM_RUNTIME_DIR/host/install-services.sh`).
#
#   geusemaker.service                  ExecStart=start.sh, ExecStop=stop.sh: a reboot or shutdown
#                                        stops the stack cleanly; started here so that it is active
#   geusemaker-spot-watcher.service     spot interruption watcher
#   geusemaker-qdrant-snapshot.timer    Qdrant snapshot to EFS every GM_QDRANT_SNAPSHOT_MINUTES
#   geusemaker-backup.timer             a backup set to EFS on GM_BACKUP_SCHEDULE (systemd OnCalendar=)
#   geusemaker-models.service           model pull: enabled here; on the first boot the bootstrap starts it (--no-block)
#                                        after its success signal
#   geusemaker-replace-host.service     OnFailure of geusemaker.service: marks the host Unhealthy
#   geusemaker-watchdog.timer           every minute: restart a service after 3 failed checks, replace the host
#                                        when that did not help (never in the boot grace, at most once an hour)
#
# Docker itself is disabled at boot (docker.service and docker.socket): after a crash or hard reset dockerd
# would restart the containers (restart: unless-stopped) before EFS is mounted and without the fence.
# geusemaker.service starts after the EFS mount, and start.sh starts Docker once it holds the fence.
#
# Units come from $GM_RUNTIME_DIR/systemd, with this host's paths filled in, and are written to
# $GM_SYSTEMD_DIR (default /etc/systemd/system). Exit codes: 0 installed and started; 1 a systemctl
# step failed (named); 2 bad setting or path.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly UNITS=(geusemaker.service geusemaker-spot-watcher.service geusemaker-qdrant-snapshot.service
  geusemaker-qdrant-snapshot.timer geusemaker-backup.service geusemaker-backup.timer geusemaker-models.service
  geusemaker-replace-host.service geusemaker-watchdog.service geusemaker-watchdog.timer)
# The settings a unit passes on to the scripts (everything else is read from host.env / runtime.env).
readonly CARRIED=(GM_PREFIX GM_HOST_ENV_FILE GM_ENV_FILE GM_RUNTIME_DIR GM_EFS_MOUNT GM_LOG_DIR GM_RUN_DIR
  GM_QDRANT_LOCAL_DIR GM_QDRANT_SNAPSHOT_LOCAL_DIR GM_REQUIRE_EFS_MOUNT)

# A value systemd takes literally inside Environment="..." and ExecStart= (no quoting or specifiers).
systemd_safe() {
  [[ "$1" =~ ^[A-Za-z0-9_./:@+=,-]*$ ]]
}

render_unit() {
  local template=$1 environment=$2 bash_path=$3 text
  text=$(<"$template")
  text=${text//@ENVIRONMENT@/"$environment"}
  text=${text//@BASH@/"$bash_path"}
  text=${text//@HOST_DIR@/"$GM_RUNTIME_DIR/host"}
  text=${text//@EFS_MOUNT@/"$GM_EFS_MOUNT"}
  text=${text//@SNAPSHOT_MINUTES@/"$GM_QDRANT_SNAPSHOT_MINUTES"}
  text=${text//@BACKUP_SCHEDULE@/"$GM_BACKUP_SCHEDULE"}
  if [[ "$text" =~ @[A-Z_]+@ ]]; then
    gm_die 2 "install-services: $template has an unknown placeholder ${BASH_REMATCH[0]}"
  fi
  printf '%s\n' "$text"
}

run_systemctl() {
  gm_info "install-services: systemctl $*"
  if ! systemctl "$@" 2>&1 | gm_log_lines INFO "systemctl:"; then
    gm_die 1 "install-services: FAILED at 'systemctl $*'"
  fi
}

main() {
  gm_init install-services
  gm_validate_settings

  local bash_path name environment="" unit tmp
  bash_path=$(command -v bash)
  for name in "${CARRIED[@]}" bash_path; do
    systemd_safe "${!name}" || gm_die 2 "install-services: $name='${!name}' cannot be written into a unit (use a plain path)"
  done
  for name in "${CARRIED[@]}"; do
    [[ -n "${!name}" ]] || continue
    environment+="Environment=\"$name=${!name}\""$'\n'
  done
  environment=${environment%$'\n'}

  mkdir -p "$GM_SYSTEMD_DIR"
  for unit in "${UNITS[@]}"; do
    [[ -f "$GM_RUNTIME_DIR/systemd/$unit" ]] || gm_die 2 "install-services: $GM_RUNTIME_DIR/systemd/$unit is missing"
    tmp=$(mktemp "$GM_SYSTEMD_DIR/.$unit.XXXXXX")
    render_unit "$GM_RUNTIME_DIR/systemd/$unit" "$environment" "$bash_path" >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$GM_SYSTEMD_DIR/$unit"
    gm_info "install-services: wrote $GM_SYSTEMD_DIR/$unit"
  done

  run_systemctl daemon-reload
  run_systemctl disable docker.service docker.socket
  run_systemctl enable geusemaker.service geusemaker-spot-watcher.service geusemaker-qdrant-snapshot.timer \
    geusemaker-backup.timer geusemaker-watchdog.timer geusemaker-models.service
  # start.sh again, now under systemd: the fence is already held and the stack healthy, so this is
  # quick; it makes geusemaker.service active, which is what runs stop.sh at shutdown.
  run_systemctl start geusemaker.service
  run_systemctl start geusemaker-spot-watcher.service geusemaker-qdrant-snapshot.timer geusemaker-backup.timer \
    geusemaker-watchdog.timer
  # geusemaker-models.service is enabled (it runs after the stack on every later boot) but not started here: the
  # bootstrap starts it only after its success signal, so pulling models never delays a host's first health.
  gm_info "install-services: done (Qdrant snapshot every $GM_QDRANT_SNAPSHOT_MINUTES min, backup sets on '$GM_BACKUP_SCHEDULE', models: $GM_MODELS)"
}

main "$@"
