/**
 * The host side of `gm-ops migrate`, run for real under sh and bash: the scripts as gm-ops sends them, with the
 * runtime's host directory pointed at a stub library (the gm_* functions the scripts call, recording what they
 * were asked) and `docker`, `aws`, `systemctl` as stubs on PATH. Asserts the marker lines gm-ops reads, the
 * order of the steps, the failure paths and that the database password never reaches a command line.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backupFromRdsScript, freezeAndBackupScript, haltScript, parseStep, restoreToRdsScript, resumeScript } from '../src/scale/migrate/scripts';

const TOKEN = 'tok123456';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geusemaker/big/database-AbCdEf';
const RDS = { secretArn: SECRET, endpoint: 'db.abc.eu-west-1.rds.amazonaws.com:5432', database: 'n8n' };
const SET = '20250115T120000Z-migrate-to-scale';
const PASSWORD = 's3cr3t p@ss';

let dir: string;
let calls: string;

const LIB = String.raw`
GM_EFS_MOUNT=$T/efs GM_BACKUP_DIR=$T/efs/backups GM_RUNTIME_DIR=$T/runtime GM_RUN_DIR=$T/run GM_STOP_TIMEOUT=30
GM_RDS_CA_URL=https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem
gm_log() { local level=$1; shift; printf '2025-01-15T12:00:00Z geusemaker[%s] %s %s\n' "$GM_SCRIPT" "$level" "$*" >&2; }
gm_info() { gm_log INFO "$@"; }
gm_error() { gm_log ERROR "$@"; }
gm_die() { local code=$1; shift; gm_error "$@"; exit "$code"; }
gm_log_lines() { local l; while IFS= read -r l; do gm_log "$1" "$2 $l"; done; }
gm_init() { echo "init $1" >>"$CALLS"; }
gm_validate_settings() { :; }
gm_require_secrets() { :; }
gm_export_compose_env() { :; }
gm_compose() { echo "compose $*" >>"$CALLS"; }
# The real one (docker/host/lib.sh) is run against a fake truststore in test/runtime/ai-services.test.ts.
gm_fetch_rds_ca() {
  echo "fetch-rds-ca $1" >>"$CALLS"
  [[ -z "\${CA_FAIL:-}" ]] || { echo 'curl: (6) Could not resolve host: truststore.pki.rds.amazonaws.com'; return 1; }
  mkdir -p "\${1%/*}" && echo '-----BEGIN CERTIFICATE-----' >"$1"
}
gm_fence_holder_pid() { [[ -n "\${FENCE_HELD:-}" ]] && echo 4242; }
`.replace(/\\\$/g, '$');

const BACKUP_LIB = String.raw`
gm_backup_verify() { [[ -z "\${SET_DAMAGED:-}" ]] || { printf 'postgres.dump does not match its sha256 in manifest.json'; return 1; }; }
gm_restore_place_qdrant() { echo "place-qdrant $1" >>"$CALLS"; }
gm_backup_dump_postgres() { echo local >"$1"; }
gm_backup_take() { mkdir -p "$GM_BACKUP_DIR"; gm_backup_dump_postgres "$GM_BACKUP_DIR/postgres.dump" || return 1; echo "take $1" >>"$CALLS"; echo "20250115T120000Z-$1"; }
`.replace(/\\\$/g, '$');

const STUBS: Record<string, string> = {
  // docker run ... IMAGE pg_dump|pg_restore|psql ...: records argv and whether the password came by environment.
  docker: String.raw`#!/usr/bin/env bash
printf 'docker %s | PGPASSWORD=%s\n' "$*" "\${PGPASSWORD:+set}" >>"$CALLS"
printf 'PGSSLMODE=%s PGSSLROOTCERT=%s\n' "\${PGSSLMODE:-}" "\${PGSSLROOTCERT:-}" >>"$T/pg-tls"
case " $* " in
  *" pg_dump "*) [[ -z "\${DUMP_FAIL:-}" ]] || { echo 'pg_dump: error: connection to server failed: SSL SYSCALL error' >&2; exit 1; }; echo DUMPDATA ;;
  *" pg_restore "*) cat >/dev/null; [[ -z "\${RESTORE_FAIL:-}" ]] || { echo 'pg_restore: error: permission denied for database n8n' >&2; exit 1; } ;;
esac
exit 0
`,
  aws: String.raw`#!/usr/bin/env bash
printf 'aws %s\n' "$*" >>"$CALLS"
printf '{"username":"n8nadmin","password":"%s","host":"db","port":5432,"dbname":"n8n","engine":"postgres"}\n' "$DB_PASSWORD"
`,
  systemctl: String.raw`#!/usr/bin/env bash
printf 'systemctl %s\n' "$*" >>"$CALLS"
`,
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-migrate-host-'));
  calls = path.join(dir, 'calls');
  fs.mkdirSync(path.join(dir, 'host'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.mkdirSync(path.join(dir, 'runtime'));
  fs.mkdirSync(path.join(dir, 'efs', 'backups', SET), { recursive: true });
  fs.writeFileSync(path.join(dir, 'efs', 'backups', SET, 'manifest.json'), '{}');
  fs.writeFileSync(path.join(dir, 'efs', 'backups', SET, 'postgres.dump'), 'DUMP');
  fs.writeFileSync(path.join(dir, 'runtime', 'versions.env'), 'GM_RUNTIME_VERSION=2026.11.1\nGM_POSTGRES_IMAGE=postgres:17.9-alpine\n');
  fs.writeFileSync(path.join(dir, 'host', 'lib.sh'), LIB);
  fs.writeFileSync(path.join(dir, 'host', 'backup-lib.sh'), BACKUP_LIB);
  // Records whether the credential import is required (migrate must fail when it fails).
  fs.writeFileSync(path.join(dir, 'host', 'start.sh'), 'echo "start.sh${GM_CREDENTIALS_REQUIRED:+ credentials required}" >>"$CALLS"\n');
  for (const [name, body] of Object.entries(STUBS)) fs.writeFileSync(path.join(dir, 'bin', name), body.replace(/\\\$/g, '$'), { mode: 0o755 });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(script: string, env: Record<string, string> = {}, shell = 'sh'): { stdout: string; calls: string[] } {
  const body = script.split('/opt/geusemaker/host').join(path.join(dir, 'host')).split('/run/geusemaker/fence.pid').join(path.join(dir, 'fence.pid'));
  const stdout = execFileSync(shell, ['-c', body], {
    encoding: 'utf8',
    env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, HOME: dir, T: dir, CALLS: calls, DB_PASSWORD: PASSWORD, ...env },
  });
  return { stdout, calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [] };
}

describe('restore into RDS (on the AI host)', () => {
  it('restores into a new database in one transaction, swaps it in, places the Qdrant snapshot; the password only in the environment', () => {
    fs.writeFileSync(path.join(dir, 'efs', 'backups', SET, 'qdrant.snapshot'), 'Q');
    for (const shell of ['sh', 'bash']) {
      fs.rmSync(calls, { force: true });
      const { stdout, calls: done } = run(restoreToRdsScript(SET, RDS)(TOKEN), {}, shell);
      expect(parseStep(stdout, TOKEN)).toEqual({ exitCode: 0, notes: ['restored'], errors: [] });
      const docker = done.filter((c) => c.startsWith('docker '));
      expect(docker).toHaveLength(3);
      expect(docker[0]).toMatch(/psql .* -c DROP DATABASE IF EXISTS "n8n_restore"; -c CREATE DATABASE "n8n_restore"; \| PGPASSWORD=set$/);
      expect(docker[1]).toMatch(/^docker run --rm -i --network host -v \S+\/run\/rds-ca-bundle\.pem:\/rds-ca\/rds-ca-bundle\.pem:ro -e PGUSER -e PGPASSWORD -e PGHOST -e PGPORT -e PGSSLMODE -e PGSSLROOTCERT postgres:17\.9-alpine pg_restore --dbname=n8n_restore --no-owner --no-privileges --single-transaction --exit-on-error \| PGPASSWORD=set$/);
      // Both renames in one transaction: a failure between them never leaves RDS without "n8n".
      expect(docker[2]).toMatch(/-c BEGIN; ALTER DATABASE "n8n" RENAME TO "n8n_replaced"; ALTER DATABASE "n8n_restore" RENAME TO "n8n"; COMMIT; -c DROP DATABASE "n8n_replaced" WITH \(FORCE\);/);
      expect(done.join('\n')).not.toContain(PASSWORD);
      expect(done).toContain(`aws secretsmanager get-secret-value --region eu-west-1 --secret-id ${SECRET} --query SecretString --output text`);
      expect(done.slice(-3)).toEqual(['compose stop --timeout 30 qdrant', `place-qdrant ${dir}/efs/backups/${SET}`, 'start.sh credentials required']);
    }
  });

  it('verifies the database\'s certificate and name (libpq verify-full) with the region\'s RDS bundle, mounted read-only', () => {
    const { stdout, calls: done } = run(restoreToRdsScript(SET, RDS)(TOKEN), {});
    expect(parseStep(stdout, TOKEN).exitCode).toBe(0);
    expect(done).toContain(`fetch-rds-ca ${dir}/run/rds-ca-bundle.pem`);
    const tls = fs.readFileSync(path.join(dir, 'pg-tls'), 'utf8').trim().split('\n');
    expect(new Set(tls)).toEqual(new Set(['PGSSLMODE=verify-full PGSSLROOTCERT=/rds-ca/rds-ca-bundle.pem']));
    for (const call of done.filter((c) => c.startsWith('docker run '))) expect(call).toContain(`-v ${dir}/run/rds-ca-bundle.pem:/rds-ca/rds-ca-bundle.pem:ro `);
  });

  it('no RDS certificate bundle: exit 1 naming the URL and the reason, nothing sent to the database', () => {
    const { stdout, calls: done } = run(restoreToRdsScript(SET, RDS)(TOKEN), { CA_FAIL: '1' });
    expect(parseStep(stdout, TOKEN)).toMatchObject({
      exitCode: 1,
      errors: [expect.stringContaining('migrate: cannot fetch the RDS certificate bundle https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem: curl: (6) Could not resolve host')],
    });
    expect(done.filter((c) => c.startsWith('docker '))).toEqual([]);
  });

  it('pg_restore fails: exit 1 with its error; the restore database is dropped and nothing swapped', () => {
    const { stdout, calls: done } = run(restoreToRdsScript(SET, RDS)(TOKEN), { RESTORE_FAIL: '1' });
    const step = parseStep(stdout, TOKEN);
    expect(step.exitCode).toBe(1);
    expect(step.errors).toEqual(['migrate: pg_restore into RDS failed: pg_restore: error: permission denied for database n8n']);
    const docker = done.filter((c) => c.startsWith('docker '));
    expect(docker[docker.length - 1]).toMatch(/-c DROP DATABASE IF EXISTS "n8n_restore"; \|/);
    expect(done.join('\n')).not.toMatch(/RENAME/);
  });

  it('a set without Qdrant data: Qdrant is left alone, start.sh still runs (it upserts the pre-wired credentials)', () => {
    const { stdout, calls: done } = run(restoreToRdsScript(SET, RDS)(TOKEN));
    expect(parseStep(stdout, TOKEN).exitCode).toBe(0);
    expect(done.filter((c) => !c.startsWith('docker ') && !c.startsWith('aws '))).toEqual(['init migrate-restore', `fetch-rds-ca ${dir}/run/rds-ca-bundle.pem`, 'start.sh credentials required']);
  });

  it('a damaged set: exit 2 before anything touches the database', () => {
    const { stdout, calls: done } = run(restoreToRdsScript(SET, RDS)(TOKEN), { SET_DAMAGED: '1' });
    expect(parseStep(stdout, TOKEN)).toMatchObject({ exitCode: 2, errors: [`migrate: backup set ${SET} is damaged: postgres.dump does not match its sha256 in manifest.json`] });
    expect(done.filter((c) => c.startsWith('docker ') || c.startsWith('aws '))).toEqual([]);
  });
});

describe('backup from RDS (on the AI host)', () => {
  it('a set whose dump comes from RDS; the old single-host database directory moved aside', () => {
    fs.mkdirSync(path.join(dir, 'efs', 'postgres', 'pgdata'), { recursive: true });
    const { stdout, calls: done } = run(backupFromRdsScript('dev', RDS)(TOKEN), { FENCE_HELD: '1' });
    const step = parseStep(stdout, TOKEN);
    expect(step).toEqual({ exitCode: 0, set: '20250115T120000Z-migrate-to-dev', notes: [`moved ${dir}/efs/postgres.before-20250115T120000Z-migrate-to-dev`], errors: [] });
    expect(fs.readFileSync(path.join(dir, 'efs', 'backups', 'postgres.dump'), 'utf8')).toBe('DUMPDATA\n');
    expect(fs.existsSync(path.join(dir, 'efs', 'postgres.before-20250115T120000Z-migrate-to-dev', 'pgdata'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'efs', 'postgres'))).toBe(false);
    expect(done.find((c) => c.includes('pg_dump'))).toMatch(/pg_dump --dbname=n8n --format=custom \| PGPASSWORD=set$/);
    expect(done.join('\n')).not.toContain(PASSWORD);
  });

  it('pg_dump fails: exit 1, no set, the old directory untouched', () => {
    fs.mkdirSync(path.join(dir, 'efs', 'postgres', 'pgdata'), { recursive: true });
    const { stdout } = run(backupFromRdsScript('dev', RDS)(TOKEN), { FENCE_HELD: '1', DUMP_FAIL: '1' });
    const step = parseStep(stdout, TOKEN);
    expect(step.exitCode).toBe(1);
    expect(step.set).toBeUndefined();
    expect(step.errors[0]).toBe('backup: pg_dump from RDS failed: pg_dump: error: connection to server failed: SSL SYSCALL error');
    expect(fs.existsSync(path.join(dir, 'efs', 'postgres', 'pgdata'))).toBe(true);
  });

  it('an AI host that does not hold the fence writes no set', () => {
    const step = parseStep(run(backupFromRdsScript('dev', RDS)(TOKEN)).stdout, TOKEN);
    expect(step).toMatchObject({ exitCode: 1, errors: ['migrate: the AI host does not hold the single-writer fence'] });
  });
});

describe('the single host', () => {
  beforeEach(() => fs.writeFileSync(path.join(dir, 'host', 'backup.sh'), 'echo "backup.sh $*" >>"$CALLS"\necho "20250115T120000Z-${2}"\n'));

  it('freeze and backup: timers stopped, n8n stopped, then backup.sh --tag migrate-to-scale', () => {
    const { stdout, calls: done } = run(freezeAndBackupScript('scale')(TOKEN), { FENCE_HELD: '1' });
    expect(parseStep(stdout, TOKEN)).toEqual({ exitCode: 0, set: SET, notes: [], errors: [] });
    expect(done).toEqual([
      'systemctl stop geusemaker-watchdog.timer geusemaker-backup.timer geusemaker-qdrant-snapshot.timer',
      'systemctl mask --runtime geusemaker-replace-host.service',
      'init migrate-backup',
      'compose stop --timeout 30 n8n',
      'backup.sh --tag migrate-to-scale',
    ]);
  });

  it('a host without the fence: exit 1 before n8n is touched', () => {
    const { stdout, calls: done } = run(freezeAndBackupScript('scale')(TOKEN));
    expect(parseStep(stdout, TOKEN).errors).toEqual(['migrate: this host does not hold the single-writer fence; nothing to back up here']);
    expect(done).not.toContain('compose stop --timeout 30 n8n');
  });

  it('halt: the stack stopped through its unit; the fence state read back', () => {
    let out = run(haltScript(TOKEN));
    expect(parseStep(out.stdout, TOKEN)).toMatchObject({ exitCode: 0, fence: 'released' });
    expect(out.calls).toEqual([
      'systemctl stop geusemaker-watchdog.timer geusemaker-backup.timer geusemaker-qdrant-snapshot.timer',
      'systemctl mask --runtime geusemaker-replace-host.service',
      'systemctl stop geusemaker.service',
    ]);
    fs.writeFileSync(path.join(dir, 'fence.pid'), String(process.pid));
    out = run(haltScript(TOKEN));
    expect(parseStep(out.stdout, TOKEN).fence).toBe('held');
  });

  it('resume: the stack restarted, then its timers', () => {
    const { stdout, calls: done } = run(resumeScript(TOKEN));
    expect(parseStep(stdout, TOKEN).exitCode).toBe(0);
    expect(done).toEqual([
      'systemctl unmask --runtime geusemaker-replace-host.service',
      'systemctl restart geusemaker.service',
      'systemctl start geusemaker-watchdog.timer geusemaker-backup.timer geusemaker-qdrant-snapshot.timer',
    ]);
  });
});

describe('shellcheck', () => {
  const shellcheck = (() => {
    try {
      execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const scripts: Record<string, string> = {
    freeze: freezeAndBackupScript('scale')(TOKEN),
    halt: haltScript(TOKEN),
    resume: resumeScript(TOKEN),
    restoreToRds: restoreToRdsScript(SET, RDS)(TOKEN),
    backupFromRds: backupFromRdsScript('dev', RDS)(TOKEN),
  };
  const check = (shell: 'sh' | 'bash', text: string, exclude: string) =>
    execFileSync('shellcheck', ['-s', shell, '-e', exclude, '-'], { input: `#!/bin/${shell}\n${text}\n`, encoding: 'utf8' });

  (shellcheck ? it.each(Object.keys(scripts)) : it.skip.each(Object.keys(scripts)))('%s: the sh wrapper and its bash body pass shellcheck', (name) => {
    const script = scripts[name];
    // SC1003: the body is single-quoted for `bash -c` ('\'' inside it is intended).
    expect(check('sh', script, 'SC1003')).toBe('');
    const body = /bash -c '((?:[^']|'\\'')*)' 2>/.exec(script)![1].split(`'\\''`).join(`'`);
    // SC1091: the runtime's library is sourced from the host's path.
    expect(check('bash', body, 'SC1091')).toBe('');
  });
});
