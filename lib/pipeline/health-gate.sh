#!/bin/sh
# Health gate of a GeuseMaker promotion pipeline stage. CodeBuild runs it after the stage's stacks are
# deployed, from a checkout of the repository on which `npm ci` has run (so the workspace's gm-ops is built).
# It probes every service of the deployment's host through SSM with `gm-ops health` and exits with its code:
# 0 healthy, 1 unhealthy (retried GM_HEALTH_ATTEMPTS times, GM_HEALTH_INTERVAL_SECONDS apart), anything else
# at once. A non-zero exit fails the CodeBuild action, hence the stage: the next environment is not promoted.
#
# Environment (set by the pipeline):
#   GM_DEPLOYMENT            deployment name of the stage (stacks GeuseData-/Geuse<Tier>-<name>)
#   GM_REGION                region of the deployment
#   GM_AUTO_SCALING_GROUP    AutoScalingGroupName output of the compute stack just deployed
#   GM_HEALTH_ATTEMPTS       probes before giving up (default 3)
#   GM_HEALTH_INTERVAL_SECONDS  pause between probes (default 30)
#   GM_HEALTH_ROLE_ARN       optional: a role in the deployment's account to assume first (cross-account stages)
set -eu

: "${GM_DEPLOYMENT:?GM_DEPLOYMENT is required}"
: "${GM_REGION:?GM_REGION is required}"
attempts=${GM_HEALTH_ATTEMPTS:-3}
interval=${GM_HEALTH_INTERVAL_SECONDS:-30}

if [ -z "${GM_AUTO_SCALING_GROUP:-}" ]; then
  echo "health gate: the compute stack of $GM_DEPLOYMENT reported no AutoScalingGroupName output" >&2
  exit 1
fi
echo "health gate: deployment $GM_DEPLOYMENT in $GM_REGION, host group $GM_AUTO_SCALING_GROUP"

if [ -n "${GM_HEALTH_ROLE_ARN:-}" ]; then
  echo "health gate: assuming $GM_HEALTH_ROLE_ARN"
  creds=$(aws sts assume-role --role-arn "$GM_HEALTH_ROLE_ARN" --role-session-name "geuse-health-gate" \
    --duration-seconds 3600 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  AWS_ACCESS_KEY_ID=$(printf '%s\n' "$creds" | cut -f1)
  AWS_SECRET_ACCESS_KEY=$(printf '%s\n' "$creds" | cut -f2)
  AWS_SESSION_TOKEN=$(printf '%s\n' "$creds" | cut -f3)
  if [ -z "$AWS_ACCESS_KEY_ID" ] || [ -z "$AWS_SECRET_ACCESS_KEY" ] || [ -z "$AWS_SESSION_TOKEN" ]; then
    echo "health gate: assume-role returned no credentials" >&2
    exit 1
  fi
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
fi

attempt=1
while :; do
  # --no: never fetch a package named gm-ops from a registry; the workspace's own bin must be there.
  status=0
  npx --no gm-ops health "$GM_DEPLOYMENT" --region "$GM_REGION" --json || status=$?
  if [ "$status" -eq 0 ]; then
    echo "health gate: $GM_DEPLOYMENT is healthy"
    exit 0
  fi
  if [ "$status" -ne 1 ]; then
    echo "health gate: gm-ops health exited with $status" >&2
    exit "$status"
  fi
  if [ "$attempt" -ge "$attempts" ]; then
    echo "health gate: $GM_DEPLOYMENT is unhealthy after $attempts attempt(s); not promoting" >&2
    exit 1
  fi
  echo "health gate: unhealthy (attempt $attempt of $attempts); probing again in ${interval}s" >&2
  attempt=$((attempt + 1))
  sleep "$interval"
done
