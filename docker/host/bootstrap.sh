#!/usr/bin/env bash
# Bootstrap of a new GeuseMaker host, run once by user data after it unpacked the runtime.
# Each step is logged by name to $GM_BOOTSTRAP_LOG; the first failing step signals failure to
# CloudFormation (which rolls back) and stops. Success is signalled only once every service is healthy.
# Secret values are never printed: they go straight from Secrets Manager into a root-only env file.
set -uo pipefail

: "${GM_PREFIX:=}"
: "${GM_HOST_ENV_FILE:=$GM_PREFIX/etc/geusemaker/host.env}"
# shellcheck source=/dev/null
source "$GM_HOST_ENV_FILE"

: "${GM_BOOTSTRAP_LOG:=$GM_PREFIX/var/log/geusemaker-bootstrap.log}"
: "${GM_RUNTIME_DIR:=$GM_PREFIX/opt/geusemaker}"
: "${GM_ENV_FILE:=$GM_PREFIX/etc/geusemaker/runtime.env}"
: "${GM_EFS_MOUNT:=$GM_PREFIX/mnt/efs}"
: "${GM_FSTAB:=$GM_PREFIX/etc/fstab}"
: "${GM_CLI_PLUGINS_DIR:=$GM_PREFIX/usr/local/lib/docker/cli-plugins}"
: "${GM_MOUNT_ATTEMPTS:=30}"
: "${GM_MOUNT_RETRY_SECONDS:=10}"
: "${GM_INSTALL_DOCKER:=true}"
: "${GM_N8N_OWNER_EMAIL:=owner@example.com}"
: "${GM_OWNER_ATTEMPTS:=30}"
: "${GM_OWNER_RETRY_SECONDS:=10}"
export GM_PREFIX GM_HOST_ENV_FILE GM_ENV_FILE GM_EFS_MOUNT GM_RUNTIME_DIR

# Pinned runtime tooling. The Compose plugin is downloaded, so its checksum is verified.
readonly DOCKER_PACKAGE='docker-25.0.*'
readonly COMPOSE_VERSION='5.1.3'
readonly COMPOSE_URL="https://github.com/docker/compose/releases/download/v${COMPOSE_VERSION}/docker-compose-linux-x86_64"
readonly COMPOSE_SHA256='a0298760c9772d2c06888fc8703a487c94c3c3b0134adeef830742a2fc7647b4'

log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$GM_BOOTSTRAP_LOG"
}

SIGNALLED=false
signal() {
  local code=$1 reason=$2
  SIGNALLED=true
  cfn-signal --exit-code "$code" --reason "$reason" \
    --stack "$GM_STACK_NAME" --resource "$GM_SIGNAL_RESOURCE" --region "$GM_REGION"
}

# run_step NAME FUNCTION: runs one step; on failure logs its name, signals failure and exits.
run_step() {
  local name=$1 rc=0
  log "step $name: start"
  "$2" >>"$GM_BOOTSTRAP_LOG" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "step $name: FAILED (exit $rc)"
    signal 1 "bootstrap step $name failed (exit $rc), see $GM_BOOTSTRAP_LOG" || log "cfn-signal failed"
    mark_unhealthy >>"$GM_BOOTSTRAP_LOG" 2>&1 || log "could not mark the host unhealthy"
    exit 1
  fi
  log "step $name: ok"
}

