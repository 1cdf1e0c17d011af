#!/usr/bin/env bash
# Backup sets of the GeuseMaker data: one directory per set under $GM_BACKUP_DIR on EFS, named by its UTC
# time (plus a tag such as pre-upgrade-<from>-<to>), holding
#   postgres.dump   n8n's database, `pg_dump --format=custom` run inside the postgres container as n8n
#   qdrant.snapshot a full Qdrant storage snapshot
#   n8n.tar.gz      n8n's own files (its EFS directory, without caches)
#   data-version.env the runtime versions that wrote this data (see upgrade-lib.sh)
#   manifest.json   time, tag, runtime versions (docker/versions.env), each file's bytes and sha256
# A set is written into a hidden temporary directory and renamed into place when complete, so a set that
# exists is whole. The scale tier's AI host writes vector sets (qdrant.snapshot and data-version.env only, no
# database: RDS keeps its own) named <UTC time>[-TAG]-vectors (pre-upgrade sets keep their name); they are pruned by their own counts, never against the
# full sets, and "latest" (gm_backup_latest_full) is the newest set whose manifest lists postgres.dump.
# Sourced after lib.sh, never run.
# shellcheck shell=bash

GM_BACKUP_FILES=(postgres.dump qdrant.snapshot n8n.tar.gz data-version.env)

# gm_backup_dump_postgres FILE: n8n's database as a custom-format archive (restorable with pg_restore).
gm_backup_dump_postgres() {
  local file=$1
  if ! gm_compose exec -T postgres pg_dump --username=n8n --dbname=n8n --format=custom >"$file" 2>"$file.err"; then
    gm_error "backup: pg_dump failed: $(tr '\n' ' ' <"$file.err")"
    rm -f "$file" "$file.err"
    return 1
  fi
  rm -f "$file.err"
  [[ -s "$file" ]] || { gm_error "backup: pg_dump wrote nothing"; return 1; }
}

# gm_postgres_sql SQL: runs SQL in the postgres container as n8n (the image's superuser), connected to the
# maintenance database, stopping at the first error.
gm_postgres_sql() {
  printf '%s\n' "$1" | gm_compose exec -T postgres psql --no-psqlrc --quiet --username=n8n --dbname=postgres \
    --set=ON_ERROR_STOP=1
}

