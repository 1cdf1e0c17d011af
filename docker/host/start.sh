#!/usr/bin/env bash
# Bring the GeuseMaker stack up on this host; return only when every service is healthy.
#
# Called once by the bootstrap (`bash $GM_RUNTIME_DIR/host/start.sh`) and afterwards as ExecStart of
# geusemaker.service. Safe to run again on a host where the stack already runs.
#
#   1. settings + secrets ($GM_HOST_ENV_FILE, $GM_ENV_FILE), EFS must be a mount point
#   2. takes the single-writer fence on EFS (waits, bounded, while another host holds it)
#   3. starts Docker (not enabled at boot: after an unclean reboot dockerd would restart the containers
#      before EFS is mounted and without the fence)
#   3b. pulls every image this host does not have yet, all at once (docker compose pull --policy missing: Compose
#      5.x pulls the services' images in parallel); a host that has them asks no registry. A failure is only a
#      warning: `up` pulls what is still missing and says what failed
#   4. prepares the data directories with the owner each image needs (+ n8n's certificate with
#      GM_N8N_TLS=self-signed)
#   5. checks which runtime last wrote the data (upgrade-lib.sh): a newer runtime takes a pre-upgrade backup
#      set first, an older one restores the pre-upgrade set made for it or refuses to start; a Qdrant jump
#      that skips a minor version is refused
#   6. restores Qdrant from the newest EFS snapshot when the local storage is empty; empties Qdrant's local
#      snapshot directory (copies on their way to EFS only)
#   7. docker compose up -d (+ compose.gpu.yml when GM_TIER=gpu), n8n published on 127.0.0.1
#   8. waits, bounded, until every service is healthy (names those that are not)
#   9. upserts n8n's Ollama / Qdrant / Crawl4AI credentials (fixed ids)
#  10. publishes n8n on GM_N8N_BIND once its owner exists (expose-n8n.sh does it after the bootstrap
#      claimed the owner on the first boot)
#
# On the scale tier's AI host (GM_ROLE=ai-services) only Ollama, Qdrant and Crawl4AI run, published on
# GM_AI_SERVICES_BIND for the n8n tasks on ECS; step 9 imports the credentials into the scale tier's database on RDS
# (pointing at GM_AI_HOST_NAME) instead, step 10 is replaced by the registration of this host's private IPv4 as the
# A record GM_AI_HOST_NAME in the private hosted zone GM_AI_HOST_ZONE_ID (before the import), and there is no n8n,
# PostgreSQL or n8n certificate directory. There a failed import is one WARN line and not a failed start (the AI
# services do not need RDS; the next start imports again), unless GM_CREDENTIALS_REQUIRED=true (a caller that needs
# the credentials in place, such as a migration's restore).
#
# Exit codes: 0 every service healthy; 1 the stack did not come up healthy (or docker compose
# failed); 2 bad configuration (missing secret, bad setting, EFS not mounted, no docker compose);
# 3 the fence stayed held by another host. If this run took the fence and then fails, it stops the
# stack and releases the fence before exiting.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-lib.sh"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=upgrade-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/upgrade-lib.sh"

readonly RESTORE_CONTAINER=geusemaker-qdrant-restore

on_exit() {
  local rc=$?
  trap - EXIT
  if ((rc != 0)) && [[ "${GM_FENCE_TAKEN:-false}" == true ]]; then
    gm_error "start: failed after taking the fence: stopping the stack and releasing the fence"
    gm_compose stop -t "$GM_STOP_TIMEOUT" 2>&1 | gm_log_lines INFO "compose:" || gm_warn "start: docker compose stop failed"
    gm_fence_release || true
  fi
  if ((rc == 0)); then
    gm_info "start: done, every service is healthy"
  else
    gm_error "start: FAILED (exit $rc)"
  fi
  exit "$rc"
}

# prepare_dir DIR OWNER MODE
prepare_dir() {
  mkdir -p "$1"
  chown "$2" "$1"
  chmod "$3" "$1"
}

prepare_directories() {
  local efs_dirs=ollama
  if ! gm_ai_role; then
    prepare_dir "$GM_EFS_MOUNT/n8n" "$GM_N8N_UID:$GM_N8N_UID" 700
    prepare_dir "$GM_EFS_MOUNT/postgres" "$GM_POSTGRES_UID:$GM_POSTGRES_UID" 700
    efs_dirs="n8n, postgres, ollama"
  fi
  prepare_dir "$GM_EFS_MOUNT/ollama" 0:0 700
  prepare_dir "$GM_QDRANT_SNAPSHOT_DIR" 0:0 700
  prepare_dir "$GM_QDRANT_LOCAL_DIR" 0:0 700
  prepare_dir "$GM_QDRANT_SNAPSHOT_LOCAL_DIR" 0:0 700
  gm_info "start: data directories ready ($efs_dirs, qdrant-snapshots on $GM_EFS_MOUNT; qdrant on $GM_QDRANT_LOCAL_DIR)"
}

