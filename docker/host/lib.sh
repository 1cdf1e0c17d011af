#!/usr/bin/env bash
# Shared library of the GeuseMaker host scripts: settings, logging, docker compose, the single-writer
# fence on EFS, Qdrant snapshots and the n8n credential import. Sourced, never run.
#
# Every path has a default and can be overridden through the environment (the defaults honour
# $GM_PREFIX, empty on a host, so tests can run everything inside a temporary directory). Every
# external command (docker, curl, flock, sleep, date, systemctl, chown, mountpoint...) is called
# through PATH, and every wait is a bounded number of attempts separated by `sleep`.
# shellcheck shell=bash

if [[ -n "${GM_LIB_LOADED:-}" ]]; then
  return 0
fi
GM_LIB_LOADED=1

GM_HOST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The services of docker/compose.yml (same names as SERVICES in ops/src/contract.ts); gm_init narrows them to
# GM_AI_SERVICES on the scale tier's AI host (GM_ROLE=ai-services), which runs neither n8n nor PostgreSQL.
GM_SERVICES=(postgres ollama qdrant n8n crawl4ai)
GM_AI_SERVICES=(ollama qdrant crawl4ai)
# The secrets start.sh needs (env var names from SECRET_PURPOSES in ops/src/contract.ts).
GM_REQUIRED_SECRETS=(POSTGRES_PASSWORD N8N_ENCRYPTION_KEY N8N_USER_MANAGEMENT_JWT_SECRET QDRANT_API_KEY CRAWL4AI_API_TOKEN)
# Image users that own their EFS directory (n8nio/n8n runs as node=1000, postgres:*-alpine as postgres=70).
# shellcheck disable=SC2034 # used by the scripts that source this file
GM_N8N_UID=1000 GM_POSTGRES_UID=70
# Where compose.yml mounts $GM_EFS_MOUNT/tls inside the n8n container (read-only).
GM_N8N_TLS_CONTAINER_DIR=/home/node/tls
GM_FENCE_HOLDER_NAME=geusemaker-fence-holder

GM_SCRIPT=${GM_SCRIPT:-$(basename "$0" .sh)}

# ---------------------------------------------------------------------------------------------
# Logging: one line per event, UTC timestamp, script name and level, to stderr and to a log file.
# ---------------------------------------------------------------------------------------------

gm_log() {
  local level=$1
  shift
  local line stamp
  # The shell's own clock (bash 4.2+): no `date` process per log line.
  TZ=UTC printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  line="$stamp geusemaker[$GM_SCRIPT] $level $*"
  printf '%s\n' "$line" >&2
  if [[ -n "${GM_LOG_FILE:-}" ]]; then
    printf '%s\n' "$line" >>"$GM_LOG_FILE" 2>/dev/null || true
  fi
}
gm_info() { gm_log INFO "$@"; }
gm_warn() { gm_log WARN "$@"; }
gm_error() { gm_log ERROR "$@"; }

# gm_log_lines LEVEL PREFIX: log every line read from stdin (output of docker compose, ollama...).
gm_log_lines() {
  local level=$1 prefix=$2 line
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line//$'\r'/ }
    [[ -n "${line//[[:space:]]/}" ]] || continue
    gm_log "$level" "$prefix $line"
  done
}

# gm_die CODE MESSAGE...: log an error and exit with CODE.
gm_die() {
  local code=$1
  shift
  gm_error "$@"
  exit "$code"
}

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

