/**
 * Unclean reboot: nothing may start before EFS is mounted and the fence is held. Docker is not enabled at
 * boot (dockerd restarts "unless-stopped" containers at daemon start), geusemaker.service waits for the
 * mount, and start.sh starts Docker itself only once it holds the fence.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FakeFleet, FakeHost } from './helpers/fake-host';

const fleet = new FakeFleet();

/** Replaces the host's systemctl stub by one that also records whether the EFS lock was free at each call. */
function recordLockAtSystemctl(host: FakeHost): string {
  const record = path.join(host.root, 'lock-at-systemctl.log');
  fs.writeFileSync(
    path.join(host.bin, 'systemctl'),
    `#!/usr/bin/env bash
source "$(dirname "$0")/_stub_common.sh"
record "systemctl $*"
if flock --nonblock '${fleet.efs.lockFile}' true 2>/dev/null; then state=free; else state=held; fi
printf '%s %s\\n' "$*" "$state" >>'${record}'
answer systemctl
`,
    { mode: 0o755 },
  );
  return record;
}

describe('start.sh', () => {
  test('starts Docker only after the mount check and while holding the fence, before any compose call that needs it', async () => {
    const host = fleet.host('a');
    const record = recordLockAtSystemctl(host);

    expect((await host.run('start.sh')).code).toBe(0);

    expect(fs.readFileSync(record, 'utf8')).toBe('start docker.service held\n');
    const calls = host.calls();
    const mount = calls.findIndex((c) => c.startsWith('mountpoint '));
    const docker = calls.indexOf('systemctl start docker.service');
    const firstUp = calls.findIndex((c) => / up /.test(c));
    expect(mount).toBeGreaterThan(-1);
    expect(docker).toBeGreaterThan(mount);
    expect(firstUp).toBeGreaterThan(docker);
    // Nothing but the client-only version check runs before Docker is started.
    expect(calls.slice(0, docker).filter((c) => c.startsWith('docker ') && !/compose version$/.test(c))).toEqual([]);
  });

  test('never starts Docker without the fence', async () => {
    const a = fleet.host('a');
    const b = fleet.host('b');
    expect((await a.run('start.sh')).code).toBe(0);
    const rb = await b.run('start.sh', { GM_FENCE_ATTEMPTS: '2' });
    expect(rb.code).toBe(3);
    expect(b.calls().filter((c) => c.startsWith('systemctl '))).toEqual([]);
  });

  test('never starts Docker when EFS is not mounted', async () => {
    const host = fleet.host('a');
    host.exitCode('mountpoint', 1);
    expect((await host.run('start.sh')).code).toBe(2);
    expect(host.calls().filter((c) => c.startsWith('systemctl '))).toEqual([]);
  });

  test('a Docker that does not start fails the start and releases the fence', async () => {
    const host = fleet.host('a');
    host.exitCode('systemctl', 1);
    host.answer('systemctl', 'Job for docker.service failed.\n');
    const result = await host.run('start.sh');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('start: systemctl start docker.service failed');
    expect(host.composeSubcommands()).not.toContain('up');
    expect(fleet.efs.lockIsFree()).toBe(true);
  });
});

describe('install-services.sh and the units', () => {
  function unitLines(host: FakeHost, name: string, key: string): string[] {
    return fs
      .readFileSync(path.join(host.systemdDir, name), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${key}=`))
      .flatMap((l) => l.slice(key.length + 1).split(/\s+/));
  }

  test('Docker (service and socket activation) is disabled at boot, before the stack unit is enabled', async () => {
    const host = fleet.host('a');
    expect((await host.run('install-services.sh')).code).toBe(0);
    const systemctl = host.calls().filter((c) => c.startsWith('systemctl '));
    const disable = systemctl.indexOf('systemctl disable docker.service docker.socket');
    expect(disable).toBeGreaterThan(-1);
    expect(disable).toBeLessThan(systemctl.findIndex((c) => c.startsWith('systemctl enable ')));
    expect(systemctl.filter((c) => c.startsWith('systemctl enable ')).join(' ')).not.toMatch(/docker/);
  });

  test('geusemaker.service waits for the EFS mount and the network, and neither requires nor pulls in Docker', async () => {
    const host = fleet.host('a');
    expect((await host.run('install-services.sh')).code).toBe(0);
    const unit = 'geusemaker.service';
    expect(unitLines(host, unit, 'RequiresMountsFor')).toEqual([fleet.efs.dir]);
    expect(unitLines(host, unit, 'After')).toEqual(expect.arrayContaining(['network-online.target', 'remote-fs.target']));
    // Ordered after docker.service only so that it stops before Docker at shutdown.
    expect(unitLines(host, unit, 'After')).toContain('docker.service');
    for (const key of ['Requires', 'Wants', 'BindsTo', 'Requisite']) {
      expect(`${key}=${unitLines(host, unit, key).join(' ')}`).not.toMatch(/docker/);
    }
  });
});
