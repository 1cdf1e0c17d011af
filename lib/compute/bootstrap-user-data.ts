import { Lazy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { HOST_PATHS } from '../../ops/src/contract';

export interface BootstrapUserDataProps {
  /** The zipped `docker/` folder. */
  readonly runtime: s3assets.Asset;
  /**
   * Non-secret settings written to the host's `host.env` (names start with `GM_`; values may be tokens).
   * Read at synthesis, so settings known only later (a load balancer's URL) can still be added.
   */
  readonly settings: () => Readonly<Record<string, string>>;
  /** `cfn-signal` target: stack name, the auto scaling group's logical id, region. */
  readonly signal: { readonly stackName: string; readonly resource: string; readonly region: string };
}

/**
 * The user data of a host: fetch the runtime, write `host.env`, hand over to `host/bootstrap.sh`.
 * If the runtime cannot even be fetched, it signals failure itself, so CloudFormation never waits out
 * the timeout. Every path is under `$GM_PREFIX` (empty on a host) so tests run it in a temp dir.
 * Secret values never appear here: only secret ARNs.
 */
export function addBootstrapCommands(userData: ec2.UserData, props: BootstrapUserDataProps): void {
  const { signal } = props;
  const settings = Lazy.string({
    produce: () => Object.entries({
      ...props.settings(),
      GM_STACK_NAME: signal.stackName,
      GM_SIGNAL_RESOURCE: signal.resource,
      GM_REGION: signal.region,
    }).map(([key, value]) => `${key}=${shellQuote(value)}`).join('\n'),
  });

  userData.addCommands(
    'set -uo pipefail',
    'export PATH="/opt/aws/bin:$PATH"',
    ': "${GM_PREFIX:=}"',
    `export GM_BOOTSTRAP_LOG="$GM_PREFIX${HOST_PATHS.bootstrapLog}"`,
    `export GM_RUNTIME_DIR="$GM_PREFIX${HOST_PATHS.runtimeDir}"`,
    'export GM_HOST_ENV_FILE="$GM_PREFIX/etc/geusemaker/host.env"',
    'fail() {',
    '  echo "$(date -u +%FT%TZ) step $1: FAILED" >>"$GM_BOOTSTRAP_LOG"',
    `  cfn-signal --exit-code 1 --reason "bootstrap step $1 failed" --stack '${signal.stackName}' --resource '${signal.resource}' --region '${signal.region}'`,
    '  exit 1',
    '}',
    'mkdir -p "$(dirname "$GM_BOOTSTRAP_LOG")" "$GM_RUNTIME_DIR" "$GM_PREFIX/etc/geusemaker" && touch "$GM_BOOTSTRAP_LOG" && chmod 600 "$GM_BOOTSTRAP_LOG" || fail prepare-host',
    'umask 077',
    `cat >"$GM_HOST_ENV_FILE" <<'GM_HOST_ENV' || fail write-host-settings`,
    settings,
    'GM_HOST_ENV',
    `for attempt in 1 2 3 4 5; do aws s3 cp --only-show-errors '${props.runtime.s3ObjectUrl}' "$GM_RUNTIME_DIR/runtime.zip" --region '${signal.region}' && break; [ "$attempt" = 5 ] && fail download-runtime; sleep 5; done`,
    'command -v unzip >/dev/null || dnf install -y unzip || fail unpack-runtime',
    'unzip -o -q "$GM_RUNTIME_DIR/runtime.zip" -d "$GM_RUNTIME_DIR" && rm -f "$GM_RUNTIME_DIR/runtime.zip" || fail unpack-runtime',
    'exec bash "$GM_RUNTIME_DIR/host/bootstrap.sh"',
  );
}

/** Single-quotes a value for bash (`'` becomes `'\''`), so any setting sources safely. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}