# gm_backup_restore_postgres FILE: n8n's database becomes exactly the archive FILE. The archive is restored
# into a new database first (one transaction, stops at the first error), which then takes the place of n8n's
# in two renames; a failure before that leaves n8n's database as it was. Tables a newer n8n added are gone
# too, which a restore over the old database (pg_restore --clean) would keep.
gm_backup_restore_postgres() {
  local file=$1 output
  if ! output=$(gm_postgres_sql 'DROP DATABASE IF EXISTS n8n_restore; CREATE DATABASE n8n_restore OWNER n8n;' 2>&1); then
    gm_error "restore: could not make the database n8n_restore: ${output//$'\n'/ }"
    return 1
  fi
  if ! output=$(gm_compose exec -T postgres pg_restore --username=n8n --dbname=n8n_restore --no-owner \
    --single-transaction --exit-on-error <"$file" 2>&1); then
    gm_postgres_sql 'DROP DATABASE IF EXISTS n8n_restore;' >/dev/null 2>&1 || true
    gm_error "restore: pg_restore failed, n8n's database is unchanged: ${output//$'\n'/ }"
    return 1
  fi
  if ! output=$(gm_postgres_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'n8n' AND pid <> pg_backend_pid();
ALTER DATABASE n8n RENAME TO n8n_replaced;
ALTER DATABASE n8n_restore RENAME TO n8n;
DROP DATABASE n8n_replaced WITH (FORCE);" 2>&1); then
    gm_error "restore: swapping the restored database in failed: ${output//$'\n'/ }"
    return 1
  fi
}

# gm_backup_archive_n8n FILE: n8n's EFS directory, without what n8n rebuilds by itself.
gm_backup_archive_n8n() {
  tar --create --gzip --file "$1" --directory "$GM_EFS_MOUNT/n8n" --numeric-owner \
    --exclude=./.cache --exclude=./cache --exclude=./nodes/node_modules .
}

# gm_versions_json: the pinned runtime versions of docker/versions.env as a JSON object.
gm_versions_json() {
  local file="$GM_RUNTIME_DIR/versions.env" line key value json='' sep=''
  if [[ -f "$file" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ "$line" =~ ^([A-Z][A-Z0-9_]*)=([A-Za-z0-9._:/@+-]+)$ ]] || continue
      key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
      json+="$sep\"$key\":\"$value\""
      sep=,
    done <"$file"
  fi
  printf '{%s}' "$json"
}

# gm_backup_sets: the complete sets, oldest first (names start with a sortable UTC time).
gm_backup_sets() {
  local dir
  shopt -s nullglob
  local dirs=("$GM_BACKUP_DIR"/[0-9]*Z*)
  shopt -u nullglob
  for dir in "${dirs[@]}"; do
    [[ -f "$dir/manifest.json" ]] && printf '%s\n' "${dir##*/}"
  done | LC_ALL=C sort
}

# gm_backup_is_full SET: the set's manifest lists postgres.dump (a vector set of the AI host does not).
gm_backup_is_full() {
  grep -q '"name":"postgres.dump"' "$GM_BACKUP_DIR/$1/manifest.json" 2>/dev/null
}

# gm_backup_latest_full: the newest complete set with n8n's database (what "latest" restores); empty without one.
gm_backup_latest_full() {
  local set latest=''
  while IFS= read -r set; do
    [[ -n "$set" ]] && gm_backup_is_full "$set" && latest=$set
  done < <(gm_backup_sets)
  printf '%s' "$latest"
}

# gm_backup_verify SET_DIR [REQUIRED...]: every file the manifest lists has its bytes and sha256, and it lists the
# REQUIRED files (default: those a restore needs: postgres.dump n8n.tar.gz data-version.env); prints the first
# mismatch and fails.
gm_backup_verify() {
  local dir=$1 manifest entry name bytes sha actual listed=' '
  shift
  local -a required=("$@")
  ((${#required[@]} > 0)) || required=(postgres.dump n8n.tar.gz data-version.env)
  manifest=$(<"$dir/manifest.json") || { printf 'manifest.json is missing'; return 1; }
  while [[ "$manifest" =~ \{\"name\":\"([A-Za-z0-9._-]+)\",\"bytes\":([0-9]+),\"sha256\":\"([0-9a-f]{64})\"\} ]]; do
    entry=${BASH_REMATCH[0]} name=${BASH_REMATCH[1]} bytes=${BASH_REMATCH[2]} sha=${BASH_REMATCH[3]}
    manifest=${manifest#*"$entry"}
    [[ -f "$dir/$name" ]] || { printf '%s is missing' "$name"; return 1; }
    [[ "$(stat -c %s "$dir/$name")" == "$bytes" ]] || { printf '%s has %s bytes, the manifest says %s' "$name" "$(stat -c %s "$dir/$name")" "$bytes"; return 1; }
    actual=$(sha256sum "$dir/$name") || { printf '%s cannot be read' "$name"; return 1; }
    [[ "${actual%% *}" == "$sha" ]] || { printf '%s does not match its sha256 in manifest.json' "$name"; return 1; }
    listed+="$name "
  done
  for name in "${required[@]}"; do
    [[ "$listed" == *" $name "* ]] || { printf 'manifest.json does not list %s' "$name"; return 1; }
  done
  return 0
}

# gm_backup_write_manifest DIR NAME TAG: manifest.json of the files in DIR (a set without Qdrant data has
# no qdrant.snapshot).
gm_backup_write_manifest() {
  local dir=$1 name=$2 tag=$3 file files='' sep='' sha
  for file in "${GM_BACKUP_FILES[@]}"; do
    [[ -f "$dir/$file" ]] || continue
    sha=$(sha256sum "$dir/$file") || return 1
    files+="$sep{\"name\":\"$file\",\"bytes\":$(stat -c %s "$dir/$file"),\"sha256\":\"${sha%% *}\"}"
    sep=,
  done
  printf '{"format":1,"name":"%s","tag":"%s","created":"%s","deployment":"%s","runtimeVersion":"%s","versions":%s,"files":[%s]}\n' \
    "$name" "$tag" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$GM_DEPLOYMENT" "$(gm_runtime_version)" "$(gm_versions_json)" \
    "$files" >"$dir/manifest.json"
}

# gm_data_versions: the versions that wrote the data on EFS (the record of upgrade-lib.sh, else this runtime's).
gm_data_versions() {
  if [[ -f "$GM_EFS_MOUNT/.geusemaker-data-version" ]]; then
    cat "$GM_EFS_MOUNT/.geusemaker-data-version"
  else
    cat "$GM_RUNTIME_DIR/versions.env"
  fi
}

# gm_runtime_version: GM_RUNTIME_VERSION of docker/versions.env ("unknown" without one).
gm_runtime_version() {
  local line
  while IFS= read -r line; do
    [[ "$line" =~ ^GM_RUNTIME_VERSION=([A-Za-z0-9._-]+)$ ]] && { printf '%s' "${BASH_REMATCH[1]}"; return 0; }
  done <"$GM_RUNTIME_DIR/versions.env" 2>/dev/null
  printf '%s' unknown
}

# _gm_backup_prune_keep KEEP SET...: removes all but the newest KEEP of the SETs (oldest first).
_gm_backup_prune_keep() {
  local keep=$1 i
  shift
  for ((i = 1; i <= $# - keep; i++)); do
    rm -rf "${GM_BACKUP_DIR:?}/${!i}"
    gm_info "backup: pruned ${!i}"
  done
}

# gm_backup_prune: keeps the newest $GM_BACKUP_KEEP scheduled full sets and the newest 3 tagged full ones, and, counted
# apart, as many vector sets of the AI host (by their manifest: a set without postgres.dump, -vectors or older), so
# that nightly vector sets never push out a full set; removes temporary directories of runs that died (only this host,
# holding the fence, writes sets).
gm_backup_prune() {
  local -a plain=() tagged=() vplain=() vtagged=()
  local set
  while IFS= read -r set; do
    [[ -n "$set" ]] || continue
    if gm_backup_is_full "$set"; then
      if [[ "$set" =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then plain+=("$set"); else tagged+=("$set"); fi
    elif [[ "$set" =~ ^[0-9]{8}T[0-9]{6}Z(-vectors)?$ ]]; then
      vplain+=("$set")
    else
      vtagged+=("$set")
    fi
  done < <(gm_backup_sets)
  _gm_backup_prune_keep "$GM_BACKUP_KEEP" "${plain[@]}"
  _gm_backup_prune_keep 3 "${tagged[@]}"
  _gm_backup_prune_keep "$GM_BACKUP_KEEP" "${vplain[@]}"
  _gm_backup_prune_keep 3 "${vtagged[@]}"
  find "$GM_BACKUP_DIR" -mindepth 1 -maxdepth 1 -name '.tmp-*' -prune -print -exec rm -rf {} + 2>/dev/null |
    while IFS= read -r set; do gm_info "backup: removed the unfinished set $set"; done
  return 0
}

# _gm_backup_qdrant FILE QDRANT_SOURCE: the set's Qdrant part. "live": a full snapshot of the running Qdrant;
# a file: a copy of that EFS snapshot; "none": no Qdrant data (nothing was ever stored).
_gm_backup_qdrant() {
  local file=$1 source=$2
  case "$source" in
    live) gm_qdrant_snapshot_locked gm_qdrant_snapshot_to "$file" ;;
    none) gm_info "backup: no Qdrant data to keep" ;;
    *) cp "$source" "$file" || { gm_error "backup: could not copy $source"; return 1; } ;;
  esac
}

# gm_backup_take TAG [QDRANT_SOURCE [PARTS]]: one whole set; prints its name. Call while holding the fence, with
# PostgreSQL running (and Qdrant, for a live snapshot: QDRANT_SOURCE defaults to live). PARTS "qdrant" (backup.sh on
# the scale tier's AI host, which keeps no database and no n8n files: RDS has its own backups) writes a set of the
# Qdrant snapshot and data-version.env only, named <time>[-TAG]-vectors (but pre-upgrade-*), which restore-backup.sh refuses (its manifest
# lists no postgres.dump) and "latest" never picks.
gm_backup_take() {
  local tag=$1 qdrant_source=${2:-live} parts=${3:-all} name tmp
  name=$(date -u +%Y%m%dT%H%M%SZ)${tag:+-$tag}
  # A pre-upgrade set keeps its name: the older runtime a rollback runs looks it up by it (its manifest tells it apart).
  [[ "$parts" != qdrant || "$tag" == pre-upgrade-* ]] || name+=-vectors
  tmp="$GM_BACKUP_DIR/.tmp-$name"
  mkdir -p "$GM_BACKUP_DIR"
  chmod 700 "$GM_BACKUP_DIR"
  rm -rf "$tmp"
  mkdir -m 700 "$tmp"
  gm_info "backup: writing set $name${parts:+ ($parts)}"
  if { [[ "$parts" == qdrant ]] || gm_backup_dump_postgres "$tmp/postgres.dump"; } &&
    _gm_backup_qdrant "$tmp/qdrant.snapshot" "$qdrant_source" &&
    { [[ "$parts" == qdrant ]] || gm_backup_archive_n8n "$tmp/n8n.tar.gz" || { gm_error "backup: archiving n8n's files failed"; false; }; } &&
    gm_data_versions >"$tmp/data-version.env" &&
    gm_backup_write_manifest "$tmp" "$name" "$tag" &&
    mv -T "$tmp" "$GM_BACKUP_DIR/$name"; then
    gm_info "backup: set $name complete in $GM_BACKUP_DIR"
    gm_backup_prune
    printf '%s\n' "$name"
    return 0
  fi
  rm -rf "$tmp"
  gm_error "backup: set $name failed; nothing was kept"
  return 1
}

# gm_postgres_wait: until PostgreSQL answers inside its container (bounded).
gm_postgres_wait() {
  local attempt
  for ((attempt = 1; ; attempt++)); do
    gm_compose exec -T postgres pg_isready --host=127.0.0.1 --username=n8n --dbname=n8n >/dev/null 2>&1 && return 0
    ((attempt < GM_HEALTH_ATTEMPTS)) || { gm_error "restore: PostgreSQL not ready after $attempt attempts"; return 1; }
    sleep "$GM_HEALTH_INTERVAL"
  done
}

# gm_restore_n8n_files SET_DIR: n8n's EFS directory becomes the set's (n8n must be stopped).
gm_restore_n8n_files() {
  find "$GM_EFS_MOUNT/n8n" -mindepth 1 -delete &&
    tar --extract --gzip --file "$1/n8n.tar.gz" --directory "$GM_EFS_MOUNT/n8n" --numeric-owner --same-permissions
}

# gm_restore_place_qdrant SET_DIR: Qdrant's local storage is emptied (Qdrant must be stopped) and the set's
# snapshot becomes the newest on EFS, which start.sh restores into it. A set without Qdrant data leaves
# Qdrant empty: every snapshot on EFS is newer than the set, so none may be restored.
gm_restore_place_qdrant() {
  local set_dir=$1 target
  find "$GM_QDRANT_LOCAL_DIR" -mindepth 1 -delete
  mkdir -p "$GM_QDRANT_SNAPSHOT_DIR"
  if [[ ! -f "$set_dir/qdrant.snapshot" ]]; then
    find "$GM_QDRANT_SNAPSHOT_DIR" -mindepth 1 -maxdepth 1 -name 'qdrant-*.snapshot' -delete
    gm_info "restore: the set holds no Qdrant data; Qdrant starts empty"
    return 0
  fi
  target="$GM_QDRANT_SNAPSHOT_DIR/qdrant-$(date -u +%Y%m%dT%H%M%SZ).snapshot"
  cp "$set_dir/qdrant.snapshot" "$GM_QDRANT_SNAPSHOT_DIR/.partial-${target##*/}" &&
    mv -f "$GM_QDRANT_SNAPSHOT_DIR/.partial-${target##*/}" "$target" || return 1
  gm_info "restore: Qdrant's local storage is empty; start.sh restores $target"
}
