#!/usr/bin/env bash
# Bootstrap of a new GeuseMaker host, run once by user data after it unpacked the runtime.
# Each step is logged by name to $GM_BOOTSTRAP_LOG; the first failing step signals failure to
# CloudFormation (which rolls back) with the step's name and its one-line reason, marks the host
# unhealthy and stops. Success is signalled only once every service has done its real job once.
# Secret values are never printed: they go straight from Secrets Manager (or, for the derived ones, from
# lib.sh's HMAC of the n8n encryption key) into a root-only env file, never through a command line.
#
# Steps are functions called as `step || ...`, where bash ignores `set -e`: every command that
# matters is checked explicitly and fails its step with `because "<one-line reason>"; return 1`.
set -uo pipefail

: "${GM_PREFIX:=}"
: "${GM_HOST_ENV_FILE:=$GM_PREFIX/etc/geusemaker/host.env}"
# shellcheck source=/dev/null
source "$GM_HOST_ENV_FILE"
# lib.sh (next to this script): the derivation of the derived secrets (gm_derive_secret).
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${GM_BOOTSTRAP_LOG:=$GM_PREFIX/var/log/geusemaker-bootstrap.log}"
: "${GM_RUNTIME_DIR:=$GM_PREFIX/opt/geusemaker}"
: "${GM_ENV_FILE:=$GM_PREFIX/etc/geusemaker/runtime.env}"
: "${GM_EFS_MOUNT:=$GM_PREFIX/mnt/efs}"
: "${GM_FSTAB:=$GM_PREFIX/etc/fstab}"
: "${GM_CLI_PLUGINS_DIR:=$GM_PREFIX/usr/local/lib/docker/cli-plugins}"
: "${GM_TIER:=dev}"
: "${GM_MOUNT_ATTEMPTS:=30}"
: "${GM_MOUNT_RETRY_SECONDS:=10}"
: "${GM_INSTALL_DOCKER:=true}"
: "${GM_N8N_OWNER_EMAIL:=owner@example.com}"
: "${GM_N8N_TLS:=off}"
: "${GM_OWNER_ATTEMPTS:=30}"
: "${GM_OWNER_RETRY_SECONDS:=10}"
: "${GM_IMDS_URL:=http://169.254.169.254}"
export GM_PREFIX GM_HOST_ENV_FILE GM_ENV_FILE GM_EFS_MOUNT GM_RUNTIME_DIR

# Pinned runtime tooling. The Compose plugin is downloaded for this host's architecture (uname -m: x86_64
# on the x86 types, aarch64 on Graviton), so its checksum is verified; any other architecture fails the
# step instead of running an unchecked binary.
readonly DOCKER_PACKAGE='docker-25.0.*'
readonly CFN_BOOTSTRAP_PACKAGE='aws-cfn-bootstrap'
readonly COMPOSE_VERSION='5.1.3'
readonly DOCKER_MAX_CONCURRENT_DOWNLOADS=10
# The same values the Docker official image (docker:29, docker-library) verifies for v5.1.3.
declare -rA COMPOSE_SHA256=(
  [x86_64]='a0298760c9772d2c06888fc8703a487c94c3c3b0134adeef830742a2fc7647b4'
  [aarch64]='e8105a3e687ea7e0b0f81abe4bf9269c8a2801fb72c2b498b5ff2472bc54145f'
)
# Longest reason sent with a signal (the full story is in $GM_BOOTSTRAP_LOG).
readonly MAX_REASON_CHARS=400

log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$GM_BOOTSTRAP_LOG"
}

# because REASON: the one-line reason the running step fails with (the caller then returns 1).
STEP_REASON=''
because() {
  STEP_REASON=$1
  printf 'FAILED: %s\n' "$1" >&2
}