# ROLE_SERVICES: the services this host runs, as arguments of docker compose pull/up: none (every service of
# compose.yml) on a single host, Ollama, Qdrant and Crawl4AI on the AI host.
ROLE_SERVICES=()

# restore_container_state: "state health" of the one-shot restore container, "gone" without one.
restore_container_state() {
  docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' \
    "$RESTORE_CONTAINER" 2>/dev/null || echo gone
}

restore_failed() {
  gm_error "start: Qdrant restore from $1 failed: $2"
  docker logs --tail 30 "$RESTORE_CONTAINER" 2>&1 | gm_log_lines ERROR "qdrant-restore:" || true
  docker rm -f "$RESTORE_CONTAINER" >/dev/null 2>&1 || true
  # Leave the storage empty so that the next start tries the restore again.
  find "$GM_QDRANT_LOCAL_DIR" -mindepth 1 -delete 2>/dev/null || true
  return 1
}

# Qdrant cannot live on NFS, so a new host starts with an empty local storage: fill it from the
# newest full snapshot on EFS by running Qdrant once with --storage-snapshot.
restore_qdrant_if_empty() {
  local newest attempt state health
  if [[ -n "$(find "$GM_QDRANT_LOCAL_DIR" -mindepth 1 -maxdepth 1 -print -quit)" ]]; then
    gm_info "start: Qdrant local storage is not empty, no restore needed"
    return 0
  fi
  newest=$(gm_qdrant_snapshot_files | tail -n 1)
  if [[ -z "$newest" ]]; then
    gm_info "start: Qdrant local storage is empty and there is no snapshot on EFS: Qdrant starts empty"
    return 0
  fi
  gm_info "start: Qdrant local storage is empty: restoring the newest snapshot $newest"
  docker rm -f "$RESTORE_CONTAINER" >/dev/null 2>&1 || true
  if ! gm_compose run --detach --no-deps --name "$RESTORE_CONTAINER" \
    --volume "$newest:/qdrant/restore/full.snapshot:ro" \
    qdrant ./entrypoint.sh --storage-snapshot /qdrant/restore/full.snapshot 2>&1 | gm_log_lines INFO "compose:"; then
    restore_failed "$newest" "docker compose run failed"
    return 1
  fi
  for ((attempt = 1; ; attempt++)); do
    read -r state health _ <<<"$(restore_container_state)"
    if [[ "$state" == running && "$health" == healthy ]]; then
      break
    fi
    if [[ "$state" != running && "$state" != created && "$state" != restarting ]]; then
      restore_failed "$newest" "restore container is ${state:-gone}"
      return 1
    fi
    if ((attempt >= GM_HEALTH_ATTEMPTS)); then
      restore_failed "$newest" "Qdrant not ready after $attempt attempts (${state:-?}/${health:-none})"
      return 1
    fi
    gm_info "start: waiting for the Qdrant restore (attempt $attempt/$GM_HEALTH_ATTEMPTS, ${state}/${health:-none})"
    sleep "$GM_HEALTH_INTERVAL"
  done
  docker stop -t "$GM_STOP_TIMEOUT" "$RESTORE_CONTAINER" >/dev/null 2>&1 || true
  docker rm -f "$RESTORE_CONTAINER" >/dev/null 2>&1 || true
  gm_info "start: Qdrant restored from $newest"
}

# clear_local_snapshots: Qdrant's local snapshot directory holds only copies on their way to EFS; files
# left there (a snapshot Qdrant finished after its client gave up, a run killed mid-way) are removed while
# no snapshot runs on this host (the snapshot lock is free).
clear_local_snapshots() {
  local lockfd
  exec {lockfd}>>"$GM_RUN_DIR/qdrant-snapshot.lock"
  if flock --nonblock "$lockfd"; then
    find "$GM_QDRANT_SNAPSHOT_LOCAL_DIR" -mindepth 1 -delete 2>/dev/null || true
    gm_info "start: Qdrant's local snapshot directory $GM_QDRANT_SNAPSHOT_LOCAL_DIR is empty"
  fi
  exec {lockfd}>&-
}

# start_docker: dockerd runs only once this host holds the fence on a mounted EFS.
start_docker() {
  local attempt
  gm_info "start: starting Docker (systemctl start docker.service)"
  if ! systemctl start docker.service 2>&1 | gm_log_lines INFO "systemctl:"; then
    gm_error "start: systemctl start docker.service failed"
    return 1
  fi
  for ((attempt = 1; ; attempt++)); do
    docker info >/dev/null 2>&1 && return 0
    if ((attempt >= GM_HEALTH_ATTEMPTS)); then
      gm_error "start: the Docker daemon does not answer after $attempt attempts"
      return 1
    fi
    sleep "$GM_HEALTH_INTERVAL"
  done
}

