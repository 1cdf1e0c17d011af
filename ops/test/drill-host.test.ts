/**
 * The scripts gm-ops drill runs on the drill host, run for real under dash and bash: the newest set of the
 * restored copy (AWS Backup puts an EFS restore under aws-backup-restore_<time>/ off the root) is moved into the
 * backups directory and handed to restore-backup.sh (a stub here); the functional check runs like `health --deep`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseSets } from '../src/backup/host-scripts';
import { functionalScript, placeAndRestoreScript } from '../src/drill/act';
import { parseFunctionCheck } from '../src/health/function-check';
import { StubHost } from './helpers/stub-host';

const TOKEN = 'tokdrill01';
const M = `@@gm-ops:${TOKEN}`;

let root: string;
let efs: string;
let runtime: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-drill-host-'));
  efs = path.join(root, 'efs');
  runtime = path.join(root, 'runtime');
  fs.mkdirSync(path.join(runtime, 'host'), { recursive: true });
  // restore-backup.sh stand-in: records its argument and the set it finds, answers like the real one.
  fs.writeFileSync(
    path.join(runtime, 'host', 'restore-backup.sh'),
    [
      'echo "$1" > "$(dirname "$0")/called"',
      `[ -f "${efs}/backups/$1/manifest.json" ] || { echo "x geusemaker[restore-backup] ERROR restore: no backup set '$1'"; exit 2; }`,
      'if [ -n "$FAIL" ]; then echo "2026-11-29T12:00:00Z geusemaker[restore-backup] ERROR $FAIL"; echo "n8n FAIL owner login refused (401)"; exit 1; fi',
      'echo "2026-11-29T12:00:00Z geusemaker[restore-backup] INFO restore: $1 restored and the functional check passed"',
    ].join('\n'),
  );
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function addSet(dir: string, name: string): void {
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, name, 'manifest.json'), `${JSON.stringify({ format: 1, name, tag: '', created: `${name.slice(0, 4)}-${name.slice(4, 6)}-${name.slice(6, 8)}T03:05:00Z`, runtimeVersion: '2026.11.1', files: [{ name: 'postgres.dump', bytes: 5, sha256: 'd'.repeat(64) }] }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, name, 'postgres.dump'), 'dump\n');
}

function run(shell: string, env: Record<string, string> = {}): string {
  const script = placeAndRestoreScript(TOKEN).split('/mnt/efs').join(efs).split('/opt/geusemaker').join(runtime);
  return execFileSync(shell, ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe.each(['sh', 'bash'])('under %s', (shell) => {
  it('moves the newest set of the restored copy into the backups directory and restores it', () => {
    const copy = path.join(efs, 'aws-backup-restore_2026-11-29T12-00-00-000Z', 'backups');
    addSet(copy, '20261127T030000Z');
    addSet(copy, '20261128T030000Z');
    fs.mkdirSync(path.join(copy, '.tmp-20261129T030000Z')); // a set being written when EFS was backed up
    const out = run(shell);
    expect(parseSets(out, TOKEN).sets.map((s) => s.name)).toEqual(['20261128T030000Z']);
    expect(out).toContain(`${M} exit 0\n`);
    expect(fs.readFileSync(path.join(runtime, 'host', 'called'), 'utf8').trim()).toBe('20261128T030000Z');
    expect(fs.existsSync(path.join(efs, 'backups', '20261128T030000Z', 'postgres.dump'))).toBe(true);
    expect(fs.existsSync(path.join(copy, '20261127T030000Z'))).toBe(true);
    expect((fs.statSync(path.join(efs, 'backups')).mode & 0o777).toString(8)).toBe('700');
  });

  it("passes on restore-backup.sh's failure: its exit code and its ERROR and FAIL lines", () => {
    addSet(path.join(efs, 'aws-backup-restore_2026-11-29T12-00-00-000Z', 'backups'), '20261128T030000Z');
    const out = run(shell, { FAIL: 'restore: the functional check failed after restoring 20261128T030000Z' });
    expect(out).toContain(`${M} exit 1\n`);
    expect(out).toContain(`${M} error 2026-11-29T12:00:00Z geusemaker[restore-backup] ERROR restore: the functional check failed after restoring 20261128T030000Z`);
    expect(out).toContain(`${M} error n8n FAIL owner login refused (401)`);
  });

  it('says so when the copy holds no backups directory, or no set in it', () => {
    expect(run(shell)).toBe(`${M} no-copy\n`);
    fs.mkdirSync(path.join(efs, 'aws-backup-restore_2026-11-29T12-00-00-000Z', 'backups'), { recursive: true });
    expect(run(shell)).toBe(`${M} no-set ${efs}/aws-backup-restore_2026-11-29T12-00-00-000Z/backups\n`);
    expect(fs.existsSync(path.join(runtime, 'host', 'called'))).toBe(false);
  });
});

it('the functional check script gives one result per service, as health --deep reads it', () => {
  const host = new StubHost({ functional: { fail: { qdrant: 'vector not found after upsert' } } });
  try {
    const results = parseFunctionCheck(host.runOnHost(functionalScript(TOKEN)), TOKEN);
    expect(results.get('n8n')?.state).toBe('ok');
    expect(results.get('qdrant')).toMatchObject({ state: 'fail', detail: 'vector not found after upsert' });
    expect([...results.keys()]).toEqual(['n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai']);
  } finally {
    host.cleanup();
  }
});
