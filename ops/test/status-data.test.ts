/**
 * `gm-ops status` shows the newest backup set's age and the host's disk use (read in the same SSM command as
 * the containers) and needs attention (exit 1, a line under Problems) past their thresholds. The fake clock
 * is 2025-01-15T12:00:00Z.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dataHealthScript, parseDataHealth } from '../src/status/data-health';
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-0abc' } });
});
afterEach(() => aws.restore());

function host(dataLines: (marker: string) => string[]): void {
  aws.hosts.set('i-0abc', (script) => {
    const token = tokenOf(script);
    return `${containerLines(token, ALL_RUNNING)}\n${dataLines(`@@gm-ops:${token}`).join('\n')}\n`;
  });
}

it('a fresh backup and room on the disk: shown under About, exit 0, in the one SSM command', async () => {
  host((m) => [`${m} backup 20250115T030000Z 2025-01-15T03:04:00Z`, `${m} disk / 41`]);
  const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
  expect(code).toBe(0);
  expect(stdout).toMatch(/Newest backup\s+20250115T030000Z  \S/);
  expect(stdout).toMatch(/Disk use\s+\/ 41%/);
  expect(stdout).not.toContain('Problems');
  expect(aws.scripts).toHaveLength(1);
});

it('a newest backup older than 48 h needs attention', async () => {
  host((m) => [`${m} backup 20250112T030000Z 2025-01-12T03:04:00Z`, `${m} disk / 41`]);
  const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
  expect(code).toBe(1);
  expect(stdout).toContain('the newest backup set 20250112T030000Z is 80 h old (more than 48 h): is geusemaker-backup.timer running?');
});

it('no backup set at all needs attention', async () => {
  host((m) => [`${m} backup none`, `${m} disk / 12`]);
  const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack', '--json');
  expect(code).toBe(1);
  expect(JSON.parse(stdout).dataWarnings).toEqual(['no backup set on the file system yet: take one with `gm-ops backup <name>`']);
});

it('a disk at 80% is a warning, at 90% critical', async () => {
  host((m) => [`${m} backup 20250115T030000Z 2025-01-15T03:04:00Z`, `${m} disk / 83`, `${m} disk /var/lib/docker 93`]);
  const { code, stdout } = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
  expect(code).toBe(1);
  expect(stdout).toContain("the host's disk / is 83% full (warning from 80%)");
  expect(stdout).toContain("the host's disk /var/lib/docker is 93% full (critical from 90%)");
});

it('the host script reads the newest manifest and df for real', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-data-'));
  try {
    for (const [name, created] of [['20250114T030000Z', '2025-01-14T03:01:00Z'], ['20250115T030000Z-pre-upgrade-a-b', '2025-01-15T03:01:00Z']]) {
      fs.mkdirSync(path.join(root, 'backups', name), { recursive: true });
      fs.writeFileSync(path.join(root, 'backups', name, 'manifest.json'), `{"format":1,"name":"${name}","tag":"","created":"${created}","files":[]}\n`);
    }
    const script = dataHealthScript('abc123def').replace(/\/mnt\/efs/g, root);
    const stdout = execFileSync('sh', ['-c', script]).toString();
    const health = parseDataHealth(stdout, 'abc123def')!;
    expect(health.newestBackup).toEqual({ name: '20250115T030000Z-pre-upgrade-a-b', created: '2025-01-15T03:01:00Z' });
    expect(health.disks.find((d) => d.mount === '/')?.usedPercent).toEqual(expect.any(Number));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