# Outside a CloudFormation operation (a replacement host) nobody reads the signal: marking the host
# unhealthy makes its auto scaling group replace it instead of leaving a broken host in service.
mark_unhealthy() {
  local token instance
  token=$(curl --fail --silent --show-error -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
    http://169.254.169.254/latest/api/token)
  instance=$(curl --fail --silent --show-error -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/instance-id)
  aws autoscaling set-instance-health --region "$GM_REGION" --instance-id "$instance" \
    --health-status Unhealthy --no-should-respect-grace-period
  log "host $instance marked unhealthy: its auto scaling group replaces it"
}

install_packages() {
  dnf install -y amazon-efs-utils
  if [ "$GM_INSTALL_DOCKER" = true ]; then
    dnf install -y "$DOCKER_PACKAGE"
  fi
  systemctl enable --now docker
  if docker compose version 2>/dev/null | grep -q "v${COMPOSE_VERSION}"; then
    return 0
  fi
  local download
  download=$(mktemp)
  curl --fail --silent --show-error --location --retry 5 --output "$download" "$COMPOSE_URL"
  if ! printf '%s  %s\n' "$COMPOSE_SHA256" "$download" | sha256sum --check --status; then
    echo "docker compose ${COMPOSE_VERSION}: checksum mismatch, refusing to install" >&2
    rm -f "$download"
    return 1
  fi
  mkdir -p "$GM_CLI_PLUGINS_DIR"
  install -m 0755 "$download" "$GM_CLI_PLUGINS_DIR/docker-compose"
  rm -f "$download"
}

# EFS with TLS and IAM authorization; the mount target's DNS name can take a while to resolve.
mount_efs() {
  mkdir -p "$GM_EFS_MOUNT"
  local attempt
  for ((attempt = 1; attempt <= GM_MOUNT_ATTEMPTS; attempt++)); do
    if mount -t efs -o tls,iam "$GM_FILE_SYSTEM_ID:/" "$GM_EFS_MOUNT"; then
      grep -q "^$GM_FILE_SYSTEM_ID:/ " "$GM_FSTAB" 2>/dev/null ||
        echo "$GM_FILE_SYSTEM_ID:/ $GM_EFS_MOUNT efs _netdev,tls,iam,nofail 0 0" >>"$GM_FSTAB"
      return 0
    fi
    echo "mount of $GM_FILE_SYSTEM_ID not ready (attempt $attempt of $GM_MOUNT_ATTEMPTS)" >&2
    sleep "$GM_MOUNT_RETRY_SECONDS"
  done
  echo "EFS $GM_FILE_SYSTEM_ID did not mount after $GM_MOUNT_ATTEMPTS attempts" >&2
  return 1
}

# GM_SECRETS is "ENV_VAR=secret-name,..."; each value lands in the root-only env file, never on stdout.
write_secrets() {
  local tmp pair name arn value
  mkdir -p "$(dirname "$GM_ENV_FILE")"
  tmp=$(mktemp "$(dirname "$GM_ENV_FILE")/.runtime.env.XXXXXX")
  chmod 600 "$tmp"
  IFS=',' read -r -a pairs <<<"$GM_SECRETS"
  for pair in "${pairs[@]}"; do
    name=${pair%%=*}
    arn=${pair#*=}
    if ! value=$(aws secretsmanager get-secret-value --region "$GM_REGION" --secret-id "$arn" \
      --query SecretString --output text); then
      echo "could not read secret for $name" >&2
      rm -f "$tmp"
      return 1
    fi
    if [ -z "$value" ] || [[ "$value" == *$'\n'* ]]; then
      echo "secret for $name is empty or has several lines" >&2
      rm -f "$tmp"
      return 1
    fi
    printf '%s=%s\n' "$name" "$value" >>"$tmp"
  done
  mv -f "$tmp" "$GM_ENV_FILE"
}

start_runtime() {
  bash "$GM_RUNTIME_DIR/host/start.sh"
}

# n8n's owner is claimed by its first visitor: claim it here, on localhost, before any network sees n8n.
# The password goes to curl on stdin, never on a command line.
setup_owner() {
  local base="http://127.0.0.1:5678" settings password attempt
  # Only n8n's JSON settings answer the question; anything else (a page served while n8n starts) means ask again.
  for ((attempt = 1; attempt <= GM_OWNER_ATTEMPTS; attempt++)); do
    settings=$(curl --fail --silent --show-error "$base/rest/settings" || true)
    if grep -q '"showSetupOnFirstLoad":false' <<<"$settings"; then
      echo "n8n owner already set up"
      return 0
    fi
    if grep -q '"showSetupOnFirstLoad":true' <<<"$settings"; then
      break
    fi
    echo "n8n settings not available yet (attempt $attempt of $GM_OWNER_ATTEMPTS)" >&2
    if ((attempt == GM_OWNER_ATTEMPTS)); then
      echo "n8n never answered whether it has an owner: not exposing it" >&2
      return 1
    fi
    sleep "$GM_OWNER_RETRY_SECONDS"
  done
  password=$(sed -n 's/^N8N_OWNER_PASSWORD=//p' "$GM_ENV_FILE")
  if [ -z "$password" ]; then
    echo "N8N_OWNER_PASSWORD missing from $GM_ENV_FILE" >&2
    return 1
  fi
  printf '{"email":"%s","firstName":"GeuseMaker","lastName":"Owner","password":"%s"}' "$GM_N8N_OWNER_EMAIL" "$password" |
    curl --fail --silent --show-error --output /dev/null -X POST -H 'Content-Type: application/json' \
      --data-binary @- "$base/rest/owner/setup"
  echo "n8n owner $GM_N8N_OWNER_EMAIL set up"
}

# Tiers behind a load balancer hold a new host out of it (launch lifecycle hook) until this point.
release_host() {
  if [ -z "${GM_LIFECYCLE_HOOK:-}" ]; then
    echo "no load balancer to release the host to"
    return 0
  fi
  local token instance
  token=$(curl --fail --silent --show-error -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
    http://169.254.169.254/latest/api/token)
  instance=$(curl --fail --silent --show-error -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/instance-id)
  aws autoscaling complete-lifecycle-action --region "$GM_REGION" --lifecycle-hook-name "$GM_LIFECYCLE_HOOK" \
    --auto-scaling-group-name "$GM_AUTO_SCALING_GROUP" --instance-id "$instance" --lifecycle-action-result CONTINUE
}

enable_services() {
  bash "$GM_RUNTIME_DIR/host/install-services.sh"
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
run_step enable-services enable_services
run_step release-host release_host
log "bootstrap complete: every service is healthy"
signal 0 "GeuseMaker runtime healthy" || { log "cfn-signal failed"; exit 1; }