# gm_load_env_file FILE MODE: export KEY=value lines of FILE that are not already set in the
# environment (the environment wins). MODE "literal": the value is everything after the first "="
# (runtime.env, written by the bootstrap). MODE "shell": a value wrapped in single or double quotes
# is unwrapped (host.env is written as KEY='value'). Blank lines and # comments are skipped.
# Nothing is evaluated, so a value can never run code.
gm_load_env_file() {
  local file=$1 mode=$2 line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line=${line%$'\r'}
    [[ -z "${line//[[:space:]]/}" || "$line" =~ ^[[:space:]]*# ]] && continue
    if [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      key=${BASH_REMATCH[2]}
      value=${BASH_REMATCH[3]}
    else
      gm_warn "ignoring a malformed line in $file"
      continue
    fi
    if [[ "$mode" == shell ]]; then
      if [[ ${#value} -ge 2 && "$value" == \'*\' ]]; then
        value=${value:1:${#value}-2}
        value=${value//"'\\''"/"'"}
      elif [[ ${#value} -ge 2 && "$value" == \"*\" ]]; then
        value=${value:1:${#value}-2}
      fi
    fi
    if [[ "$mode" == shell && "$key" != GM_* ]]; then
      gm_warn "ignoring $key in $file: host settings are GM_* names"
      continue
    fi
    if [[ -z "${!key+set}" ]]; then
      printf -v "$key" '%s' "$value"
      # shellcheck disable=SC2163 # exporting the variable whose name is in $key
      export "$key"
    fi
  done <"$file"
}

# gm_init NAME: settings, defaults, directories and the log file. Call once at the top of a script.
gm_init() {
  GM_SCRIPT=$1
  umask 077
  : "${GM_PREFIX:=}"
  : "${GM_HOST_ENV_FILE:=$GM_PREFIX/etc/geusemaker/host.env}"
  : "${GM_ENV_FILE:=$GM_PREFIX/etc/geusemaker/runtime.env}"
  gm_load_env_file "$GM_HOST_ENV_FILE" shell
  if [[ -r "$GM_ENV_FILE" ]]; then
    gm_load_env_file "$GM_ENV_FILE" literal
  fi

  : "${GM_RUNTIME_DIR:=$(cd "$GM_HOST_DIR/.." && pwd)}"
  : "${GM_EFS_MOUNT:=$GM_PREFIX/mnt/efs}"
  : "${GM_LOG_DIR:=$GM_PREFIX/var/log/geusemaker}"
  : "${GM_RUN_DIR:=$GM_PREFIX/run/geusemaker}"
  : "${GM_QDRANT_LOCAL_DIR:=$GM_PREFIX/var/lib/geusemaker/qdrant}"
  : "${GM_QDRANT_SNAPSHOT_LOCAL_DIR:=$GM_PREFIX/var/lib/geusemaker/qdrant-snapshots}"
  : "${GM_SYSTEMD_DIR:=$GM_PREFIX/etc/systemd/system}"
  : "${GM_DEPLOYMENT:=geusemaker}"
  : "${GM_TIER:=dev}"
  : "${GM_ROLE:=single-host}"
  : "${GM_AI_SERVICES_BIND:=127.0.0.1}"
  : "${GM_AI_HOST_NAME:=}"
  : "${GM_AI_HOST_ZONE_ID:=}"
  : "${GM_MODELS:=llama3.2:1b}"
  : "${GM_QDRANT_SNAPSHOT_MINUTES:=15}"
  : "${GM_QDRANT_SNAPSHOT_KEEP:=4}"
  : "${GM_QDRANT_SNAPSHOT_MAX_SECONDS:=14400}"
  : "${GM_QDRANT_SNAPSHOT_POLL:=5}"
  : "${GM_BACKUP_KEEP:=7}"
  : "${GM_BACKUP_SCHEDULE:=*-*-* 03:00:00}"
  : "${GM_QDRANT_URL:=http://127.0.0.1:6333}"
  : "${GM_N8N_PUBLIC_URL:=}"
  : "${GM_N8N_BIND:=127.0.0.1}"
  : "${GM_N8N_TLS:=off}"
  : "${GM_TIMEZONE:=UTC}"
  : "${GM_REQUIRE_EFS_MOUNT:=true}"
  : "${GM_FENCE_ATTEMPTS:=60}"
  : "${GM_FENCE_INTERVAL:=5}"
  : "${GM_HEALTH_ATTEMPTS:=90}"
  : "${GM_HEALTH_INTERVAL:=10}"
  : "${GM_UP_ATTEMPTS:=2}"
  : "${GM_IMPORT_ATTEMPTS:=3}"
  : "${GM_STOP_TIMEOUT:=30}"
  : "${GM_IMDS_URL:=http://169.254.169.254}"

  GM_FENCE_LOCK="$GM_EFS_MOUNT/.geusemaker.lock"
  GM_FENCE_OWNER="$GM_EFS_MOUNT/.geusemaker.lock.owner"
  GM_FENCE_PIDFILE="$GM_RUN_DIR/fence.pid"
  GM_QDRANT_SNAPSHOT_DIR="$GM_EFS_MOUNT/qdrant-snapshots"
  # shellcheck disable=SC2034 # used by backup-lib.sh and the scripts that source it
  GM_BACKUP_DIR="$GM_EFS_MOUNT/backups"
  GM_N8N_TLS_DIR="$GM_EFS_MOUNT/tls"
  # The address n8n's port is published on right now: loopback until its owner exists (see gm_n8n_expose).
  : "${GM_N8N_PUBLISH:=127.0.0.1}"

  if gm_ai_role; then
    GM_SERVICES=("${GM_AI_SERVICES[@]}")
  fi

  mkdir -p "$GM_LOG_DIR" "$GM_RUN_DIR"
  chmod 700 "$GM_RUN_DIR"
  GM_LOG_FILE="$GM_LOG_DIR/$GM_SCRIPT.log"
  export GM_PREFIX GM_HOST_ENV_FILE GM_ENV_FILE GM_RUNTIME_DIR GM_EFS_MOUNT GM_LOG_DIR GM_RUN_DIR \
    GM_QDRANT_LOCAL_DIR GM_QDRANT_SNAPSHOT_LOCAL_DIR GM_SYSTEMD_DIR GM_DEPLOYMENT GM_TIER GM_ROLE GM_MODELS \
    GM_QDRANT_SNAPSHOT_MINUTES GM_N8N_PUBLIC_URL GM_N8N_BIND GM_N8N_TLS GM_TIMEZONE
}

# gm_ai_role: this host is the scale tier's AI host (GM_ROLE=ai-services): Ollama, Qdrant and Crawl4AI only, for
# the n8n tasks on ECS; n8n and its database live elsewhere (ECS, RDS).
gm_ai_role() {
  [[ "${GM_ROLE:-single-host}" == ai-services ]]
}

# gm_require_uint NAME: the variable NAME holds a whole number >= 1.
gm_require_uint() {
  local name=$1
  [[ "${!name}" =~ ^[1-9][0-9]*$ ]] || gm_die 2 "setting $name must be a whole number >= 1 (got '${!name}')"
}

# gm_validate_settings: the settings every script relies on; a bad one exits with code 2.
gm_validate_settings() {
  case "$GM_ROLE" in
    single-host)
      case "$GM_TIER" in
        dev | automation | gpu) ;;
        *) gm_die 2 "setting GM_TIER must be dev, automation or gpu (got '$GM_TIER')" ;;
      esac
      # Only the AI host publishes Ollama, Qdrant and Crawl4AI beyond loopback (to the n8n tasks).
      [[ "$GM_AI_SERVICES_BIND" == 127.0.0.1 ]] ||
        gm_die 2 "setting GM_AI_SERVICES_BIND must stay 127.0.0.1 unless GM_ROLE=ai-services (got '$GM_AI_SERVICES_BIND')"
      ;;
    ai-services)
      [[ "$GM_TIER" == scale ]] || gm_die 2 "setting GM_ROLE=ai-services is the scale tier's AI host: GM_TIER must be scale (got '$GM_TIER')"
      [[ "$GM_AI_HOST_NAME" =~ ^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$ ]] ||
        gm_die 2 "setting GM_AI_HOST_NAME must be a DNS name such as ai.my-stack.geusemaker.internal (got '$GM_AI_HOST_NAME')"
      [[ "$GM_AI_HOST_ZONE_ID" =~ ^[A-Z0-9]{1,32}$ ]] ||
        gm_die 2 "setting GM_AI_HOST_ZONE_ID must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (got '$GM_AI_HOST_ZONE_ID')"
      ;;
    *) gm_die 2 "setting GM_ROLE must be single-host or ai-services (got '$GM_ROLE')" ;;
  esac
  [[ "$GM_AI_SERVICES_BIND" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] ||
    gm_die 2 "setting GM_AI_SERVICES_BIND must be an IPv4 address such as 127.0.0.1 or 0.0.0.0 (got '$GM_AI_SERVICES_BIND')"
  [[ "$GM_N8N_BIND" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] ||
    gm_die 2 "setting GM_N8N_BIND must be an IPv4 address such as 127.0.0.1 or 0.0.0.0 (got '$GM_N8N_BIND')"
  case "$GM_N8N_TLS" in
    off | self-signed) ;;
    *) gm_die 2 "setting GM_N8N_TLS must be off or self-signed (got '$GM_N8N_TLS')" ;;
  esac
  if [[ -n "$GM_N8N_PUBLIC_URL" && ! "$GM_N8N_PUBLIC_URL" =~ ^https?://[^[:space:]]+$ ]]; then
    gm_die 2 "setting GM_N8N_PUBLIC_URL must be an http(s) URL or empty (got '$GM_N8N_PUBLIC_URL')"
  fi
  local n
  for n in GM_FENCE_ATTEMPTS GM_FENCE_INTERVAL GM_HEALTH_ATTEMPTS GM_HEALTH_INTERVAL GM_UP_ATTEMPTS GM_IMPORT_ATTEMPTS \
    GM_STOP_TIMEOUT GM_QDRANT_SNAPSHOT_MINUTES GM_QDRANT_SNAPSHOT_KEEP GM_QDRANT_SNAPSHOT_MAX_SECONDS \
    GM_QDRANT_SNAPSHOT_POLL GM_BACKUP_KEEP; do
    gm_require_uint "$n"
  done
  # A systemd OnCalendar= expression (geusemaker-backup.timer), e.g. daily or *-*-* 03:00:00.
  [[ "$GM_BACKUP_SCHEDULE" =~ ^[A-Za-z0-9*:,./~\ -]+$ ]] ||
    gm_die 2 "setting GM_BACKUP_SCHEDULE must be a systemd calendar expression such as 'daily' or '*-*-* 03:00:00' (got '$GM_BACKUP_SCHEDULE')"
}

# gm_require_secrets: every secret the stack needs is present (values are never logged).
gm_require_secrets() {
  local missing=() name
  for name in "${GM_REQUIRED_SECRETS[@]}"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  if ((${#missing[@]} > 0)); then
    gm_die 2 "missing secret(s) ${missing[*]}: expected as NAME=value lines in $GM_ENV_FILE"
  fi
  if [[ -f "$GM_ENV_FILE" ]]; then
    local mode
    mode=$(stat -c %a "$GM_ENV_FILE" 2>/dev/null || echo unknown)
    [[ "$mode" == 600 || "$mode" == 400 ]] || gm_warn "$GM_ENV_FILE has mode $mode; expected 600 (root only)"
  fi
}

# gm_imds_get PATH: one IMDSv2 metadata value (a session token first); fails when IMDS does not answer.
gm_imds_get() {
  local token
  token=$(curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
    "$GM_IMDS_URL/latest/api/token" 2>/dev/null) || return 1
  curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$GM_IMDS_URL$1" 2>/dev/null
}

gm_instance_id() {
  if [[ -z "${GM_INSTANCE_ID:-}" ]]; then
    if GM_INSTANCE_ID=$(gm_imds_get /latest/meta-data/instance-id) && [[ "$GM_INSTANCE_ID" =~ ^i-[0-9a-f]+$ ]]; then
      :
    else
      GM_INSTANCE_ID=$(hostname 2>/dev/null || echo unknown-host)
    fi
  fi
  printf '%s' "$GM_INSTANCE_ID"
}

# gm_public_ipv4: this host's public IPv4 address (IMDSv2 meta-data/public-ipv4); fails without one.
gm_public_ipv4() {
  local ip
  ip=$(gm_imds_get /latest/meta-data/public-ipv4) || return 1
  [[ "$ip" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || return 1
  printf '%s' "$ip"
}

# ---------------------------------------------------------------------------------------------
# Derived secrets: the per-service values that are not Secrets Manager secrets of their own (SECRET_PURPOSES
# with source 'derived' in ops/src/contract.ts) are computed from the n8n encryption key, so they are as
# stable as the key and cost nothing. Bash builtins and coreutils only: the key never reaches a command line.
# ---------------------------------------------------------------------------------------------

# gm_hmac_sha256_hex KEY MESSAGE: HMAC-SHA256 (RFC 2104) of MESSAGE under KEY, as 64 lowercase hex digits.
gm_hmac_sha256_hex() {
  local key_hex digest i byte ipad='' opad='' inner=''
  key_hex=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n') || return 1
  # A key longer than SHA-256's 64-byte block is hashed first; a shorter one is padded with zeros.
  if ((${#key_hex} > 128)); then
    key_hex=$(printf '%s' "$1" | sha256sum) || return 1
    key_hex=${key_hex%% *}
  fi
  while ((${#key_hex} < 128)); do key_hex+=00; done
  for ((i = 0; i < 128; i += 2)); do
    byte=$((16#${key_hex:i:2}))
    printf -v ipad '%s\\x%02x' "$ipad" $((byte ^ 0x36))
    printf -v opad '%s\\x%02x' "$opad" $((byte ^ 0x5c))
  done
  digest=$({ printf '%b' "$ipad" && printf '%s' "$2"; } | sha256sum) || return 1
  digest=${digest%% *}
  for ((i = 0; i < 64; i += 2)); do inner+="\\x${digest:i:2}"; done
  digest=$({ printf '%b' "$opad" && printf '%b' "$inner"; } | sha256sum) || return 1
  digest=${digest%% *}
  [[ "$digest" =~ ^[0-9a-f]{64}$ ]] || return 1
  printf '%s' "$digest"
}

# gm_derive_secret KEY PURPOSE: the value of a derived secret: the first 48 hex digits of
# HMAC-SHA256(key = the n8n encryption key, message = "geusemaker/<purpose>").
gm_derive_secret() {
  local digest
  [[ -n "$1" && "$2" =~ ^[a-z0-9-]+$ ]] || return 1
  digest=$(gm_hmac_sha256_hex "$1" "geusemaker/$2") || return 1
  printf '%s' "${digest:0:48}"
}

# ---------------------------------------------------------------------------------------------
# Time: one clock for every deadline (GM_NOW_CMD prints epoch seconds in tests), bounded commands.
# ---------------------------------------------------------------------------------------------

gm_now() {
  if [[ -n "${GM_NOW_CMD:-}" ]]; then
    "$GM_NOW_CMD"
  else
    # bash 5's clock variable: polling loops call this every second, without a `date` process each time.
    printf '%s\n' "$EPOCHSECONDS"
  fi
}

# gm_time_left: seconds until $GM_DEADLINE (epoch seconds), or a very large number without one.
gm_time_left() {
  if [[ -z "${GM_DEADLINE:-}" ]]; then
    printf '%s' 999999
    return 0
  fi
  local now
  now=$(gm_now)
  printf '%s' "$((GM_DEADLINE - now))"
}

# gm_budget WANT [RESERVE]: WANT seconds, or less so that RESERVE seconds stay before $GM_DEADLINE (>= 0).
gm_budget() {
  local want=$1 reserve=${2:-0} left
  left=$(($(gm_time_left) - reserve))
  ((left < want)) && want=$left
  ((want < 0)) && want=0
  printf '%s' "$want"
}

# gm_run_bounded SECONDS COMMAND...: runs COMMAND (a program or a function) in its own process group and
# kills the whole group (TERM, then KILL) once SECONDS have passed on gm_now. Returns COMMAND's status, or
# 124 when it was killed. On the real clock it looks every 20 ms with the read builtin (no
# process per look, and a quick command is not held for a whole second); a test's clock (GM_NOW_CMD) moves
# only with `sleep`, so there it waits with `sleep 1`.
gm_run_bounded() {
  local limit=$1
  shift
  (
    local start pid rc=0 grace tick='' _
    start=$(gm_now)
    # Job control only for the fork (its own process group), then off again: no job notices on stderr.
    set -m
    "$@" &
    pid=$!
    set +m
    # A pipe nobody writes to: `read -t` on it is a sleep without a process.
    [[ -n "${GM_NOW_CMD:-}" ]] || exec {tick}<> <(:)
    while gm_pid_alive "$pid"; do
      if (($(gm_now) - start >= limit)); then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for grace in 1 2; do
          gm_pid_alive "$pid" || break
          sleep "$grace"
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        exit 124
      fi
      if [[ -n "$tick" ]]; then read -rt 0.02 -u "$tick" _ || true; else sleep 1; fi
    done
    wait "$pid" 2>/dev/null || rc=$?
    exit "$rc"
  )
}

# ---------------------------------------------------------------------------------------------
# docker compose
# ---------------------------------------------------------------------------------------------

# gm_compose ARGS...: docker compose on the runtime's compose file (+ the GPU override on GPU hosts).
gm_compose() {
  local -a files=(-f "$GM_RUNTIME_DIR/compose.yml")
  if [[ "$GM_TIER" == gpu ]]; then
    files+=(-f "$GM_RUNTIME_DIR/compose.gpu.yml")
  fi
  # compose.yml publishes n8n on ${GM_N8N_BIND}: the address it is published on right now, not the final one.
  # Ollama, Qdrant (HTTP) and Crawl4AI on ${GM_AI_SERVICES_BIND}: beyond loopback on the AI host only.
  local ai_bind=127.0.0.1
  if gm_ai_role; then ai_bind=${GM_AI_SERVICES_BIND:-127.0.0.1}; fi
  GM_AI_SERVICES_BIND=$ai_bind GM_N8N_BIND=$GM_N8N_PUBLISH docker compose --project-name geusemaker --project-directory "$GM_RUNTIME_DIR" "${files[@]}" "$@"
}

# gm_export_compose_env: what compose.yml interpolates besides the secrets.
gm_export_compose_env() {
  if [[ "$GM_N8N_TLS" == self-signed ]]; then
    GM_N8N_PROTOCOL=https
    GM_N8N_SSL_KEY="$GM_N8N_TLS_CONTAINER_DIR/n8n.key"
    GM_N8N_SSL_CERT="$GM_N8N_TLS_CONTAINER_DIR/n8n.crt"
    if [[ -z "$GM_N8N_PUBLIC_URL" ]]; then
      local ip
      if ip=$(gm_public_ipv4); then
        GM_N8N_PUBLIC_URL="https://$ip:5678/"
      else
        GM_N8N_PUBLIC_URL="https://localhost:5678/"
        gm_warn "n8n TLS: this host has no public IPv4 address in IMDS; n8n's public URL is $GM_N8N_PUBLIC_URL"
      fi
    fi
  else
    GM_N8N_PROTOCOL=http GM_N8N_SSL_KEY='' GM_N8N_SSL_CERT=''
  fi
  export GM_N8N_PROTOCOL GM_N8N_SSL_KEY GM_N8N_SSL_CERT GM_N8N_PUBLIC_URL
}

# gm_service_states: "service state health" per container of the project (docker compose ps).
gm_service_states() {
  gm_compose ps --all --format '{{.Service}} {{.State}} {{.Health}}'
}

# gm_unhealthy_services: prints "name(state/health)" for each service that is not healthy and
# returns 1 when there is one (a service without a container is "missing").
gm_unhealthy_services() {
  local states svc state health bad=()
  local -A seen=()
  if ! states=$(gm_service_states 2>&1); then
    printf 'docker compose ps failed: %s' "${states//$'\n'/ }"
    return 1
  fi
  while read -r svc state health _; do
    [[ -n "$svc" ]] || continue
    seen[$svc]="${state:-unknown}/${health:-none}"
  done <<<"$states"
  for svc in "${GM_SERVICES[@]}"; do
    if [[ -z "${seen[$svc]:-}" ]]; then
      bad+=("$svc(missing)")
    elif [[ "${seen[$svc]}" != running/healthy ]]; then
      bad+=("$svc(${seen[$svc]})")
    fi
  done
  if ((${#bad[@]} > 0)); then
    printf '%s' "${bad[*]}"
    return 1
  fi
  return 0
}

# gm_service_running NAME: the service's container is running.
gm_service_running() {
  local states svc state
  states=$(gm_service_states 2>/dev/null) || return 1
  while read -r svc state _; do
    [[ "$svc" == "$1" && "$state" == running ]] && return 0
  done <<<"$states"
  return 1
}

# gm_wait_healthy ATTEMPTS INTERVAL: until every service is healthy; names the laggards on failure.
gm_wait_healthy() {
  local attempts=$1 interval=$2 attempt bad
  for ((attempt = 1; ; attempt++)); do
    if bad=$(gm_unhealthy_services); then
      gm_info "all services healthy: ${GM_SERVICES[*]}"
      return 0
    fi
    if ((attempt >= attempts)); then
      gm_error "services not healthy after $attempt attempts: $bad"
      return 1
    fi
    gm_info "waiting for services to become healthy (attempt $attempt/$attempts): $bad"
    sleep "$interval"
  done
}

# ---------------------------------------------------------------------------------------------
# The single-writer fence
#
# An exclusive flock(2) on $GM_EFS_MOUNT/.geusemaker.lock, held by a small long-lived holder process
# (argv[0] "geusemaker-fence-holder") that blocks on a local FIFO without timers or children. On EFS
# (NFSv4.1) flock is a byte-range lock kept by the server: it lasts as long as the holder keeps the
# file open and is released when the holder exits or, if the host dies, when its NFS lease expires.
# The holder writes its pid to $GM_RUN_DIR/fence.pid itself as soon as it holds the lock, so no holder
# is ever left unrecorded (tmpfs: gone after a reboot, like the holder). Who holds the fence is written
# next to the lock ($GM_EFS_MOUNT/.geusemaker.lock.owner) and logged by every host waiting for it.
# ---------------------------------------------------------------------------------------------

# shellcheck disable=SC2016 # expanded by the holder's own bash, not here
GM_FENCE_HOLDER_SCRIPT='
exec 9>>"$1" || exit 70
flock --nonblock 9 || exit 75
printf "%s\n" "$$" >"$3"
printf "%s\n" "$$"
exec >/dev/null
exec 8<>"$2"
read -r _ <&8
'

# gm_pid_alive PID: the process exists and is not a zombie.
gm_pid_alive() {
  local pid=$1 stat=''
  kill -0 "$pid" 2>/dev/null || return 1
  # The read builtin, not `$(<file)`: when the process vanished between `kill -0` and the read, the failed `$(<…)`
  # made the calling subshell exit 1 under errexit now and then on a busy machine (about 1 call in 100 measured with
  # gm_run_bounded under load), so a bounded command that succeeded was reported failed.
  if { read -r stat <"/proc/$pid/stat"; } 2>/dev/null; then
    stat=${stat##*) }
    [[ "${stat%% *}" != Z ]] || return 1
  fi
  return 0
}

# gm_fence_holder_pid: prints the pid of this host's live fence holder; fails when there is none.
gm_fence_holder_pid() {
  local pid cmdline
  [[ -f "$GM_FENCE_PIDFILE" ]] || return 1
  pid=$(<"$GM_FENCE_PIDFILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  gm_pid_alive "$pid" || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == "$GM_FENCE_HOLDER_NAME "* ]] || return 1
  fi
  printf '%s' "$pid"
}

gm_fence_owner_info() {
  if [[ -s "$GM_FENCE_OWNER" ]]; then
    head -n 1 "$GM_FENCE_OWNER" 2>/dev/null || echo unknown
  else
    echo "unknown (no owner record)"
  fi
}

# _gm_fence_try: one non-blocking attempt; on success sets GM_FENCE_HOLDER_PID.
_gm_fence_try() {
  local fd line
  exec {fd}< <(exec -a "$GM_FENCE_HOLDER_NAME" bash -c "$GM_FENCE_HOLDER_SCRIPT" "$GM_FENCE_HOLDER_NAME" \
    "$GM_FENCE_LOCK" "$GM_RUN_DIR/fence.fifo" "$GM_FENCE_PIDFILE" </dev/null 2>>"$GM_LOG_DIR/fence.log")
  if IFS= read -r line <&"$fd" && [[ "$line" =~ ^[0-9]+$ ]]; then
    exec {fd}<&-
    GM_FENCE_HOLDER_PID=$line
    return 0
  fi
  exec {fd}<&-
  return 1
}

# gm_fence_acquire: take the fence, waiting (bounded) while another host holds it. Sets
# GM_FENCE_TAKEN=true when this call took it (false when this host already held it).
gm_fence_acquire() {
  local attempts=$GM_FENCE_ATTEMPTS interval=$GM_FENCE_INTERVAL attempt pid
  # shellcheck disable=SC2034 # read by the scripts that source this file
  GM_FENCE_TAKEN=false
  if pid=$(gm_fence_holder_pid); then
    gm_info "fence: already held by this host (holder pid $pid) on $GM_FENCE_LOCK"
    return 0
  fi
  [[ -d "$GM_EFS_MOUNT" ]] || { gm_error "fence: $GM_EFS_MOUNT does not exist"; return 1; }
  [[ -p "$GM_RUN_DIR/fence.fifo" ]] || mkfifo -m 600 "$GM_RUN_DIR/fence.fifo"
  for ((attempt = 1; ; attempt++)); do
    if _gm_fence_try; then
      printf 'instance=%s host=%s pid=%s since=%s\n' "$(gm_instance_id)" "$(hostname 2>/dev/null || echo unknown)" \
        "$GM_FENCE_HOLDER_PID" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$GM_FENCE_OWNER.tmp.$$"
      mv -f "$GM_FENCE_OWNER.tmp.$$" "$GM_FENCE_OWNER"
      # shellcheck disable=SC2034 # read by the scripts that source this file
      GM_FENCE_TAKEN=true
      gm_info "fence: acquired $GM_FENCE_LOCK (holder pid $GM_FENCE_HOLDER_PID, attempt $attempt)"
      return 0
    fi
    if ((attempt >= attempts)); then
      gm_error "fence: $GM_FENCE_LOCK still held by another host after $attempt attempts, giving up (holder: $(gm_fence_owner_info))"
      return 1
    fi
    gm_info "fence: waiting for $GM_FENCE_LOCK, held by $(gm_fence_owner_info) (attempt $attempt/$attempts)"
    sleep "$interval"
  done
}

# gm_fence_release: end this host's holder (which releases the lock); a no-op when not held.
gm_fence_release() {
  local pid attempt
  if ! pid=$(gm_fence_holder_pid); then
    rm -f "$GM_FENCE_PIDFILE"
    gm_info "fence: not held by this host, nothing to release"
    return 0
  fi
  if [[ -f "$GM_FENCE_OWNER" ]] && grep -q " pid=$pid " "$GM_FENCE_OWNER" 2>/dev/null; then
    rm -f "$GM_FENCE_OWNER"
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((attempt = 1; attempt <= 10; attempt++)); do
    gm_pid_alive "$pid" || break
    sleep 1
  done
  if gm_pid_alive "$pid"; then
    gm_warn "fence: holder pid $pid ignored TERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$GM_FENCE_PIDFILE"
  gm_info "fence: released $GM_FENCE_LOCK (holder pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Qdrant snapshots: full storage snapshots taken through Qdrant's API, copied to EFS.
# ---------------------------------------------------------------------------------------------

# gm_qdrant_api METHOD PATH [CURL ARGS...]: the API key goes through curl's stdin config, never argv.
gm_qdrant_api() {
  local method=$1 path=$2 key
  shift 2
  # Inside a quoted curl config value a backslash escapes the next character (curl's tool_parsecfg.c),
  # as in a JSON string.
  key=$(gm_json_escape "$QDRANT_API_KEY") || { gm_error "qdrant: QDRANT_API_KEY contains control characters"; return 1; }
  printf 'header = "api-key: %s"\n' "$key" |
    curl -fsS --config - -X "$method" "$@" "$GM_QDRANT_URL$path"
}

# gm_qdrant_snapshot_files: the EFS snapshots, oldest first (names carry a sortable UTC timestamp).
gm_qdrant_snapshot_files() {
  local f
  shopt -s nullglob
  local files=("$GM_QDRANT_SNAPSHOT_DIR"/qdrant-*.snapshot)
  shopt -u nullglob
  if ((${#files[@]} > 0)); then
    for f in "${files[@]}"; do printf '%s\n' "$f"; done | LC_ALL=C sort
  fi
}

# gm_qdrant_snapshot: one full snapshot to EFS, then prune to the newest $GM_QDRANT_SNAPSHOT_KEEP.
gm_qdrant_snapshot() {
  gm_qdrant_snapshot_locked _gm_qdrant_snapshot_to_efs
}

# gm_qdrant_snapshot_locked COMMAND...: runs COMMAND under this host's snapshot lock (the timer, stop.sh
# and backup.sh may overlap), waited for (bounded), then removes every local snapshot whatever happened.
# With $GM_DEADLINE set (stop.sh) every wait and request fits in the time left before it; without one the
# whole snapshot may take $GM_QDRANT_SNAPSHOT_MAX_SECONDS (a bound for a stuck Qdrant, not for the work).
gm_qdrant_snapshot_locked() {
  local lockfd attempt rc=0
  if [[ -z "${QDRANT_API_KEY:-}" ]]; then
    gm_error "qdrant snapshot: QDRANT_API_KEY is not set"
    return 1
  fi
  if [[ -z "${GM_DEADLINE:-}" ]]; then
    local GM_DEADLINE
    GM_DEADLINE=$(($(gm_now) + ${GM_QDRANT_SNAPSHOT_MAX_SECONDS:-14400}))
  fi
  mkdir -p "$GM_QDRANT_SNAPSHOT_DIR"
  chmod 700 "$GM_QDRANT_SNAPSHOT_DIR"
  exec {lockfd}>>"$GM_RUN_DIR/qdrant-snapshot.lock"
  for ((attempt = 1; ; attempt++)); do
    flock --nonblock "$lockfd" && break
    if ((attempt >= 30 || $(gm_budget 2) < 2)); then
      exec {lockfd}>&-
      gm_error "qdrant snapshot: another snapshot still running after $attempt attempts"
      return 1
    fi
    sleep 2
  done
  "$@" || rc=$?
  _gm_qdrant_remove_local_snapshots
  exec {lockfd}>&-
  return "$rc"
}

# _gm_qdrant_request WANT_SECONDS METHOD PATH [CURL ARGS...]: one bounded API call; fails at once when
# no time is left.
_gm_qdrant_request() {
  local seconds
  seconds=$(gm_budget "$1")
  shift
  if ((seconds < 1)); then
    gm_error "qdrant snapshot: no time left for $1 $2"
    return 1
  fi
  gm_run_bounded "$((seconds + 1))" gm_qdrant_api "$@" --max-time "$seconds"
}

# gm_qdrant_list_snapshots: "name size checksum" per full snapshot Qdrant has (GET /snapshots: result is
# a list of SnapshotDescription {name, creation_time, size, checksum}). Fails when Qdrant does not answer.
gm_qdrant_list_snapshots() {
  local body object name size checksum
  body=$(_gm_qdrant_request 30 GET /snapshots) || return 1
  while [[ "$body" =~ \{([^{}]*\"name\"[^{}]*)\} ]]; do
    object=${BASH_REMATCH[1]}
    body=${body#*"${BASH_REMATCH[0]}"}
    [[ "$object" =~ \"name\"[[:space:]]*:[[:space:]]*\"([A-Za-z0-9._-]+)\" ]] || continue
    name=${BASH_REMATCH[1]}
    size=-
    [[ "$object" =~ \"size\"[[:space:]]*:[[:space:]]*([0-9]+) ]] && size=${BASH_REMATCH[1]}
    checksum=-
    [[ "$object" =~ \"checksum\"[[:space:]]*:[[:space:]]*\"([0-9a-f]{64})\" ]] && checksum=${BASH_REMATCH[1]}
    printf '%s %s %s\n' "$name" "$size" "$checksum"
  done
}

# _gm_qdrant_remove_local_snapshots: every full snapshot Qdrant lists is deleted through its API (ours,
# and orphans Qdrant finished after an earlier run gave up on them), then what is left in the local
# snapshot directory (the collection snapshots a full snapshot is built from, files of a Qdrant that no
# longer answers) is removed from the disk. Only snapshot code makes snapshots, and it holds the lock.
_gm_qdrant_remove_local_snapshots() {
  local listing name _rest
  if listing=$(gm_qdrant_list_snapshots 2>/dev/null); then
    while read -r name _rest; do
      [[ -n "$name" ]] || continue
      if _gm_qdrant_request 60 DELETE "/snapshots/$name" >/dev/null 2>&1; then
        gm_info "qdrant snapshot: deleted $name from Qdrant's local snapshots"
      else
        gm_warn "qdrant snapshot: Qdrant did not delete $name; removing the file"
      fi
    done <<<"$listing"
  fi
  if [[ -d "$GM_QDRANT_SNAPSHOT_LOCAL_DIR" ]]; then
    find "$GM_QDRANT_SNAPSHOT_LOCAL_DIR" -mindepth 1 -type f \
      \( -name '*.snapshot' -o -name '*.snapshot.checksum' -o -name '*.tmp' -o -name 'config-*.json' \) \
      -print -delete 2>/dev/null | while IFS= read -r name; do gm_info "qdrant snapshot: removed local $name"; done
  fi
  return 0
}

# gm_qdrant_snapshot_to FILE: one full snapshot of Qdrant's storage into FILE (on EFS), or nothing. Asks
# Qdrant for it in the background (POST /snapshots?wait=false answers 202 at once) and polls its list until
# the new snapshot appears (Qdrant builds it in a temporary path and moves it into its list when complete),
# so no client timeout is shorter than the work. The download goes to a hidden partial file next to FILE,
# checked against the size and sha256 Qdrant announced, then renamed. Call under gm_qdrant_snapshot_locked.
gm_qdrant_snapshot_to() {
  local file=$1 listing before='' name='' size checksum line partial actual poll=${GM_QDRANT_SNAPSHOT_POLL:-5}
  partial="$(dirname "$file")/.partial-$(basename "$file")"
  # Orphans first: a snapshot Qdrant finished after an earlier run gave up would be taken for ours.
  _gm_qdrant_remove_local_snapshots
  if listing=$(gm_qdrant_list_snapshots); then
    while read -r line _; do before+=" $line "; done <<<"$listing"
  else
    gm_error "qdrant snapshot: GET /snapshots failed (is Qdrant running?)"
    return 1
  fi
  gm_info "qdrant snapshot: creating a full storage snapshot"
  if ! _gm_qdrant_request 60 POST '/snapshots?wait=false' >/dev/null; then
    gm_error "qdrant snapshot: POST /snapshots failed"
    return 1
  fi
  while :; do
    if listing=$(gm_qdrant_list_snapshots); then
      while read -r line size checksum; do
        if [[ -n "$line" && "$before" != *" $line "* ]]; then
          name=$line
          break
        fi
      done <<<"$listing"
    fi
    [[ -z "$name" ]] || break
    if (($(gm_time_left) < poll + 1)); then
      gm_error "qdrant snapshot: Qdrant did not finish the snapshot in the time allowed; it is deleted when it appears (next snapshot or start)"
      return 1
    fi
    sleep "$poll"
  done
  gm_info "qdrant snapshot: $name is ready ($size bytes), copying it to $file"
  rm -f "$partial"
  if ! _gm_qdrant_request 999999 GET "/snapshots/$name" -o "$partial"; then
    rm -f "$partial"
    gm_error "qdrant snapshot: download of $name failed"
    return 1
  fi
  actual=$(stat -c %s "$partial" 2>/dev/null || echo 0)
  if [[ "$size" != - && "$actual" != "$size" ]]; then
    rm -f "$partial"
    gm_error "qdrant snapshot: $name downloaded $actual bytes, Qdrant announced $size"
    return 1
  fi
  if [[ "$checksum" != - ]]; then
    actual=$(sha256sum "$partial" 2>/dev/null) || actual=unreadable
    if [[ "${actual%% *}" != "$checksum" ]]; then
      rm -f "$partial"
      gm_error "qdrant snapshot: $name does not match the sha256 Qdrant announced"
      return 1
    fi
  fi
  mv -f "$partial" "$file"
  gm_info "qdrant snapshot: saved $file ($(stat -c %s "$file") bytes)"
}

_gm_qdrant_snapshot_to_efs() {
  local files count i target
  target="$GM_QDRANT_SNAPSHOT_DIR/qdrant-$(date -u +%Y%m%dT%H%M%SZ).snapshot"
  gm_qdrant_snapshot_to "$target" || return 1
  mapfile -t files < <(gm_qdrant_snapshot_files)
  count=${#files[@]}
  for ((i = 0; i < count - GM_QDRANT_SNAPSHOT_KEEP; i++)); do
    rm -f "${files[$i]}"
    gm_info "qdrant snapshot: pruned ${files[$i]}"
  done
  # This host holds the fence and the snapshot lock: any other partial copy is from a host that died mid-copy.
  find "$GM_QDRANT_SNAPSHOT_DIR" -maxdepth 1 -type f -name '.partial-*' -print -delete 2>/dev/null |
    while IFS= read -r target; do gm_info "qdrant snapshot: pruned the partial copy $target"; done
  return 0
}

# ---------------------------------------------------------------------------------------------
# n8n credentials for Ollama, Qdrant and Crawl4AI: fixed ids, imported with `n8n import:credentials`
# (an upsert by id, so restarts and restores never duplicate them). The JSON is rendered from the
# environment at run time and streamed into the container: secrets never touch disk or argv.
# ---------------------------------------------------------------------------------------------

# gm_json_escape VALUE: VALUE as the inside of a JSON string; fails on control characters.
gm_json_escape() {
  local v=$1
  if [[ "$v" =~ [[:cntrl:]] ]]; then
    return 1
  fi
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  printf '%s' "$v"
}

# gm_credential_urls: "OLLAMA_URL QDRANT_URL" the credentials point at: the compose service names on a single host,
# the AI host's private name (GM_AI_HOST_NAME, registered by gm_ai_register_dns) for the n8n tasks of the scale tier.
gm_credential_urls() {
  if gm_ai_role; then
    printf 'http://%s:11434 http://%s:6333' "$GM_AI_HOST_NAME" "$GM_AI_HOST_NAME"
  else
    printf '%s' 'http://ollama:11434 http://qdrant:6333'
  fi
}

gm_render_credentials() {
  local template="$GM_RUNTIME_DIR/n8n/credentials.json" json name value escaped ollama_url qdrant_url
  [[ -f "$template" ]] || { gm_error "n8n credentials: $template is missing"; return 1; }
  json=$(<"$template")
  read -r ollama_url qdrant_url <<<"$(gm_credential_urls)"
  local -A values=([OLLAMA_URL]=$ollama_url [QDRANT_URL]=$qdrant_url)
  for name in QDRANT_API_KEY CRAWL4AI_API_TOKEN; do
    value=${!name:-}
    [[ -n "$value" ]] || { gm_error "n8n credentials: $name is not set"; return 1; }
    values[$name]=$value
  done
  for name in OLLAMA_URL QDRANT_URL QDRANT_API_KEY CRAWL4AI_API_TOKEN; do
    escaped=$(gm_json_escape "${values[$name]}") || { gm_error "n8n credentials: $name contains control characters"; return 1; }
    json=${json//"{{$name}}"/"$escaped"}
  done
  if [[ "$json" == *"{{"*"}}"* ]]; then
    gm_error "n8n credentials: $template has a placeholder nobody fills"
    return 1
  fi
  printf '%s\n' "$json"
}

# The import inside a container: the rendered JSON arrives on stdin, lives in a private temporary file only.
# shellcheck disable=SC2016 # evaluated by the container's shell
GM_N8N_IMPORT_SCRIPT='umask 077; f=$(mktemp) && cat >"$f" && n8n import:credentials --input="$f"; rc=$?; rm -f "$f"; exit $rc'

gm_n8n_import_credentials() {
  local json output rc=0
  if gm_ai_role; then
    gm_n8n_import_credentials_rds
    return
  fi
  json=$(gm_render_credentials) || return 1
  output=$(printf '%s\n' "$json" | gm_compose exec -T n8n sh -c "$GM_N8N_IMPORT_SCRIPT" 2>&1) || rc=$?
  if ((rc != 0)) || [[ "$output" != *"Successfully imported"* ]]; then
    gm_error "n8n credentials: import failed (exit $rc): ${output//$'\n'/ | }"
    return 1
  fi
  gm_info "n8n credentials: Ollama, Qdrant and Crawl4AI credentials are in place (fixed ids, upserted)"
}

# gm_n8n_import_credentials_rds: on the AI host, the same credentials (fixed ids, upserted) go into the scale tier's
# n8n database on RDS (GM_SCALE_DATABASE_HOST/PORT, user and password from the RDS secret GM_SCALE_DATABASE_SECRET),
# pointing at this host's private name, with a one-shot container of the n8n image every n8n task runs
# (docker/versions.env), TLS as the tasks use it, and the deployment's encryption key. Secrets travel in the
# environment (docker run -e NAME) and on stdin, never on a command line. A database n8n has not migrated yet is
# migrated by the import itself (n8n's commands migrate first), so a concurrent first start of the n8n main can make
# one attempt fail: it is retried (GM_IMPORT_ATTEMPTS x GM_HEALTH_INTERVAL). A final failure is one line at
# GM_IMPORT_FAIL_LEVEL (ERROR unless the caller says WARN: start.sh, where RDS being away must not stop the AI services)
# naming the reason, followed by GM_IMPORT_FAIL_NOTE.
_gm_import_failed() {
  gm_log "${GM_IMPORT_FAIL_LEVEL:-ERROR}" "$1${GM_IMPORT_FAIL_NOTE:-}"
  return 1
}

# gm_fetch_rds_ca FILE: the region's RDS certificate bundle (GM_RDS_CA_URL, over HTTPS) into FILE (0644: n8n's
# container reads it as its user). Bounded; prints the reason and fails when it cannot be fetched or holds no certificate.
gm_fetch_rds_ca() {
  local file=$1 url=${GM_RDS_CA_URL:-} output
  [[ -n "$url" ]] || { echo "GM_RDS_CA_URL is not set"; return 1; }
  if ! output=$(curl -fsS --max-time 15 --retry 2 -o "$file.tmp" "$url" 2>&1); then
    rm -f "$file.tmp"
    echo "${output//$'\n'/ }"
    return 1
  fi
  if ! grep -q -- '-----BEGIN CERTIFICATE-----' "$file.tmp"; then
    rm -f "$file.tmp"
    echo "the answer holds no certificate"
    return 1
  fi
  chmod 644 "$file.tmp" && mv -f "$file.tmp" "$file"
}

gm_n8n_import_credentials_rds() {
  local json output rc attempt secret image ca_file ca_error
  local DB_POSTGRESDB_USER DB_POSTGRESDB_PASSWORD
  local host=${GM_SCALE_DATABASE_HOST:-} port=${GM_SCALE_DATABASE_PORT:-5432} secret_id=${GM_SCALE_DATABASE_SECRET:-}
  if [[ -z "$host" || -z "$secret_id" ]]; then
    _gm_import_failed "n8n credentials: GM_SCALE_DATABASE_HOST and GM_SCALE_DATABASE_SECRET are needed on the AI host"
    return 1
  fi
  image=$(sed -n 's/^GM_N8N_IMAGE=//p' "$GM_RUNTIME_DIR/versions.env" 2>/dev/null)
  [[ -n "$image" ]] || { _gm_import_failed "n8n credentials: no GM_N8N_IMAGE in $GM_RUNTIME_DIR/versions.env"; return 1; }
  json=$(gm_render_credentials) || { _gm_import_failed "n8n credentials: the credentials could not be rendered"; return 1; }
  if ! secret=$(aws secretsmanager get-secret-value ${GM_REGION:+--region "$GM_REGION"} --secret-id "$secret_id" \
    --query SecretString --output text 2>&1); then
    secret=$(grep -v '^[[:space:]]*$' <<<"$secret" | tr '\n' ' ')
    _gm_import_failed "n8n credentials: cannot read the database secret $secret_id: ${secret% }"
    return 1
  fi
  # RDS's secret is JSON ({"username":..., "password":..., ...}); python3 reads it from stdin.
  if ! DB_POSTGRESDB_USER=$(printf '%s' "$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])' 2>/dev/null) ||
    ! DB_POSTGRESDB_PASSWORD=$(printf '%s' "$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])' 2>/dev/null) ||
    [[ -z "$DB_POSTGRESDB_USER" || -z "$DB_POSTGRESDB_PASSWORD" ]]; then
    _gm_import_failed "n8n credentials: the database secret $secret_id has no username and password"
    return 1
  fi
  export DB_POSTGRESDB_USER DB_POSTGRESDB_PASSWORD
  # The database's certificate and name are verified, as the n8n tasks do (lib/scale/rds-ca.ts): never a connection
  # that anything answering on the database's address could read the password from.
  ca_file="$GM_RUN_DIR/rds-ca-bundle.pem"
  if ! ca_error=$(gm_fetch_rds_ca "$ca_file"); then
    _gm_import_failed "n8n credentials: cannot fetch the RDS certificate bundle ${GM_RDS_CA_URL:-}: $ca_error"
    return 1
  fi
  for ((attempt = 1; ; attempt++)); do
    rc=0
    output=$(printf '%s\n' "$json" | DB_TYPE=postgresdb DB_POSTGRESDB_HOST=$host DB_POSTGRESDB_PORT=$port \
      DB_POSTGRESDB_DATABASE=n8n DB_POSTGRESDB_SSL_ENABLED=true DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=true \
      DB_POSTGRESDB_SSL_CA_FILE=/rds-ca/rds-ca-bundle.pem \
      docker run --rm -i --network host --entrypoint sh -v "$ca_file:/rds-ca/rds-ca-bundle.pem:ro" \
      -e DB_TYPE -e DB_POSTGRESDB_HOST -e DB_POSTGRESDB_PORT \
      -e DB_POSTGRESDB_DATABASE -e DB_POSTGRESDB_USER -e DB_POSTGRESDB_PASSWORD -e DB_POSTGRESDB_SSL_ENABLED \
      -e DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED -e DB_POSTGRESDB_SSL_CA_FILE -e N8N_ENCRYPTION_KEY "$image" -c "$GM_N8N_IMPORT_SCRIPT" 2>&1) || rc=$?
    if ((rc == 0)) && [[ "$output" == *"Successfully imported"* ]]; then
      break
    fi
    output=${output//"$DB_POSTGRESDB_PASSWORD"/***}
    if ((attempt >= GM_IMPORT_ATTEMPTS)); then
      _gm_import_failed "n8n credentials: import into the database $host:$port/n8n failed $attempt times (exit $rc): ${output//$'\n'/ | }"
      return 1
    fi
    gm_warn "n8n credentials: import into $host:$port/n8n failed (exit $rc, attempt $attempt), retrying"
    sleep "$GM_HEALTH_INTERVAL"
  done
  gm_info "n8n credentials: Ollama, Qdrant and Crawl4AI credentials are in the scale tier's database $host:$port/n8n, pointing at $GM_AI_HOST_NAME (fixed ids, upserted)"
}

# ---------------------------------------------------------------------------------------------
# The AI host's private name: an A record GM_AI_HOST_NAME -> this host's private IPv4 in the private hosted zone
# GM_AI_HOST_ZONE_ID, upserted at every start, so the n8n tasks on ECS reach the replacement host too.
# ---------------------------------------------------------------------------------------------

# gm_private_ipv4: this host's private IPv4 address (IMDSv2 meta-data/local-ipv4).
gm_private_ipv4() {
  local ip
  ip=$(gm_imds_get /latest/meta-data/local-ipv4) || return 1
  [[ "$ip" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || return 1
  printf '%s' "$ip"
}

# gm_ai_register_dns: UPSERT of the A record (TTL 30 s) with the AWS CLI; fails with one line naming the reason.
gm_ai_register_dns() {
  local ip batch output rc=0
  if ! ip=$(gm_private_ipv4); then
    gm_error "dns: cannot read this host's private IPv4 address from IMDS (meta-data/local-ipv4); $GM_AI_HOST_NAME is not registered"
    return 1
  fi
  batch=$(printf '{"Comment":"GeuseMaker %s: the AI host %s","Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"%s","Type":"A","TTL":30,"ResourceRecords":[{"Value":"%s"}]}}]}' \
    "$GM_DEPLOYMENT" "$(gm_instance_id)" "$GM_AI_HOST_NAME" "$ip")
  output=$(aws route53 change-resource-record-sets ${GM_REGION:+--region "$GM_REGION"} --hosted-zone-id "$GM_AI_HOST_ZONE_ID" \
    --change-batch "$batch" --output text --query ChangeInfo.Id 2>&1) || rc=$?
  if ((rc != 0)); then
    output=$(grep -v '^[[:space:]]*$' <<<"$output" | tr '\n' ' ')
    gm_error "dns: registering $GM_AI_HOST_NAME -> $ip in the hosted zone $GM_AI_HOST_ZONE_ID failed (aws exit $rc): ${output% }"
    return 1
  fi
  gm_info "dns: $GM_AI_HOST_NAME -> $ip (A, TTL 30 s) upserted in the hosted zone $GM_AI_HOST_ZONE_ID (change ${output//[[:space:]]/})"
}

# gm_ai_deregister_dns: on a clean stop, DELETE of the A record while it still holds this host's address. Route 53
# deletes a record set only when the DELETE names all of its values (name, type, TTL, value), so a record a newer host
# has re-pointed is refused with InvalidChangeBatch and left alone (an INFO line). Without this the private hosted
# zone keeps a record besides SOA/NS and CloudFormation cannot delete it (HostedZoneNotEmpty). Any other failure is
# a WARN line; it never fails the stop.
gm_ai_deregister_dns() {
  local ip batch output rc=0
  if [[ -z "${GM_AI_HOST_NAME:-}" || -z "${GM_AI_HOST_ZONE_ID:-}" ]]; then
    gm_warn "dns: GM_AI_HOST_NAME or GM_AI_HOST_ZONE_ID is not set; no record to delete"
    return 0
  fi
  if ! ip=$(gm_private_ipv4); then
    gm_warn "dns: cannot read this host's private IPv4 address from IMDS (meta-data/local-ipv4); $GM_AI_HOST_NAME stays in the hosted zone $GM_AI_HOST_ZONE_ID"
    return 0
  fi
  batch=$(printf '{"Comment":"GeuseMaker %s: the AI host %s stopped","Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"%s","Type":"A","TTL":30,"ResourceRecords":[{"Value":"%s"}]}}]}' \
    "$GM_DEPLOYMENT" "$(gm_instance_id)" "$GM_AI_HOST_NAME" "$ip")
  output=$(aws route53 change-resource-record-sets ${GM_REGION:+--region "$GM_REGION"} --hosted-zone-id "$GM_AI_HOST_ZONE_ID" \
    --change-batch "$batch" --output text --query ChangeInfo.Id 2>&1) || rc=$?
  if ((rc == 0)); then
    gm_info "dns: $GM_AI_HOST_NAME -> $ip (A, TTL 30 s) deleted from the hosted zone $GM_AI_HOST_ZONE_ID (change ${output//[[:space:]]/})"
    return 0
  fi
  output=$(grep -v '^[[:space:]]*$' <<<"$output" | tr '\n' ' ')
  if [[ "$output" == *"(InvalidChangeBatch)"* ]]; then
    gm_info "dns: $GM_AI_HOST_NAME no longer holds this host's address $ip (A, TTL 30 s), a newer host's or none: left as it is (${output% })"
  else
    gm_warn "dns: deleting $GM_AI_HOST_NAME -> $ip from the hosted zone $GM_AI_HOST_ZONE_ID failed (aws exit $rc): ${output% }; the record stays"
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------
# n8n on the network: its own TLS certificate (GM_N8N_TLS=self-signed) and the exposure on GM_N8N_BIND,
# which waits for the owner account: a fresh n8n is claimed by whoever reaches it first.
# ---------------------------------------------------------------------------------------------

# gm_n8n_local_url: how this host reaches n8n.
gm_n8n_local_url() {
  if [[ -n "${GM_N8N_LOCAL_URL:-}" ]]; then
    printf '%s' "$GM_N8N_LOCAL_URL"
  elif [[ "$GM_N8N_TLS" == self-signed ]]; then
    printf '%s' "https://127.0.0.1:5678"
  else
    printf '%s' "http://127.0.0.1:5678"
  fi
}

# gm_n8n_get PATH [CURL ARGS...]: a GET on the local n8n (trusting its own certificate only).
gm_n8n_get() {
  local path=$1
  shift
  local -a tls=()
  if [[ "$GM_N8N_TLS" == self-signed ]]; then
    tls=(--cacert "$GM_N8N_TLS_DIR/n8n.crt")
  fi
  curl -fsS --max-time 5 "${tls[@]}" "$@" "$(gm_n8n_local_url)$path"
}

# gm_n8n_owner_state: "claimed" or "unclaimed" from GET /rest/settings (showSetupOnFirstLoad), else
# "unknown" (n8n not answering, still starting, or an answer without the field).
gm_n8n_owner_state() {
  local body
  if ! body=$(gm_n8n_get /rest/settings 2>/dev/null); then
    printf '%s' unknown
  elif [[ "$body" =~ \"showSetupOnFirstLoad\"[[:space:]]*:[[:space:]]*false ]]; then
    printf '%s' claimed
  elif [[ "$body" =~ \"showSetupOnFirstLoad\"[[:space:]]*:[[:space:]]*true ]]; then
    printf '%s' unclaimed
  else
    printf '%s' unknown
  fi
}

# gm_n8n_wait_ready ATTEMPTS INTERVAL: until GET /healthz/readiness answers 200.
gm_n8n_wait_ready() {
  local attempts=$1 interval=$2 attempt
  for ((attempt = 1; ; attempt++)); do
    if gm_n8n_get /healthz/readiness -o /dev/null 2>/dev/null; then
      gm_info "n8n is ready on $(gm_n8n_local_url)"
      return 0
    fi
    if ((attempt >= attempts)); then
      gm_error "n8n not ready on $(gm_n8n_local_url)/healthz/readiness after $attempt attempts"
      return 1
    fi
    sleep "$interval"
  done
}

# gm_n8n_published_address: the host address n8n's port 5678 is published on now (empty without a container).
gm_n8n_published_address() {
  local line
  line=$(gm_compose port n8n 5678 2>/dev/null | head -n 1) || true
  printf '%s' "${line%:*}"
}

# gm_n8n_expose: publish n8n on GM_N8N_BIND, only once its owner exists. Recreates the n8n container
# alone (its port is the only change) and waits until it is ready again. 0 exposed (or nothing to do:
# GM_N8N_BIND is 127.0.0.1), 1 owner missing or n8n not ready.
gm_n8n_expose() {
  local state
  if [[ "$GM_N8N_BIND" == 127.0.0.1 ]]; then
    gm_info "expose n8n: GM_N8N_BIND is 127.0.0.1, n8n stays on this host's loopback"
    return 0
  fi
  state=$(gm_n8n_owner_state)
  if [[ "$state" != claimed ]]; then
    gm_error "expose n8n: n8n's owner does not exist yet ($(gm_n8n_local_url)/rest/settings: $state); n8n stays on 127.0.0.1"
    return 1
  fi
  if [[ "$(gm_n8n_published_address)" == "$GM_N8N_BIND" ]]; then
    gm_info "expose n8n: already published on $GM_N8N_BIND:5678"
    return 0
  fi
  GM_N8N_PUBLISH=$GM_N8N_BIND
  gm_info "expose n8n: the owner exists; publishing n8n on $GM_N8N_BIND:5678 (recreating the n8n container only)"
  if ! gm_compose up --detach --no-deps n8n 2>&1 | gm_log_lines INFO "compose:"; then
    gm_error "expose n8n: docker compose up n8n failed"
    return 1
  fi
  gm_n8n_wait_ready "$GM_HEALTH_ATTEMPTS" "$GM_HEALTH_INTERVAL" || return 1
  gm_info "expose n8n: n8n is published on $GM_N8N_BIND:5678"
}

# gm_n8n_tls_prepare: with GM_N8N_TLS=self-signed, n8n's certificate and key in $GM_EFS_MOUNT/tls
# (made here with openssl when missing, expiring within 30 days, or made for another public address),
# readable by n8n's uid only (key 600). The directory always exists: compose.yml mounts it.
gm_n8n_tls_prepare() {
  local dir=$GM_N8N_TLS_DIR san ip
  mkdir -p "$dir"
  chown "$GM_N8N_UID:$GM_N8N_UID" "$dir"
  chmod 700 "$dir"
  [[ "$GM_N8N_TLS" == self-signed ]] || return 0
  san="IP:127.0.0.1,DNS:localhost"
  if ip=$(gm_public_ipv4); then
    san+=",IP:$ip"
  fi
  if [[ -s "$dir/n8n.crt" && -s "$dir/n8n.key" && "$(cat "$dir/n8n.san" 2>/dev/null)" == "$san" ]] &&
    openssl x509 -checkend 2592000 -noout -in "$dir/n8n.crt" >/dev/null 2>&1; then
    gm_info "n8n TLS: keeping the certificate $dir/n8n.crt ($san)"
    return 0
  fi
  rm -f "$dir/n8n.key.tmp" "$dir/n8n.crt.tmp"
  if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=geusemaker-n8n" -addext "subjectAltName=$san" \
    -keyout "$dir/n8n.key.tmp" -out "$dir/n8n.crt.tmp" 2>&1 | gm_log_lines INFO "openssl:"; then
    rm -f "$dir/n8n.key.tmp" "$dir/n8n.crt.tmp"
    gm_error "n8n TLS: openssl could not make a certificate"
    return 1
  fi
  chown "$GM_N8N_UID:$GM_N8N_UID" "$dir/n8n.key.tmp" "$dir/n8n.crt.tmp"
  chmod 600 "$dir/n8n.key.tmp"
  chmod 644 "$dir/n8n.crt.tmp"
  mv -f "$dir/n8n.key.tmp" "$dir/n8n.key"
  mv -f "$dir/n8n.crt.tmp" "$dir/n8n.crt"
  printf '%s\n' "$san" >"$dir/n8n.san"
  gm_info "n8n TLS: made a self-signed certificate $dir/n8n.crt ($san)"
}
