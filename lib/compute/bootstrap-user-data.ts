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
 * If the runtime cannot even be fetched, it signals failure itself (installing cfn-signal first where the
 * AMI lacks it, else through the AWS CLI), so CloudFormation never waits out the timeout. Every path is
 * under `$GM_PREFIX` (empty on a host) so tests run it in a temp dir.
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

  const regionFlag = `--region '${signal.region}'`;
  userData.addCommands(
    'set -uo pipefail',
    ': "${GM_PREFIX:=}"',
    'export PATH="$GM_PREFIX/opt/aws/bin:$PATH"',
    `export GM_BOOTSTRAP_LOG="$GM_PREFIX${HOST_PATHS.bootstrapLog}"`,
    `export GM_RUNTIME_DIR="$GM_PREFIX${HOST_PATHS.runtimeDir}"`,
    'export GM_HOST_ENV_FILE="$GM_PREFIX/etc/geusemaker/host.env"',
    'instance_id() { local t; t=$(curl -fsS -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token) && curl -fsS -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/instance-id; }',
    // Without cfn-signal (an AMI without aws-cfn-bootstrap, whose install failed) the AWS CLI sends the same
    // signal; the host also marks itself unhealthy, so a replacement host that fails is itself replaced.
    'fail() {',
    '  echo "$(date -u +%FT%TZ) step $1: FAILED" >>"$GM_BOOTSTRAP_LOG"',
    '  echo "GeuseMaker bootstrap step $1 failed" >&2',
    '  if command -v cfn-signal >/dev/null; then',
    `    cfn-signal --exit-code 1 --reason "bootstrap step $1 failed" --stack '${signal.stackName}' --resource '${signal.resource}' ${regionFlag}`,
    '  else',
    `    aws cloudformation signal-resource ${regionFlag} --stack-name '${signal.stackName}' --logical-resource-id '${signal.resource}' --unique-id "$(instance_id)" --status FAILURE`,
    '  fi',
    `  aws autoscaling set-instance-health ${regionFlag} --instance-id "$(instance_id)" --health-status Unhealthy --no-should-respect-grace-period`,
    '  exit 1',
    '}',
    'mkdir -p "$(dirname "$GM_BOOTSTRAP_LOG")" "$GM_RUNTIME_DIR" "$GM_PREFIX/etc/geusemaker" && touch "$GM_BOOTSTRAP_LOG" && chmod 600 "$GM_BOOTSTRAP_LOG" || fail prepare-host',
    // The Deep Learning AMI may lack cfn-signal: install it before anything can need to signal.
    'command -v cfn-signal >/dev/null || dnf install -y aws-cfn-bootstrap >>"$GM_BOOTSTRAP_LOG" 2>&1 || echo "$(date -u +%FT%TZ) aws-cfn-bootstrap could not be installed: signals go through the AWS CLI" >>"$GM_BOOTSTRAP_LOG"',
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