# pull_missing_images: every image not on this host yet, in parallel, before anything else needs one (the Qdrant
# restore below would otherwise pull Qdrant's alone first, and `up` the rest after it).
pull_missing_images() {
  gm_info "start: pulling the images this host does not have (docker compose pull --policy missing, in parallel)"
  if ! gm_compose pull --policy missing --quiet "${ROLE_SERVICES[@]}" 2>&1 | gm_log_lines INFO "compose:"; then
    gm_warn "start: docker compose pull failed; docker compose up pulls what is still missing"
  fi
}

# choose_n8n_publish_address: loopback, unless n8n already runs here with its owner (a later start).
choose_n8n_publish_address() {
  GM_N8N_PUBLISH=127.0.0.1
  if gm_ai_role; then
    gm_info "start: the AI host runs ${GM_AI_SERVICES[*]} on $GM_AI_SERVICES_BIND (n8n runs on ECS)"
    return 0
  fi
  if [[ "$GM_N8N_BIND" != 127.0.0.1 ]] && gm_service_running n8n && [[ "$(gm_n8n_owner_state)" == claimed ]]; then
    GM_N8N_PUBLISH=$GM_N8N_BIND
  fi
  gm_info "start: n8n is published on $GM_N8N_PUBLISH:5678 for now (GM_N8N_BIND=$GM_N8N_BIND)"
}

# expose_n8n_if_claimed: the exposure of expose-n8n.sh on later boots; on the first boot n8n has no owner
# yet and stays on 127.0.0.1 until the bootstrap claimed it and runs expose-n8n.sh.
expose_n8n_if_claimed() {
  [[ "$GM_N8N_BIND" != 127.0.0.1 ]] || return 0
  ! gm_ai_role || return 0
  if [[ "$(gm_n8n_owner_state)" != claimed ]]; then
    gm_info "start: n8n has no owner yet: it stays on 127.0.0.1 until the owner is set up (then host/expose-n8n.sh publishes it on $GM_N8N_BIND)"
    return 0
  fi
  gm_n8n_expose
}

compose_up() {
  local attempt bad
  for ((attempt = 1; ; attempt++)); do
    gm_info "start: docker compose up -d ${ROLE_SERVICES[*]:+${ROLE_SERVICES[*]} }(tier $GM_TIER, attempt $attempt/$GM_UP_ATTEMPTS)"
    if gm_compose up --detach --remove-orphans "${ROLE_SERVICES[@]}" 2>&1 | gm_log_lines INFO "compose:"; then
      return 0
    fi
    if ((attempt >= GM_UP_ATTEMPTS)); then
      bad=$(gm_unhealthy_services) || true
      gm_error "start: docker compose up failed $attempt times; not healthy: ${bad:-none}"
      return 1
    fi
    gm_warn "start: docker compose up failed, retrying"
    sleep "$GM_HEALTH_INTERVAL"
  done
}

main() {
  gm_init start
  trap on_exit EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT

  gm_validate_settings
  gm_require_secrets
  if gm_ai_role; then ROLE_SERVICES=("${GM_AI_SERVICES[@]}"); fi
  command -v docker >/dev/null 2>&1 || gm_die 2 "start: docker is not installed"
  docker compose version >/dev/null 2>&1 || gm_die 2 "start: the docker compose plugin is not installed"
  if [[ "$GM_REQUIRE_EFS_MOUNT" == true ]] && ! mountpoint -q "$GM_EFS_MOUNT"; then
    gm_die 2 "start: $GM_EFS_MOUNT is not a mount point; refusing to put the data on the root volume (mount EFS first)"
  fi
  gm_info "start: deployment $GM_DEPLOYMENT, tier $GM_TIER, EFS $GM_EFS_MOUNT, runtime $GM_RUNTIME_DIR"

  gm_fence_acquire || exit 3
  start_docker || exit 1
  pull_missing_images
  prepare_directories
  if ! gm_ai_role; then
    gm_n8n_tls_prepare || exit 1
  fi
  gm_export_compose_env
  gm_check_data_version
  restore_qdrant_if_empty || exit 1
  clear_local_snapshots
  choose_n8n_publish_address
  compose_up || exit 1
  gm_wait_healthy "$GM_HEALTH_ATTEMPTS" "$GM_HEALTH_INTERVAL" || exit 1
  if gm_ai_role; then
    gm_ai_register_dns || exit 1
  fi
  if gm_ai_role && [[ "${GM_CREDENTIALS_REQUIRED:-false}" != true ]]; then
    # The AI services do not depend on RDS: a database away (maintenance window, failover) must not take them down
    # (a failed start puts the host into a replacement loop). One WARN line; the next start imports again.
    GM_IMPORT_FAIL_LEVEL=WARN GM_IMPORT_FAIL_NOTE="; the AI services stay up, the next start.sh imports again" \
      gm_n8n_import_credentials || true
  else
    gm_n8n_import_credentials || exit 1
  fi
  expose_n8n_if_claimed || exit 1
}

main "$@"
