#!/usr/bin/env bash
# Upgrades that can roll back. docker/versions.env pins the runtime (GM_RUNTIME_VERSION and every image);
# $GM_EFS_MOUNT/.geusemaker-data-version records the versions of the runtime that last wrote the data (a
# copy of its versions.env, written before that runtime's containers start). Before a start:
#   - same runtime: nothing to do
#   - a newer runtime on older data: a backup set tagged pre-upgrade-<from>-<to> first (the database dumped
#     before n8n migrates it, Qdrant's newest EFS snapshot, n8n's files), then the record moves on
#   - an older runtime on newer data (a CloudFormation rollback): refused, unless the pre-upgrade set made for
#     exactly this step exists; then that set is restored and the record moves back
#   - a Qdrant jump that skips a minor version: refused, naming the versions to go through (Qdrant's storage
#     is only compatible across one minor version; https://qdrant.tech/documentation/upgrades/)
# Sourced by start.sh after lib.sh and backup-lib.sh, never run.
# shellcheck shell=bash

# gm_env_value FILE KEY: the value of KEY=value in FILE (empty when missing).
gm_env_value() {
  local line
  [[ -f "$1" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" == "$2="* ]] && { printf '%s' "${line#*=}"; return 0; }
  done <"$1"
}

# gm_version_order A B: "older", "same" or "newer" (A compared with B, version sort).
gm_version_order() {
  if [[ "$1" == "$2" ]]; then
    printf '%s' same
  elif [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$1" ]]; then
    printf '%s' older
  else
    printf '%s' newer
  fi
}

gm_record_data_version() {
  local record="$GM_EFS_MOUNT/.geusemaker-data-version"
  cp "$1" "$record.tmp.$$" && mv -f "$record.tmp.$$" "$record"
}

# gm_qdrant_upgrade_path FROM_IMAGE TO_IMAGE: fails, printing the minor versions to go through, when the
# step from one Qdrant version to the other skips a minor (or changes the major).
gm_qdrant_upgrade_path() {
  local from=${1##*:v} to=${2##*:v} fmaj fmin tmaj tmin steps='' m
  [[ "$from" =~ ^([0-9]+)\.([0-9]+) ]] || return 0
  fmaj=${BASH_REMATCH[1]} fmin=${BASH_REMATCH[2]}
  [[ "$to" =~ ^([0-9]+)\.([0-9]+) ]] || return 0
  tmaj=${BASH_REMATCH[1]} tmin=${BASH_REMATCH[2]}
  if ((fmaj != tmaj)); then
    printf 'a major version change (v%s to v%s): follow Qdrant'"'"'s upgrade notes' "$from" "$to"
    return 1
  fi
  ((tmin - fmin <= 1)) && return 0
  for ((m = fmin + 1; m < tmin; m++)); do steps+="${steps:+, then }v$fmaj.$m (its latest patch)"; done
  printf 'v%s to v%s skips a minor version; go through %s first' "$from" "$to" "$steps"
  return 1
}

# gm_data_has_content: n8n's database exists on EFS (what a newer n8n migrates).
gm_data_has_content() {
  [[ -n "$(find "$GM_EFS_MOUNT/postgres" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ]]
}

# gm_pre_upgrade_backup FROM TO: the set a rollback to FROM restores. PostgreSQL runs alone (n8n, which
# migrates, does not); Qdrant's part is the newest snapshot on EFS, made by the older runtime.
gm_pre_upgrade_backup() {
  local from=$1 to=$2 qdrant_source
  qdrant_source=$(gm_qdrant_snapshot_files | tail -n 1)
  if gm_ai_role; then
    # No database here (RDS keeps its own backups): Qdrant's part alone, the newest EFS snapshot the older runtime made.
    gm_backup_take "pre-upgrade-$from-$to" "${qdrant_source:-none}" qdrant >/dev/null
    return
  fi
  if [[ -n "$(find "$GM_QDRANT_LOCAL_DIR" -mindepth 1 -maxdepth 1 -print -quit 2>/dev/null)" ]]; then
    gm_warn "upgrade: Qdrant's local storage is not empty; the pre-upgrade set keeps the newest EFS snapshot (${qdrant_source:-none})"
  fi
  gm_compose up --detach --no-deps postgres 2>&1 | gm_log_lines INFO "compose:" || { gm_error "upgrade: docker compose up postgres failed"; return 1; }
  gm_postgres_wait || return 1
  gm_backup_take "pre-upgrade-$from-$to" "${qdrant_source:-none}" >/dev/null
}

# gm_rollback_restore SET: a rollback onto data a newer runtime wrote restores the set taken before it did.
gm_rollback_restore() {
  local set_dir="$GM_BACKUP_DIR/$1" reason
  if gm_ai_role; then
    reason=$(gm_backup_verify "$set_dir" data-version.env) || { gm_error "upgrade: the pre-upgrade set $1 is damaged: $reason"; return 1; }
    gm_restore_place_qdrant "$set_dir" || { gm_error "upgrade: the Qdrant snapshot of $1 could not be placed"; return 1; }
    return 0
  fi
  reason=$(gm_backup_verify "$set_dir") || { gm_error "upgrade: the pre-upgrade set $1 is damaged: $reason"; return 1; }
  gm_compose up --detach --no-deps postgres 2>&1 | gm_log_lines INFO "compose:" || { gm_error "upgrade: docker compose up postgres failed"; return 1; }
  gm_postgres_wait || return 1
  gm_backup_restore_postgres "$set_dir/postgres.dump" || return 1
  gm_restore_n8n_files "$set_dir" || { gm_error "upgrade: n8n's files could not be restored from $1"; return 1; }
  gm_restore_place_qdrant "$set_dir" || { gm_error "upgrade: the Qdrant snapshot of $1 could not be placed"; return 1; }
}

# gm_check_data_version: the step of start.sh (fence held, Docker running, nothing of the stack started).
# Exits 2 with one line when this runtime must not start on the data.
gm_check_data_version() {
  local mine_file="$GM_RUNTIME_DIR/versions.env" record="$GM_EFS_MOUNT/.geusemaker-data-version"
  local mine data order reason set
  mine=$(gm_env_value "$mine_file" GM_RUNTIME_VERSION)
  [[ -n "$mine" ]] || gm_die 2 "start: $mine_file has no GM_RUNTIME_VERSION"
  if [[ ! -f "$record" ]]; then
    if ! gm_data_has_content; then
      gm_record_data_version "$mine_file"
      gm_info "upgrade: fresh data, written by runtime $mine from now on"
      return 0
    fi
    data=unrecorded
    order=newer
  else
    data=$(gm_env_value "$record" GM_RUNTIME_VERSION)
    order=$(gm_version_order "$mine" "$data")
  fi
  case "$order" in
    same)
      gm_info "upgrade: the data was written by this runtime ($mine)"
      return 0 ;;
    newer)
      if [[ -f "$record" ]] && ! reason=$(gm_qdrant_upgrade_path "$(gm_env_value "$record" GM_QDRANT_IMAGE)" "$(gm_env_value "$mine_file" GM_QDRANT_IMAGE)"); then
        gm_die 2 "start: refusing to upgrade Qdrant: $reason"
      fi
      gm_info "upgrade: runtime $mine on data written by $data: taking the pre-upgrade set first"
      gm_pre_upgrade_backup "$data" "$mine" || gm_die 1 "start: the pre-upgrade backup failed; the data stays as runtime $data wrote it"
      gm_record_data_version "$mine_file"
      gm_info "upgrade: pre-upgrade-$data-$mine is kept; the data is runtime $mine's from now on" ;;
    older)
      set=$(gm_backup_sets | grep -E -- "-pre-upgrade-$mine-$data\$" | tail -n 1 || true)
      [[ -n "$set" ]] ||
        gm_die 2 "start: the data was written by runtime $data, newer than this runtime $mine, and no pre-upgrade-$mine-$data backup set exists to roll back to; refusing to start on it"
      gm_info "upgrade: rolling back from runtime $data to $mine: restoring the pre-upgrade set $set"
      gm_rollback_restore "$set" || gm_die 1 "start: the rollback restore of $set failed"
      gm_record_data_version "$GM_BACKUP_DIR/$set/data-version.env"
      gm_info "upgrade: rolled back to the data of runtime $mine ($set)" ;;
  esac
}
