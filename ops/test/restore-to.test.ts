/**
 * gm-ops restore <name> --to <set|time> through the entry point, the AWS SDK mocked, the host answering like
 * docker/host/restore-backup.sh (exit code, ERROR lines, the functional check's FAIL lines).
 */
import { FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-0abc' } });
});
afterEach(() => aws.restore());

const SETS = [
  { name: '20261127T030000Z', created: '2026-11-27T03:05:00Z' },
  { name: '20261128T030000Z', created: '2026-11-28T03:05:00Z' },
  { name: '20261129T030000Z', created: '2026-11-29T03:05:00Z' },
];

function manifest(name: string, created: string): string {
  return JSON.stringify({ format: 1, name, tag: '', created, runtimeVersion: '2026.11.1', files: [{ name: 'postgres.dump', bytes: 100, sha256: 'b'.repeat(64) }] });
}

/** The host: lists SETS; restore-backup.sh exits `exit` with `lines` of output. */
function host(exit = 0, lines: string[] = []): void {
  aws.hosts.set('i-0abc', (script) => {
    const marker = `@@gm-ops:${tokenOf(script)}`;
    if (script.includes('restore-backup.sh')) return `${marker} exit ${exit}\n${lines.map((l) => `${marker} error ${l}`).join('\n')}\n`;
    return `${SETS.map((s) => `${marker} set ${manifest(s.name, s.created)}`).join('\n')}\n${marker} listed\n`;
  });
}

const restoreScripts = (): string[] => aws.scripts.map((s) => s.script).filter((s) => s.includes('restore-backup.sh'));

it('prints the plan and, without --yes or a terminal, does nothing (exit 1)', async () => {
  host();
  const { code, stdout } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', '20261128T030000Z');
  expect(code).toBe(1);
  expect(stdout).toContain('Restore my-stack to backup set 20261128T030000Z');
  expect(stdout).toMatch(/1\. check every file of 20261128T030000Z against its manifest/);
  expect(stdout).toMatch(/5\. start the stack and run the functional check/);
  expect(stdout).toContain('Nothing done: run again with --yes to restore.');
  expect(restoreScripts()).toEqual([]);
});

it('--to a time picks the newest set made at or before it, and --yes restores it through the host script', async () => {
  host(0);
  const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', '2026-11-28T23:00:00Z', '--yes');
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout).toContain('Restore my-stack to backup set 20261128T030000Z');
  expect(stdout).toMatch(/Restored my-stack to 20261128T030000Z in \d+ s; the functional check passed\./);
  expect(restoreScripts()).toHaveLength(1);
  expect(restoreScripts()[0]).toContain("bash /opt/geusemaker/host/restore-backup.sh '20261128T030000Z'");
});

it('a set that fails its checksums on the host: one line with the host\'s reason, exit 1', async () => {
  host(2, ['2026-11-29T12:00:00Z geusemaker[restore-backup] ERROR restore: backup set 20261129T030000Z is damaged: postgres.dump does not match its sha256 in manifest.json; nothing was touched']);
  const { code, stderr } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', '20261129T030000Z', '--yes');
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toContain('the restore of my-stack to 20261129T030000Z failed: restore: backup set 20261129T030000Z is damaged: postgres.dump does not match its sha256 in manifest.json; nothing was touched');
});

it('a failing functional check after the restore fails it, naming what failed', async () => {
  host(1, ['n8n FAIL owner login refused (401)', '2026-11-29T12:00:00Z geusemaker[restore-backup] ERROR restore: the functional check failed after restoring 20261129T030000Z']);
  const { code, stderr } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', '20261129T030000Z', '--yes');
  expect(code).toBe(1);
  expect(stderr).toContain('failed: n8n FAIL owner login refused (401); restore: the functional check failed after restoring 20261129T030000Z');
});

it('no backup set at all: one line, nothing run', async () => {
  aws.hosts.set('i-0abc', (script) => `@@gm-ops:${tokenOf(script)} listed\n`);
  const { code, stderr } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', '2026-11-29T00:00:00Z', '--yes');
  expect(code).toBe(1);
  expect(stderr).toContain('my-stack has no backup sets to restore');
  expect(restoreScripts()).toEqual([]);
});

it('a time before the oldest set: one line naming the oldest', async () => {
  host();
  const { code, stderr } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', '2026-11-01T00:00:00Z', '--yes');
  expect(code).toBe(1);
  expect(stderr).toContain('my-stack has no backup set made at or before 2026-11-01T00:00:00.000Z (the oldest is 20261127T030000Z)');
});

it('--to that is neither a set nor a time is a usage error (exit 2)', async () => {
  host();
  const { code, stderr } = await runWith({ clients: aws.clients() }, 'restore', 'my-stack', '--to', 'yesterday');
  expect(code).toBe(2);
  expect(stderr).toContain('--to must be a backup set name (e.g. 20261129T030000Z) or a time (e.g. 2026-11-29T12:00:00Z), got "yesterday"');
  expect(aws.scripts).toEqual([]);
});
