/**
 * The health gate script, run for real under `sh` (CodeBuild's shell for buildspec commands) with `npx`, `aws` and
 * `sleep` as stubs on PATH: the stage passes only when `gm-ops health` says healthy.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HEALTH_GATE_SCRIPT } from '../../lib/pipeline/health-gate';
import { tempDir } from '../helpers/temp-dirs';

const SCRIPT = path.join(__dirname, '..', '..', HEALTH_GATE_SCRIPT);

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every stub call, in order: `npx <args> | key=<AWS_ACCESS_KEY_ID>`, `aws <args>`, `sleep <args>`. */
  readonly calls: string[];
}

/** `healthExits`: what each successive `gm-ops health` exits with (the last one repeats). */
function runGate(env: Record<string, string>, healthExits: number[], options: { awsFails?: boolean } = {}): Run {
  const dir = tempDir('geuse-gate-');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(path.join(dir, 'exits'), `${healthExits.join('\n')}\n`);
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub('npx', [
    `echo "npx $* | key=\${AWS_ACCESS_KEY_ID:-} token=\${AWS_SESSION_TOKEN:-}" >> "${log}"`,
    `code=$(head -n 1 "${dir}/exits")`,
    `if [ "$(wc -l < "${dir}/exits")" -gt 1 ]; then tail -n +2 "${dir}/exits" > "${dir}/exits.next" && mv "${dir}/exits.next" "${dir}/exits"; fi`,
    'echo \'{"healthy":false}\'',
    'exit "$code"',
  ].join('\n'));
  stub('aws', options.awsFails
    ? `echo "aws $*" >> "${log}"; echo "An error occurred (AccessDenied) when calling the AssumeRole operation" >&2; exit 254`
    : `echo "aws $*" >> "${log}"; printf 'AKIAEXAMPLE\\tsecret-example\\ttoken-example\\n'`);
  stub('sleep', `echo "sleep $*" >> "${log}"`);
  const result = spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
  });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

const GATE_ENV = {
  GM_DEPLOYMENT: 'team-dev',
  GM_REGION: 'eu-west-1',
  GM_AUTO_SCALING_GROUP: 'GeuseDev-team-dev-HostAsg-ABC',
  GM_HEALTH_ATTEMPTS: '3',
  GM_HEALTH_INTERVAL_SECONDS: '30',
};
const HEALTH_CALL = 'npx --no gm-ops health team-dev --region eu-west-1 --json | key= token=';

test('healthy at once: exit 0 after one probe of the stage\'s deployment, no registry fetch (npx --no)', () => {
  const run = runGate(GATE_ENV, [0]);
  expect(run.status).toBe(0);
  expect(run.calls).toEqual([HEALTH_CALL]);
  expect(run.stdout).toContain('host group GeuseDev-team-dev-HostAsg-ABC');
});

test('unhealthy every time: the gate fails (exit 1) after the configured attempts, 30 s apart', () => {
  const run = runGate(GATE_ENV, [1]);
  expect(run.status).toBe(1);
  expect(run.calls).toEqual([HEALTH_CALL, 'sleep 30', HEALTH_CALL, 'sleep 30', HEALTH_CALL]);
  expect(run.stderr).toContain('team-dev is unhealthy after 3 attempt(s); not promoting');
});

test('unhealthy, then healthy: the gate passes on the second probe', () => {
  const run = runGate(GATE_ENV, [1, 0]);
  expect(run.status).toBe(0);
  expect(run.calls).toEqual([HEALTH_CALL, 'sleep 30', HEALTH_CALL]);
});

test('a usage error or any other failure of gm-ops fails at once, without retrying', () => {
  const run = runGate(GATE_ENV, [2, 0]);
  expect(run.status).toBe(2);
  expect(run.calls).toEqual([HEALTH_CALL]);
});

test('one attempt configured: no retry', () => {
  const run = runGate({ ...GATE_ENV, GM_HEALTH_ATTEMPTS: '1' }, [1, 0]);
  expect(run.status).toBe(1);
  expect(run.calls).toEqual([HEALTH_CALL]);
});

test('no AutoScalingGroupName output reached the gate: it fails without probing', () => {
  const { GM_AUTO_SCALING_GROUP: _omitted, ...env } = GATE_ENV;
  const run = runGate(env, [0]);
  expect(run.status).toBe(1);
  expect(run.calls).toEqual([]);
  expect(run.stderr).toContain('reported no AutoScalingGroupName output');
});

test('a missing deployment name fails without probing', () => {
  const { GM_DEPLOYMENT: _omitted, ...env } = GATE_ENV;
  const run = runGate(env, [0]);
  expect(run.status).not.toBe(0);
  expect(run.calls).toEqual([]);
});

test('cross-account: the gate assumes the configured role first and probes with its credentials', () => {
  const roleArn = 'arn:aws:iam::222222222222:role/geuse-health-gate';
  const run = runGate({ ...GATE_ENV, GM_HEALTH_ROLE_ARN: roleArn }, [0]);
  expect(run.status).toBe(0);
  expect(run.calls).toEqual([
    `aws sts assume-role --role-arn ${roleArn} --role-session-name geuse-health-gate --duration-seconds 3600 --query Credentials.[AccessKeyId,SecretAccessKey,SessionToken] --output text`,
    'npx --no gm-ops health team-dev --region eu-west-1 --json | key=AKIAEXAMPLE token=token-example',
  ]);
});

test('cross-account: a refused assume-role fails the gate without probing', () => {
  const run = runGate({ ...GATE_ENV, GM_HEALTH_ROLE_ARN: 'arn:aws:iam::222222222222:role/geuse-health-gate' }, [0], { awsFails: true });
  expect(run.status).not.toBe(0);
  expect(run.calls.filter((c) => c.startsWith('npx'))).toEqual([]);
});