# redact TEXT: TEXT with every secret value of the env file replaced by ***.
redact() {
  local text=$1 line value
  if [ -r "$GM_ENV_FILE" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      value=${line#*=}
      [ -n "$value" ] && text=${text//"$value"/***}
    done <"$GM_ENV_FILE"
  fi
  printf '%s' "$text"
}

# one_line TEXT: TEXT on one line ("; " between lines), cut to MAX_REASON_CHARS.
one_line() {
  local text=$1
  text=${text//$'\r'/}
  text=${text//$'\n'/; }
  if [ "${#text}" -gt "$MAX_REASON_CHARS" ]; then
    text="${text:0:MAX_REASON_CHARS-3}..."
  fi
  printf '%s' "$text"
}

imds_instance_id() {
  local token
  token=$(curl --fail --silent --show-error -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
    "$GM_IMDS_URL/latest/api/token") || return 1
  curl --fail --silent --show-error -H "X-aws-ec2-metadata-token: $token" "$GM_IMDS_URL/latest/meta-data/instance-id"
}

# signal CODE REASON: cfn-signal; where it is missing (it could not be installed), the same signal
# through the AWS CLI, so CloudFormation never waits out its timeout.
SIGNALLED=false
signal() {
  local code=$1 reason status instance
  reason=$(one_line "$(redact "$2")")
  SIGNALLED=true
  if command -v cfn-signal >/dev/null 2>&1; then
    cfn-signal --exit-code "$code" --reason "$reason" \
      --stack "$GM_STACK_NAME" --resource "$GM_SIGNAL_RESOURCE" --region "$GM_REGION"
    return
  fi
  log "cfn-signal is not installed: signalling through the AWS CLI"
  status=SUCCESS
  [ "$code" -eq 0 ] || status=FAILURE
  instance=$(imds_instance_id) || return 1
  aws cloudformation signal-resource --region "$GM_REGION" --stack-name "$GM_STACK_NAME" \
    --logical-resource-id "$GM_SIGNAL_RESOURCE" --unique-id "$instance" --status "$status"
}

# step_output_reason OFFSET: the first ERROR line a failed step wrote to the log after OFFSET
# (the host scripts log "... geusemaker[name] ERROR <message>"), else its last line.
step_output_reason() {
  local output first_error
  output=$(tail -c "+$(($1 + 1))" "$GM_BOOTSTRAP_LOG" 2>/dev/null) || return 0
  first_error=$(sed -n 's/^.* ERROR //p' <<<"$output" | head -n 1)
  if [ -n "$first_error" ]; then
    printf '%s' "$first_error"
  else
    grep -v '^[[:space:]]*$' <<<"$output" | tail -n 1
  fi
}

# run_step NAME FUNCTION: runs one step; on failure logs and signals its name and reason, marks the
# host unhealthy and exits.
run_step() {
  local name=$1 rc=0 offset reason
  STEP_REASON=''
  export GM_BOOTSTRAP_STEP=$name
  log "step $name: start"
  offset=$(stat -c %s "$GM_BOOTSTRAP_LOG" 2>/dev/null || echo 0)
  "$2" >>"$GM_BOOTSTRAP_LOG" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    reason=${STEP_REASON:-$(step_output_reason "$offset")}
    reason=$(one_line "$(redact "${reason:-exit $rc}")")
    log "step $name: FAILED: $reason"
    # On the console too (EC2 GetConsoleOutput): the signal's reason does not reach CloudFormation's events.
    printf 'GeuseMaker bootstrap step %s failed: %s\n' "$name" "$reason" >&2
    signal 1 "bootstrap step $name failed: $reason" || log "cfn-signal failed"
    mark_unhealthy >>"$GM_BOOTSTRAP_LOG" 2>&1 || log "could not mark the host unhealthy"
    exit 1
  fi
  log "step $name: ok"
}

# Outside a CloudFormation operation (a replacement host) nobody reads the signal: marking the host
# unhealthy makes its auto scaling group replace it instead of leaving a broken host in service.
mark_unhealthy() {
  local instance
  instance=$(imds_instance_id) || return 1
  aws autoscaling set-instance-health --region "$GM_REGION" --instance-id "$instance" \
    --health-status Unhealthy --no-should-respect-grace-period || return 1
  log "host $instance marked unhealthy: its auto scaling group replaces it"
}

# ---------------------------------------------------------------------------------------------
# install-packages. Docker is installed, never enabled: it must not start at boot before the EFS
# mount and the fence (start.sh starts it, behind both).
# ---------------------------------------------------------------------------------------------

install_packages() {
  if ! command -v cfn-signal >/dev/null 2>&1; then
    dnf install -y "$CFN_BOOTSTRAP_PACKAGE" ||
      { because "cfn-signal is missing and $CFN_BOOTSTRAP_PACKAGE could not be installed (dnf exit $?)"; return 1; }
  fi
  dnf install -y amazon-efs-utils || { because "could not install amazon-efs-utils (dnf exit $?)"; return 1; }
  install_docker || return 1
  if [ "$GM_TIER" = gpu ] && ! command -v nvidia-container-runtime-hook >/dev/null 2>&1; then
    because "nvidia-container-runtime-hook not found: the NVIDIA container toolkit is missing, Ollama would get no GPU"
    return 1
  fi
  install_compose
}

# AL2023 has no Docker; the Deep Learning AMI may or may not ship it: install it from the AL2023
# repository where it is missing (and always where GM_INSTALL_DOCKER=true, to get the pinned one).
install_docker() {
  if [ "$GM_INSTALL_DOCKER" = true ] || ! command -v docker >/dev/null 2>&1; then
    dnf install -y "$DOCKER_PACKAGE" || { because "could not install docker ($DOCKER_PACKAGE, dnf exit $?)"; return 1; }
  else
    echo "docker already installed: $(docker --version 2>&1)"
  fi
  command -v docker >/dev/null 2>&1 || { because "docker is not on PATH after installing $DOCKER_PACKAGE"; return 1; }
  configure_docker
}

# The daemon downloads 3 layers at a time by default (moby's DefaultMaxConcurrentDownloads) for all the pulls
# of `docker compose pull` together: let the five images' layers come in side by side. An AMI's own
# daemon.json (the Deep Learning AMI configures the NVIDIA runtime there) is left as it is.
configure_docker() {
  local file="$GM_PREFIX/etc/docker/daemon.json"
  if [ -e "$file" ]; then
    echo "keeping the AMI's $file"
    return 0
  fi
  if ! { mkdir -p "$(dirname "$file")" && printf '{\n  "max-concurrent-downloads": %s\n}\n' "$DOCKER_MAX_CONCURRENT_DOWNLOADS" >"$file"; }; then
    because "could not write $file"
    return 1
  fi
  chmod 644 "$file"
}

install_compose() {
  if docker compose version 2>/dev/null | grep -q "v${COMPOSE_VERSION}\b"; then
    return 0
  fi
  local arch checksum download url
  arch=$(uname -m) || { because "uname -m failed: cannot tell this host's architecture"; return 1; }
  checksum=${COMPOSE_SHA256[$arch]:-}
  if [ -z "$checksum" ]; then
    because "this host is $arch: docker compose $COMPOSE_VERSION is verified for x86_64 and aarch64 only"
    return 1
  fi
  echo "docker compose $COMPOSE_VERSION for $arch: downloading docker-compose-linux-$arch (sha256 $checksum)"
  url="https://github.com/docker/compose/releases/download/v${COMPOSE_VERSION}/docker-compose-linux-${arch}"
  download=$(mktemp) || { because "mktemp failed"; return 1; }
  if ! curl --fail --silent --show-error --location --retry 5 --output "$download" "$url"; then
    rm -f "$download"
    because "download of docker compose $COMPOSE_VERSION failed ($url)"
    return 1
  fi
  if ! printf '%s  %s\n' "$checksum" "$download" | sha256sum --check --status; then
    rm -f "$download"
    because "docker compose $COMPOSE_VERSION: checksum mismatch, refusing to install"
    return 1
  fi
  if ! { mkdir -p "$GM_CLI_PLUGINS_DIR" && install -m 0755 "$download" "$GM_CLI_PLUGINS_DIR/docker-compose"; }; then
    rm -f "$download"
    because "could not install docker compose into $GM_CLI_PLUGINS_DIR"
    return 1
  fi
  rm -f "$download"
  docker compose version 2>/dev/null | grep -q "v${COMPOSE_VERSION}\b" ||
    { because "docker compose $COMPOSE_VERSION installed, but 'docker compose version' does not report it"; return 1; }
}

# EFS with TLS and IAM authorization; the mount target's DNS name can take a while to resolve.
mount_efs() {
  mkdir -p "$GM_EFS_MOUNT" || { because "could not create $GM_EFS_MOUNT"; return 1; }
  local attempt
  for ((attempt = 1; attempt <= GM_MOUNT_ATTEMPTS; attempt++)); do
    if mount -t efs -o tls,iam "$GM_FILE_SYSTEM_ID:/" "$GM_EFS_MOUNT"; then
      if ! grep -q "^$GM_FILE_SYSTEM_ID:/ " "$GM_FSTAB" 2>/dev/null; then
        echo "$GM_FILE_SYSTEM_ID:/ $GM_EFS_MOUNT efs _netdev,tls,iam,nofail 0 0" >>"$GM_FSTAB" ||
          { because "could not record the EFS mount in $GM_FSTAB"; return 1; }
      fi
      return 0
    fi
    echo "mount of $GM_FILE_SYSTEM_ID not ready (attempt $attempt of $GM_MOUNT_ATTEMPTS)" >&2
    sleep "$GM_MOUNT_RETRY_SECONDS"
  done
  because "EFS $GM_FILE_SYSTEM_ID did not mount after $GM_MOUNT_ATTEMPTS attempts"
  return 1
}

# The SecretString of read_secret's last call (never printed), and its AWS error code when it failed.
GET_SECRET_VALUE='' GET_SECRET_ERROR=''
# read_secret SECRET-ID: GetSecretValue into GET_SECRET_VALUE. 0 read; 3 no such secret
# (ResourceNotFoundException); 1 any other error, named in GET_SECRET_ERROR (an error code, never a value).
read_secret() {
  local err rc=0 code
  GET_SECRET_VALUE='' GET_SECRET_ERROR=''
  err=$(mktemp) || return 1
  GET_SECRET_VALUE=$(aws secretsmanager get-secret-value --region "$GM_REGION" --secret-id "$1" \
    --query SecretString --output text 2>"$err") || rc=$?
  if ((rc == 0)); then
    rm -f "$err"
    return 0
  fi
  GET_SECRET_VALUE=''
  cat "$err" >&2
  code=$(grep -o '([A-Za-z]*Exception)' "$err" | head -n 1)
  rm -f "$err"
  code=${code#(}
  GET_SECRET_ERROR=${code%)}
  [ "$GET_SECRET_ERROR" = ResourceNotFoundException ] && return 3
  GET_SECRET_ERROR=${GET_SECRET_ERROR:-aws exit $rc}
  return 1
}

# write_secrets: the root-only env file, one NAME=value line per secret.
#   GM_SECRETS          "ENV_VAR=secret-name,...": the stored secrets (the n8n encryption key among them); each
#                       must be readable.
#   GM_DERIVED_SECRETS  "ENV_VAR=geusemaker/<deployment>/<purpose>,...": the derived ones. A secret of that name
#                       retained from a deployment made before the derivation wins (its value is inside the data);
#                       where there is none (ResourceNotFoundException) the value is gm_derive_secret of the
#                       encryption key and <purpose>. Any other error fails the step.
write_secrets() {
  local tmp pair name id value pairs key='' rc
  mkdir -p "$(dirname "$GM_ENV_FILE")" || { because "could not create $(dirname "$GM_ENV_FILE")"; return 1; }
  tmp=$(mktemp "$(dirname "$GM_ENV_FILE")/.runtime.env.XXXXXX") || { because "mktemp failed next to $GM_ENV_FILE"; return 1; }
  chmod 600 "$tmp" || { rm -f "$tmp"; because "could not make $tmp root-only"; return 1; }
  IFS=',' read -r -a pairs <<<"$GM_SECRETS"
  for pair in "${pairs[@]}"; do
    name=${pair%%=*}
    id=${pair#*=}
    if ! read_secret "$id"; then
      rm -f "$tmp"
      because "could not read the secret for $name ($id): $GET_SECRET_ERROR"
      return 1
    fi
    value=$GET_SECRET_VALUE
    if [ -z "$value" ] || [[ "$value" == *$'\n'* ]]; then
      rm -f "$tmp"
      because "the secret for $name is empty or has several lines"
      return 1
    fi
    [ "$name" = N8N_ENCRYPTION_KEY ] && key=$value
    printf '%s=%s\n' "$name" "$value" >>"$tmp" || { rm -f "$tmp"; because "could not write $tmp"; return 1; }
  done
  IFS=',' read -r -a pairs <<<"${GM_DERIVED_SECRETS:-}"
  for pair in "${pairs[@]}"; do
    [ -n "$pair" ] || continue
    name=${pair%%=*}
    id=${pair#*=}
    rc=0
    read_secret "$id" || rc=$?
    value=$GET_SECRET_VALUE
    if ((rc == 3)); then
      if [ -z "$key" ]; then
        rm -f "$tmp"
        because "$name is derived from N8N_ENCRYPTION_KEY, which GM_SECRETS does not provide"
        return 1
      fi
      value=$(gm_derive_secret "$key" "${id##*/}") ||
        { rm -f "$tmp"; because "could not derive $name from the encryption key"; return 1; }
      echo "$name: no secret $id (a deployment made after the derivation): derived from the encryption key"
    elif ((rc != 0)); then
      rm -f "$tmp"
      because "could not read the secret for $name ($id): $GET_SECRET_ERROR"
      return 1
    else
      echo "$name: kept the value of the retained secret $id (made before the derivation)"
    fi
    if [ -z "$value" ] || [[ "$value" == *$'\n'* ]]; then
      rm -f "$tmp"
      because "the secret for $name is empty or has several lines"
      return 1
    fi
    printf '%s=%s\n' "$name" "$value" >>"$tmp" || { rm -f "$tmp"; because "could not write $tmp"; return 1; }
  done
  mv -f "$tmp" "$GM_ENV_FILE" || { rm -f "$tmp"; because "could not move the secrets into $GM_ENV_FILE"; return 1; }
}

# start.sh starts Docker itself, once EFS is mounted and the fence is held.
start_runtime() {
  bash "$GM_RUNTIME_DIR/host/start.sh"
}

# ---------------------------------------------------------------------------------------------
# setup-owner. n8n's owner is claimed by its first visitor: claim it here, on localhost, before
# anything beyond the host can reach n8n (expose-n8n comes later). It succeeds only once a fresh
# GET /rest/settings shows the owner exists and, for an owner claimed here, the owner can log in.
# The password goes to curl on stdin, never on a command line, and is never logged.
# ---------------------------------------------------------------------------------------------

N8N_BASE=''
N8N_TLS_ARGS=()

local_n8n() {
  case "$GM_N8N_TLS" in
    off)
      N8N_BASE='http://127.0.0.1:5678'
      N8N_TLS_ARGS=()
      ;;
    self-signed)
      N8N_BASE='https://127.0.0.1:5678'
      N8N_TLS_ARGS=(--cacert "$GM_EFS_MOUNT/tls/n8n.crt")
      [ -r "$GM_EFS_MOUNT/tls/n8n.crt" ] ||
        { because "GM_N8N_TLS=self-signed but n8n's certificate $GM_EFS_MOUNT/tls/n8n.crt does not exist"; return 1; }
      ;;
    *)
      because "setting GM_N8N_TLS must be off or self-signed (got '$GM_N8N_TLS')"
      return 1
      ;;
  esac
}

n8n_curl() {
  curl --silent --show-error --max-time 30 "${N8N_TLS_ARGS[@]}" "$@"
}

# n8n_owner_state: "exists" or "missing", from a fresh GET /rest/settings. Fails while n8n has no
# JSON settings yet (during start-up it answers a text page, then a 404 page).
n8n_owner_state() {
  local settings
  settings=$(n8n_curl "$N8N_BASE/rest/settings" 2>/dev/null) || return 1
  case "$settings" in
    *'"showSetupOnFirstLoad":false'*) echo exists ;;
    *'"showSetupOnFirstLoad":true'*) echo missing ;;
    *) return 1 ;;
  esac
}

# json_string VALUE: VALUE as a JSON string literal; fails on control characters.
json_string() {
  local v=$1
  [[ "$v" =~ [[:cntrl:]] ]] && return 1
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  printf '"%s"' "$v"
}

# json_message BODY: the "message" of an n8n error answer, unescaped enough for one log line.
json_message() {
  local pattern='"message":"(([^"\\]|\\.)*)"' message
  [[ "$1" =~ $pattern ]] || return 0
  message=${BASH_REMATCH[1]}
  message=${message//\\\"/\"}
  message=${message//\\\\/\\}
  printf '%s' "$message"
}

# post_json PATH JSON [CURL ARGS...]: POST JSON (given on stdin to curl) to the local n8n; prints
# what curl prints, then a line with the HTTP status.
post_json() {
  local path=$1 json=$2
  shift 2
  printf '%s' "$json" | n8n_curl "$@" --write-out '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @- "$N8N_BASE$path"
}

setup_owner() {
  local state attempt password email owner_json response status message
  if gm_ai_role; then
    echo "the AI host runs no n8n: its owner is set up by the n8n main on ECS (N8N_INSTANCE_OWNER_MANAGED_BY_ENV)"
    return 0
  fi
  local_n8n || return 1
  for ((attempt = 1; ; attempt++)); do
    state=$(n8n_owner_state) && break
    if ((attempt >= GM_OWNER_ATTEMPTS)); then
      because "n8n never said whether it has an owner (GET /rest/settings, $attempt attempts): not exposing it"
      return 1
    fi
    echo "n8n settings not available yet (attempt $attempt of $GM_OWNER_ATTEMPTS)" >&2
    sleep "$GM_OWNER_RETRY_SECONDS"
  done
  if [ "$state" = exists ]; then
    echo "n8n owner already set up"
    return 0
  fi

  password=$(sed -n 's/^N8N_OWNER_PASSWORD=//p' "$GM_ENV_FILE" 2>/dev/null)
  [ -n "$password" ] || { because "N8N_OWNER_PASSWORD missing from $GM_ENV_FILE"; return 1; }
  email=$(json_string "$GM_N8N_OWNER_EMAIL") || { because "the owner email has control characters"; return 1; }
  password=$(json_string "$password") || { because "the owner password has control characters"; return 1; }
  owner_json="{\"email\":$email,\"firstName\":\"GeuseMaker\",\"lastName\":\"Owner\",\"password\":$password}"

  response=$(post_json /rest/owner/setup "$owner_json") ||
    { because "no answer from n8n to the owner setup (curl exit $?)"; return 1; }
  status=${response##*$'\n'}
  message=$(json_message "${response%$'\n'*}")
  case "$status" in
    200)
      echo "n8n accepted the owner $GM_N8N_OWNER_EMAIL"
      ;;
    400)
      if [ "$message" != 'Instance owner already setup' ]; then
        because "n8n refused the owner: ${message:-HTTP 400}"
        return 1
      fi
      echo "n8n says an owner already exists: checking that it is ours"
      ;;
    *)
      because "n8n failed to set up the owner: HTTP $status${message:+ ($message)}"
      return 1
      ;;
  esac

  state=$(n8n_owner_state) || state=unknown
  [ "$state" = exists ] ||
    { because "n8n still shows no owner after the owner setup (GET /rest/settings: $state)"; return 1; }

  response=$(post_json /rest/login "{\"emailOrLdapLoginId\":$email,\"password\":$password}" --dump-header -) ||
    { because "no answer from n8n to the owner's login (curl exit $?)"; return 1; }
  status=${response##*$'\n'}
  if [ "$status" != 200 ]; then
    message=$(json_message "$response")
    because "the owner cannot log in to n8n: HTTP $status${message:+ ($message)}"
    return 1
  fi
  grep -qiE '^set-cookie:[[:space:]]*n8n-auth=' <<<"$response" ||
    { because "n8n accepted the owner's login but set no n8n-auth cookie"; return 1; }
  echo "n8n owner $GM_N8N_OWNER_EMAIL set up and able to log in"
}

# The functional check prints "<service> ok <detail>" or "<service> FAIL <reason>" per service; the
# FAIL lines (never secrets, and redacted anyway) become the step's reason.
functional_check() {
  local output rc=0 failures
  output=$(bash "$GM_RUNTIME_DIR/host/functional-check.sh") || rc=$?
  [ -z "$output" ] || printf '%s\n' "$output"
  ((rc == 0)) && return 0
  failures=$(grep -E '^[A-Za-z0-9_-]+ FAIL( |$)' <<<"$output")
  because "${failures:-functional check exited $rc without naming a failing service}"
  return 1
}

expose_n8n() {
  if gm_ai_role; then
    echo "the AI host runs no n8n: nothing to expose (Ollama, Qdrant and Crawl4AI are published on ${GM_AI_SERVICES_BIND:-127.0.0.1} by start.sh)"
    return 0
  fi
  bash "$GM_RUNTIME_DIR/host/expose-n8n.sh"
}

enable_services() {
  bash "$GM_RUNTIME_DIR/host/install-services.sh"
}

# Tiers behind a load balancer hold a new host out of it (launch lifecycle hook) until this point.
release_host() {
  if [ -z "${GM_LIFECYCLE_HOOK:-}" ]; then
    echo "no load balancer to release the host to"
    return 0
  fi
  local instance
  instance=$(imds_instance_id) || { because "could not read this host's instance id from IMDS"; return 1; }
  aws autoscaling complete-lifecycle-action --region "$GM_REGION" --lifecycle-hook-name "$GM_LIFECYCLE_HOOK" \
    --auto-scaling-group-name "$GM_AUTO_SCALING_GROUP" --instance-id "$instance" --lifecycle-action-result CONTINUE ||
    { because "could not release the host to the load balancer (complete-lifecycle-action exit $?)"; return 1; }
}

# Whatever ends this script early (a bad host.env, a kill) still tells CloudFormation.
on_exit() {
  if [ "$SIGNALLED" = false ]; then
    log "bootstrap ended before signalling"
    signal 1 "bootstrap ended unexpectedly, see $GM_BOOTSTRAP_LOG" || true
  fi
}
trap on_exit EXIT

umask 077
run_step install-packages install_packages
run_step mount-efs mount_efs
run_step write-secrets write_secrets
run_step start-runtime start_runtime
run_step setup-owner setup_owner
run_step functional-check functional_check
run_step expose-n8n expose_n8n
run_step enable-services enable_services
run_step release-host release_host
log "bootstrap complete: every service works"
signal 0 "GeuseMaker runtime works" || { log "cfn-signal failed"; exit 1; }
# Models only now: the host is healthy and signalled; the pull (to EFS, resumable) runs in the background.
systemctl start --no-block geusemaker-models.service >>"$GM_BOOTSTRAP_LOG" 2>&1 ||
  log "could not start geusemaker-models.service (it runs on the next boot)"
