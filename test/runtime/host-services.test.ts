/**
 * The scripts systemd runs: spot-watcher.sh, pull-models.sh, qdrant-snapshot.sh, and
 * install-services.sh which installs the units. Run for real under bash with stubs on PATH.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost, HOST_SCRIPTS_DIR } from './helpers/fake-host';

const fleet = new FakeFleet();
const newHost = (settings: Record<string, string> = {}): FakeHost => fleet.host('a', settings);

const NOTICE = '{"action": "terminate", "time": "2025-03-01T12:02:00Z"}';

describe('spot-watcher.sh', () => {
  async function runningHost(): Promise<FakeHost> {
    const host = newHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.curl('imds-token', 200, 'TOKEN-1');
    host.curl('lifecycle', 200, 'spot');
    host.fakeQdrantSnapshots('snap');
    return host;
  }

  test('runs stop.sh when IMDS announces an interruption, polling every 5 s until then', async () => {
    const host = await runningHost();
    host.curl('spot', 404, 'Not Found', 1);
    host.curl('spot', 404, 'Not Found', 2);
    host.curl('spot', 200, NOTICE, 3);

    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '10' });

    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`spot watcher: interruption notice received: ${NOTICE}; stopping the stack`);
    expect(result.stderr).toContain('spot watcher: stack stopped cleanly before the interruption');
    // IMDSv2: a session token first, then the token on every metadata request.
    const curls = host.calls().filter((c) => c.startsWith('curl ') && c.includes('169.254.169.254'));
    expect(curls.find((c) => c.includes('/latest/api/token'))).toContain('-X PUT -H X-aws-ec2-metadata-token-ttl-seconds: 21600');
    const polls = curls.filter((c) => c.endsWith('/latest/meta-data/spot/instance-action'));
    expect(polls).toHaveLength(3);
    for (const poll of polls) expect(poll).toContain('-H X-aws-ec2-metadata-token: TOKEN-1');
    // Two 5 s waits between the three polls, none after the notice.
    expect(host.sleeps().filter((s) => s === 'sleep 5')).toHaveLength(2);
    // The watchdog timer stops first: it must not restart a service once the fence is released.
    expect(host.calls()).toContain('systemctl stop geusemaker-watchdog.timer');
    // stop.sh really ran: snapshot, compose stop, fence released.
    expect(host.composeSubcommands()).toContain('stop');
    expect(fs.readdirSync(fleet.efs.snapshotDir)).toHaveLength(1);
    expect(fleet.efs.lockIsFree()).toBe(true);
    expect(host.log('stop')).toContain('stop: done');
    // The whole stop gets 100 s of the two-minute notice.
    expect(host.log('stop')).toContain('stop: stopping the stack (deployment my-stack) within 100s');
  });

  test('never stops anything while there is no notice (bounded here by GM_SPOT_MAX_POLLS)', async () => {
    const host = await runningHost();
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '4' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('no interruption notice or termination after 4 polls');
    expect(host.calls().filter((c) => c.includes('target-lifecycle-state'))).toEqual([]);
    expect(host.composeSubcommands()).not.toContain('stop');
    expect(fleet.efs.lockIsFree()).toBe(false);
  });

  test('renews the IMDSv2 token on 401 and keeps watching', async () => {
    const host = await runningHost();
    host.curl('imds-token', 200, 'TOKEN-2', 2);
    host.curl('spot', 401, '', 1);
    host.curl('spot', 200, NOTICE, 2);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '5' });
    expect(result.code).toBe(0);
    const polls = host.calls().filter((c) => c.endsWith('/latest/meta-data/spot/instance-action'));
    expect(polls[1]).toContain('X-aws-ec2-metadata-token: TOKEN-2');
    expect(host.composeSubcommands()).toContain('stop');
  });

  test('keeps watching when IMDS is unreachable for a while', async () => {
    const host = await runningHost();
    host.curl('spot', '000', '', 1);
    host.curl('spot', 200, NOTICE, 2);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '5' });
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(result.stderr).toContain('unexpected answer 000 from IMDS, still watching');
    expect(host.composeSubcommands()).toContain('stop');
  });

  test('exits 0 at once on an on-demand instance', async () => {
    const host = await runningHost();
    host.curl('lifecycle', 200, 'on-demand');
    const result = await host.run('spot-watcher.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('on-demand instance');
    expect(host.calls().filter((c) => c.endsWith('/spot/instance-action'))).toEqual([]);
  });

  test('reports a failed stop with its exit code', async () => {
    const host = await runningHost();
    host.curl('spot', 200, NOTICE);
    const failingStop = path.join(host.root, 'failing-stop.sh');
    fs.writeFileSync(failingStop, 'echo "stop broke" >&2\nexit 4\n');
    const result = await host.run('spot-watcher.sh', { GM_STOP_SCRIPT: failingStop });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('stop broke');
    expect(result.stderr).toContain('spot watcher: stop.sh failed (exit 4)');
  });
});

describe('spot-watcher.sh with the termination lifecycle hook (scale-in: gm-ops stop, a schedule, a replacement)', () => {
  const HOOK = { GM_TERMINATION_HOOK: 'geusemaker-clean-stop', GM_AUTO_SCALING_GROUP: 'geusemaker-my-stack', GM_REGION: 'eu-west-1' };
  const COMPLETE = 'aws autoscaling complete-lifecycle-action --region eu-west-1 --lifecycle-hook-name geusemaker-clean-stop --auto-scaling-group-name geusemaker-my-stack --instance-id i-0abc123 --lifecycle-action-result CONTINUE';
  const lifecyclePolls = (host: FakeHost) => host.calls().filter((c) => c.endsWith('/latest/meta-data/autoscaling/target-lifecycle-state'));

  function hookedHost(lifeCycle: 'spot' | 'on-demand'): FakeHost {
    const host = newHost(HOOK);
    host.curl('imds-token', 200, 'TOKEN-1');
    host.curl('lifecycle', 200, lifeCycle);
    host.curl('instance-id', 200, 'i-0abc123');
    return host;
  }

  test('on "Terminated" it stops the stack through systemd (stop.sh as ExecStop), then completes the hook with CONTINUE', async () => {
    const host = hookedHost('spot');
    // IMDS answers 404 until auto scaling has set the item, then the state the host is heading for.
    host.curl('target-lifecycle', 404, '', 1);
    host.curl('target-lifecycle', 200, 'InService', 2);
    host.curl('target-lifecycle', 200, 'Terminated', 3);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '10' });
    expect(result.code).toBe(0);
    expect(lifecyclePolls(host)).toHaveLength(3);
    for (const poll of lifecyclePolls(host)) expect(poll).toContain('-H X-aws-ec2-metadata-token: TOKEN-1');
    const calls = host.calls();
    const stop = calls.indexOf('systemctl stop geusemaker.service');
    expect(stop).toBeGreaterThan(-1);
    // The watchdog goes first: nothing may restart a service once the fence is released.
    expect(calls.indexOf('systemctl stop geusemaker-watchdog.timer')).toBeGreaterThan(-1);
    expect(calls.indexOf('systemctl stop geusemaker-watchdog.timer')).toBeLessThan(stop);
    expect(calls.indexOf(COMPLETE)).toBeGreaterThan(stop);
    expect(calls.filter((c) => c.startsWith('aws '))).toEqual([COMPLETE]);
    expect(host.sleeps().filter((s) => s === 'sleep 5')).toHaveLength(2);
    expect(result.stderr).toContain('completed the lifecycle action geusemaker-clean-stop for i-0abc123 (CONTINUE)');
  });

  test('an on-demand host with the hook watches only its lifecycle state (no spot notice can come)', async () => {
    const host = hookedHost('on-demand');
    host.curl('target-lifecycle', 200, 'Terminated', 2);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '10' });
    expect(result.code).toBe(0);
    expect(host.calls().filter((c) => c.endsWith('/spot/instance-action'))).toEqual([]);
    expect(lifecyclePolls(host)).toHaveLength(2);
    expect(host.calls()).toContain(COMPLETE);
  });

  test('other target states (Standby, Detached, InService) stop nothing', async () => {
    const host = hookedHost('spot');
    host.curl('target-lifecycle', 200, 'Standby', 1);
    host.curl('target-lifecycle', 200, 'Detached', 2);
    host.curl('target-lifecycle', 200, 'InService', 3);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '3' });
    expect(result.code).toBe(0);
    expect(lifecyclePolls(host)).toHaveLength(3);
    expect(host.calls().some((c) => c.startsWith('systemctl stop') || c.startsWith('aws '))).toBe(false);
  });

  test('a completion the group refuses is logged in one line and exits 1, so systemd restarts the watcher', async () => {
    const host = hookedHost('spot');
    host.curl('target-lifecycle', 200, 'Terminated');
    host.answer('aws', '\nAn error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID i-0abc123\n');
    host.exitCode('aws', 254);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '3' });
    expect(result.code).toBe(1);
    expect(host.calls()).toContain('systemctl stop geusemaker.service');
    expect(result.stderr).toContain('scale-in watcher: complete-lifecycle-action failed (exit 254): An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID i-0abc123');
  });

  test('a stop that fails still completes the hook: the fence is released on every path of stop.sh', async () => {
    const host = hookedHost('spot');
    host.curl('target-lifecycle', 200, 'Terminated');
    host.exitCode('systemctl', 1);
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '3' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('systemctl stop geusemaker.service failed; completing the lifecycle action anyway');
    expect(host.calls()).toContain(COMPLETE);
  });

  test('a hook without its group or region is a bad setting (exit 2), named in one line', async () => {
    const host = newHost({ GM_TERMINATION_HOOK: 'geusemaker-clean-stop' });
    const result = await host.run('spot-watcher.sh', { GM_SPOT_MAX_POLLS: '1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GM_TERMINATION_HOOK is set but GM_AUTO_SCALING_GROUP or GM_REGION is not');
  });
});

describe('pull-models.sh', () => {
  const LISTING = 'NAME                ID              SIZE      MODIFIED\nllama3.2:1b         baf6a787fdff    1.3 GB    2 days ago\nnomic-embed-text:latest  0a109f422b47  274 MB  2 days ago\n';

  test('skips models already on EFS and pulls only the missing ones', async () => {
    const host = newHost({ GM_MODELS: 'llama3.2:1b nomic-embed-text qwen2.5:0.5b' });
    host.answer('ollama-list', LISTING);
    host.answer('pull', 'pulling manifest\rpulling 6a0746a1ec1a... 100%\nsuccess\n');

    const result = await host.run('pull-models.sh');

    expect(result.code).toBe(0);
    expect(host.readState('pulled')).toBe('qwen2.5:0.5b\n');
    expect(result.stderr).toContain('pull-models: llama3.2:1b already present on EFS, skipping');
    expect(result.stderr).toContain('pull-models: nomic-embed-text already present on EFS, skipping');
    expect(result.stderr).toContain('pull-models: qwen2.5:0.5b pulled');
    expect(result.stderr).toContain('ollama: success');
    expect(host.log('pull-models')).toContain('every model is present: llama3.2:1b nomic-embed-text qwen2.5:0.5b');
    const pull = host.dockerCalls().find((c) => c.includes('ollama pull'))!;
    expect(pull).toMatch(/ exec -T ollama ollama pull qwen2\.5:0\.5b$/);
  });

  test('everything present: no download at all (a restored host)', async () => {
    const host = newHost({ GM_MODELS: 'llama3.2:1b' });
    host.answer('ollama-list', LISTING);
    const result = await host.run('pull-models.sh');
    expect(result.code).toBe(0);
    expect(fs.existsSync(host.stateFile('pulled'))).toBe(false);
  });

  test('waits (bounded) for Ollama, retries a failed pull, and fails naming the model', async () => {
    const host = newHost({ GM_MODELS: 'llama3.2:1b' });
    host.exitCode('ollama-list', 1, 1);
    host.answer('ollama-list', 'Error: could not connect to ollama app\n', 1);
    host.exitCode('pull', 1);
    host.answer('pull', 'Error: pull model manifest: network unreachable\n');

    const result = await host.run('pull-models.sh', { GM_MODEL_PULL_ATTEMPTS: '3', GM_MODEL_RETRY_SECONDS: '4' });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pull-models: waiting for Ollama (attempt 1/60)');
    expect(host.readState('pulled')).toBe('llama3.2:1b\nllama3.2:1b\nllama3.2:1b\n');
    expect(host.sleeps().filter((s) => s === 'sleep 4')).toHaveLength(2);
    expect(result.stderr).toContain('pull-models: FAILED for llama3.2:1b');
  });

  test('rejects a model name that is not one', async () => {
    const host = newHost({ GM_MODELS: 'llama3.2:1b ../../etc' });
    const result = await host.run('pull-models.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'../../etc' in GM_MODELS is not an Ollama model name");
  });
});

describe('qdrant-snapshot.sh (the timer job)', () => {
  test('takes a snapshot on the host holding the fence', async () => {
    const host = newHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.fakeQdrantSnapshots('abc');
    const result = await host.run('qdrant-snapshot.sh');
    expect(result.code).toBe(0);
    expect(fs.readdirSync(fleet.efs.snapshotDir)).toHaveLength(1);
    expect(fleet.efs.lockIsFree()).toBe(false);
  });

  test('does nothing on a host that does not hold the fence', async () => {
    const host = newHost();
    const result = await host.run('qdrant-snapshot.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('skipped, this host does not hold the fence');
    expect(host.calls().filter((c) => c.startsWith('curl '))).toEqual([]);
  });

  test('does nothing when Qdrant is not running', async () => {
    const host = newHost();
    expect((await host.run('start.sh')).code).toBe(0);
    host.answer('ps', 'qdrant exited \n');
    const result = await host.run('qdrant-snapshot.sh');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('skipped, Qdrant is not running');
  });
});

describe('install-services.sh', () => {
  function unit(host: FakeHost, name: string): string {
    return fs.readFileSync(path.join(host.systemdDir, name), 'utf8');
  }

  test('installs the units with this host\'s paths, enables them, starts the stack unit; the model pull is enabled, not started (the bootstrap starts it after its signal)', async () => {
    const host = newHost({ GM_QDRANT_SNAPSHOT_MINUTES: '20', GM_BACKUP_SCHEDULE: '*-*-* 02:30:00' });
    const result = await host.run('install-services.sh');
    expect(result.stderr).toContain('install-services: done');
    expect(result.code).toBe(0);

    const main = unit(host, 'geusemaker.service');
    expect(main).toMatch(new RegExp(`^ExecStart=/\\S*bash ${HOST_SCRIPTS_DIR}/start\\.sh$`, 'm'));
    expect(main).toMatch(new RegExp(`^ExecStop=/\\S*bash ${HOST_SCRIPTS_DIR}/stop\\.sh$`, 'm'));
    expect(main).toMatch(/^Type=oneshot$/m);
    expect(main).toMatch(/^RemainAfterExit=yes$/m);
    expect(main).toMatch(/^After=.*\bdocker\.service\b/m);
    expect(main).not.toMatch(/^Requires=docker\.service/m);
    expect(main).toContain(`RequiresMountsFor=${fleet.efs.dir}\n`);
    expect(main).toContain(`Environment="GM_EFS_MOUNT=${fleet.efs.dir}"\n`);
    expect(main).toContain(`Environment="GM_ENV_FILE=${host.envFile}"\n`);
    expect(main).not.toMatch(/@[A-Z_]+@/);
    expect(unit(host, 'geusemaker-spot-watcher.service')).toContain(`spot-watcher.sh\n`);
    expect(unit(host, 'geusemaker-qdrant-snapshot.service')).toContain('qdrant-snapshot.sh\n');
    const timer = unit(host, 'geusemaker-qdrant-snapshot.timer');
    expect(timer).toMatch(/^OnUnitActiveSec=20min$/m);
    expect(timer).toMatch(/^Unit=geusemaker-qdrant-snapshot\.service$/m);
    expect(unit(host, 'geusemaker-backup.service')).toMatch(new RegExp(`^ExecStart=/\\S*bash ${HOST_SCRIPTS_DIR}/backup\\.sh$`, 'm'));
    const backupTimer = unit(host, 'geusemaker-backup.timer');
    expect(backupTimer).toMatch(/^OnCalendar=\*-\*-\* 02:30:00$/m);
    expect(backupTimer).toMatch(/^Persistent=true$/m);
    expect(backupTimer).toMatch(/^Unit=geusemaker-backup\.service$/m);
    const models = unit(host, 'geusemaker-models.service');
    expect(models).toContain('pull-models.sh\n');
    expect(models).toMatch(/^After=geusemaker\.service$/m);
    // A failed start (also after a reboot) gets the host replaced; the replacing unit is never enabled by itself.
    expect(main).toMatch(/^OnFailure=geusemaker-replace-host\.service$/m);
    expect(unit(host, 'geusemaker-replace-host.service')).toMatch(new RegExp(`^ExecStart=/\\S*bash ${HOST_SCRIPTS_DIR}/mark-unhealthy\\.sh$`, 'm'));
    expect(unit(host, 'geusemaker-replace-host.service')).not.toMatch(/^\[Install\]/m);
    expect(unit(host, 'geusemaker-watchdog.service')).toContain('watchdog.sh\n');
    expect(unit(host, 'geusemaker-watchdog.timer')).toMatch(/^Unit=geusemaker-watchdog\.service$/m);
    // Secrets never go into unit files.
    for (const name of fs.readdirSync(host.systemdDir)) {
      expect(fs.statSync(path.join(host.systemdDir, name)).mode & 0o777).toBe(0o644);
      expect(unit(host, name)).not.toContain('secret');
    }

    const systemctl = host.calls().filter((c) => c.startsWith('systemctl '));
    expect(systemctl).toEqual([
      'systemctl daemon-reload',
      'systemctl disable docker.service docker.socket',
      'systemctl enable geusemaker.service geusemaker-spot-watcher.service geusemaker-qdrant-snapshot.timer geusemaker-backup.timer geusemaker-watchdog.timer geusemaker-models.service',
      'systemctl start geusemaker.service',
      'systemctl start geusemaker-spot-watcher.service geusemaker-qdrant-snapshot.timer geusemaker-backup.timer geusemaker-watchdog.timer',
    ]);
  });

  test('a backup schedule that is no calendar expression is refused in one line (exit 2)', async () => {
    const host = newHost({ GM_BACKUP_SCHEDULE: 'daily\nExecStart=/bin/sh' });
    const result = await host.run('install-services.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('setting GM_BACKUP_SCHEDULE must be a systemd calendar expression');
    expect(fs.existsSync(host.systemdDir) ? fs.readdirSync(host.systemdDir) : []).toEqual([]);
  });

  test('fails naming the systemctl step that failed', async () => {
    const host = newHost();
    host.exitCode('systemctl', 1, 4);
    host.answer('systemctl', 'Job for geusemaker.service failed.\n', 4);
    const result = await host.run('install-services.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("install-services: FAILED at 'systemctl start geusemaker.service'");
    expect(result.stderr).toContain('systemctl: Job for geusemaker.service failed.');
  });

  test('refuses a path systemd would not take literally', async () => {
    const host = newHost();
    const result = await host.run('install-services.sh', { GM_LOG_DIR: path.join(host.root, 'log dir') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GM_LOG_DIR=');
    expect(fs.existsSync(host.systemdDir)).toBe(false);
  });
});

describe('mark-unhealthy.sh (OnFailure of geusemaker.service)', () => {
  function hostWithInstance(settings: Record<string, string> = { GM_REGION: 'eu-west-1' }): FakeHost {
    return newHost(settings); // the fake host's instance id is i-0a
  }

  test('marks this instance Unhealthy in its region, ignoring the grace period', async () => {
    const host = hostWithInstance();
    const result = await host.run('mark-unhealthy.sh');
    expect(result.code).toBe(0);
    expect(host.calls().filter((c) => c.startsWith('aws '))).toEqual([
      'aws autoscaling set-instance-health --region eu-west-1 --instance-id i-0a --health-status Unhealthy --no-should-respect-grace-period',
    ]);
    expect(result.stderr).toContain('marked Unhealthy');
  });

  test('a refused call fails with the reason on one line', async () => {
    const host = hostWithInstance();
    host.answer('aws', 'An error occurred (AccessDenied) when calling the SetInstanceHealth operation\n');
    host.exitCode('aws', 254);
    const result = await host.run('mark-unhealthy.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('set-instance-health failed for i-0a: An error occurred (AccessDenied)');
  });

  test('without a region it names the missing setting (exit 2) and calls nothing', async () => {
    const host = hostWithInstance({});
    const result = await host.run('mark-unhealthy.sh');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('GM_REGION is not set');
    expect(host.calls().some((c) => c.startsWith('aws '))).toBe(false);
  });
});
