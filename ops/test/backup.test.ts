/**
 * gm-ops backup and backups through the entry point, the AWS SDK mocked, the host answering the scripts in
 * the shapes the host's backup script writes (docker/host/backup-lib.sh: manifest.json; backup.sh: the set's
 * name on stdout, one ERROR line on failure).
 */
import { BackupClient, ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { FakeAws, REGION, awsError } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf } from './helpers/fake-aws-data';
import { runWith } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

let aws: FakeAws;
let data: FakeAwsData;
let backup: AwsClientStub<BackupClient>;
/** The data stack's file system (FakeAws names it fs-<deployment>), as DescribeFileSystems answers. */
const FS_ARN = `arn:aws:elasticfilesystem:${REGION}:123456789012:file-system/fs-my-stack`;
const RP = (id: string) => `arn:aws:backup:${REGION}:123456789012:recovery-point:${id}`;
beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  backup = mockClient(BackupClient);
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-0abc' } });
  data.fileSystems.push(fileSystemOf('fs-my-stack', { deployment: 'my-stack', mountTargets: 2 }));
  // ListRecoveryPointsByResource as the API answers it: two pages, EFS automatic backups in their vault.
  backup.on(ListRecoveryPointsByResourceCommand).callsFake((input) => {
    if (input.ResourceArn !== FS_ARN) throw awsError('ResourceNotFoundException', `Resource ${input.ResourceArn} not found`);
    if (!input.NextToken) {
      return {
        RecoveryPoints: [
          { RecoveryPointArn: RP('A-1'), CreationDate: new Date('2026-11-27T05:10:00Z'), Status: 'COMPLETED', BackupSizeBytes: 2 * 1024 ** 3, BackupVaultName: 'aws/efs/automatic-backup-vault', EncryptionKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/x', IsParent: false, ResourceName: 'GeuseData-my-stack/FileSystem' },
        ],
        NextToken: 'page-2',
      };
    }
    return {
      RecoveryPoints: [
        { RecoveryPointArn: RP('B-2'), CreationDate: new Date('2026-11-28T05:10:00Z'), Status: 'COMPLETED', BackupSizeBytes: 2 * 1024 ** 3 + 1024 ** 2, BackupVaultName: 'aws/efs/automatic-backup-vault' },
        { RecoveryPointArn: RP('C-3'), CreationDate: new Date('2026-11-29T05:10:00Z'), Status: 'CREATING', BackupVaultName: 'aws/efs/automatic-backup-vault' },
      ],
    };
  });
});
afterEach(() => {
  backup.restore();
  data.restore();
  aws.restore();
});

const SHA = 'a'.repeat(64);

function manifest(name: string, created: string, bytes: number[]): string {
  const files = ['postgres.dump', 'qdrant.snapshot', 'n8n.tar.gz', 'data-version.env'].map((file, i) => ({ name: file, bytes: bytes[i] ?? 10, sha256: SHA }));
  return JSON.stringify({ format: 1, name, tag: name.includes('-') ? name.slice(17) : '', created, deployment: 'my-stack', runtimeVersion: '2026.11.1', versions: {}, files });
}

/** The host side: the listing of `sets` (manifest texts), and backup.sh's outcome. */
function host(sets: string[], backup?: { exit: number; set?: string; error?: string }): void {
  aws.hosts.set('i-0abc', (script) => {
    const marker = `@@gm-ops:${tokenOf(script)}`;
    if (script.includes('/host/backup.sh')) {
      const lines = [`${marker} exit ${backup?.exit ?? 0}`, `${marker} set ${backup?.set ?? ''}`];
      if (backup?.error) lines.push(`${marker} error 2026-11-29T03:00:00Z geusemaker[backup] ERROR ${backup.error}`);
      return `${lines.join('\n')}\n`;
    }
    return `${sets.map((m) => `${marker} set ${m}`).join('\n')}\n${marker} listed\n`;
  });
}

describe('gm-ops backups', () => {
  it('lists the sets newest first with time, size and runtime, in one SSM command', async () => {
    host([
      manifest('20261127T030000Z', '2026-11-27T03:05:00Z', [1024, 2048, 1024, 100]),
      manifest('20261128T030000Z', '2026-11-28T03:05:00Z', [1024 * 1024, 3 * 1024 * 1024, 1024, 100]),
    ]);
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'backups', 'my-stack');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((l) => /^\s+2026/.test(l));
    expect(rows[0]).toMatch(/20261128T030000Z\s+2026-11-28T03:05:00Z\s+4\.0 MiB\s+runtime 2026\.11\.1/);
    expect(rows[1]).toMatch(/20261127T030000Z\s+2026-11-27T03:05:00Z\s+4\.1 KiB/);
    // Then the recovery points of the file system in AWS Backup, every page, newest first.
    expect(stdout).toContain('Recovery points of fs-my-stack in AWS Backup (newest first)\n');
    expect(rows[2]).toMatch(/^  2026-11-29T05:10:00Z\s+CREATING\s+-  aws\/efs\/automatic-backup-vault$/);
    expect(rows[3]).toMatch(/^  2026-11-28T05:10:00Z\s+COMPLETED\s+2\.0 GiB  aws\/efs\/automatic-backup-vault$/);
    expect(rows[4]).toMatch(/^  2026-11-27T05:10:00Z\s+COMPLETED/);
    expect(aws.scripts).toHaveLength(1);
    expect(aws.scripts[0].script).toContain('/mnt/efs/backups/');
  });

  it('--json gives one document with every set', async () => {
    host([manifest('20261128T030000Z-pre-upgrade-2026.10.0-2026.11.1', '2026-11-28T03:05:00Z', [1, 2, 3, 4])]);
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'backups', 'my-stack', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      deployment: 'my-stack',
      sets: [
        {
          name: '20261128T030000Z-pre-upgrade-2026.10.0-2026.11.1',
          tag: 'pre-upgrade-2026.10.0-2026.11.1',
          created: '2026-11-28T03:05:00Z',
          runtimeVersion: '2026.11.1',
          bytes: 10,
          files: ['postgres.dump', 'qdrant.snapshot', 'n8n.tar.gz', 'data-version.env'],
        },
      ],
      fileSystemId: 'fs-my-stack',
      recoveryPoints: [
        { arn: RP('C-3'), vault: 'aws/efs/automatic-backup-vault', created: '2026-11-29T05:10:00.000Z', status: 'CREATING', sizeBytes: null },
        { arn: RP('B-2'), vault: 'aws/efs/automatic-backup-vault', created: '2026-11-28T05:10:00.000Z', status: 'COMPLETED', sizeBytes: 2 * 1024 ** 3 + 1024 ** 2 },
        { arn: RP('A-1'), vault: 'aws/efs/automatic-backup-vault', created: '2026-11-27T05:10:00.000Z', status: 'COMPLETED', sizeBytes: 2 * 1024 ** 3 },
      ],
      recoveryPointsProblem: null,
    });
  });

  it('no backup yet: says so and how to take one', async () => {
    host([]);
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'backups', 'my-stack');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toBe('my-stack has no backup sets yet (take one with `gm-ops backup my-stack`)');
  });

  it('no recovery point yet: one line', async () => {
    host([]);
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [] });
    const { code, stdout } = await runWith({ clients: aws.clients() }, 'backups', 'my-stack');
    expect(code).toBe(0);
    expect(stdout).toBe(
      'my-stack has no backup sets yet (take one with `gm-ops backup my-stack`)\nfs-my-stack has no recovery points in AWS Backup yet (the data stack\'s AWS Backup plan runs once a day, 05:00 UTC)\n',
    );
  });

  it('no permission to list recovery points: one line naming the action, the sets still listed, exit 0', async () => {
    host([manifest('20261128T030000Z', '2026-11-28T03:05:00Z', [1, 2, 3, 4])]);
    backup.on(ListRecoveryPointsByResourceCommand).rejects(
      awsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: backup:ListRecoveryPointsByResource on resource: ' + FS_ARN),
    );
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'backups', 'my-stack');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Backup sets of my-stack (newest first)\n  20261128T030000Z');
    expect(stdout.trim().split('\n').pop()).toBe(
      `Recovery points of fs-my-stack in AWS Backup: not readable (access denied: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: backup:ListRecoveryPointsByResource on resource: ${FS_ARN})`,
    );
    const json = JSON.parse((await runWith({ clients: aws.clients() }, 'backups', 'my-stack', '--json')).stdout);
    expect(json.recoveryPoints).toEqual([]);
    expect(json.recoveryPointsProblem).toMatch(/^access denied: .*backup:ListRecoveryPointsByResource/);
  });

  it('a dead host: the recovery points are still listed, the sets say why not, exit 1 with one error line', async () => {
    aws.instances.get('i-0abc')!.State = { Name: 'stopped' } as never;
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'backups', 'my-stack');
    expect(code).toBe(1);
    expect(stdout).toContain('Backup sets of my-stack: not readable (deployment "my-stack" has no running host (its instance i-0abc is stopped))');
    expect(stdout).toContain('Recovery points of fs-my-stack in AWS Backup (newest first)');
    expect(stderr.trim().split('\n')).toEqual(['gm-ops: deployment "my-stack" has no running host (its instance i-0abc is stopped) — see `gm-ops status my-stack`']);
    expect(aws.scripts).toHaveLength(0);
  });
});

describe('gm-ops backup', () => {
  it('runs the host\'s backup script through SSM, waits, and reports the set with its size', async () => {
    host([manifest('20261129T120000Z', '2026-11-29T12:01:00Z', [1024, 1024, 1024, 1024])], { exit: 0, set: '20261129T120000Z' });
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'backup', 'my-stack');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('backup set 20261129T120000Z written (4.0 KiB)\n');
    expect(aws.scripts[0].script).toContain('bash /opt/geusemaker/host/backup.sh');
  });

  it('a failed backup is one line with the host\'s reason, exit 1', async () => {
    host([], { exit: 1, error: 'backup: pg_dump failed: pg_dump: error: connection to server failed' });
    const { code, stdout, stderr } = await runWith({ clients: aws.clients() }, 'backup', 'my-stack');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('the backup of my-stack failed on i-0abc: backup: pg_dump failed: pg_dump: error: connection to server failed');
  });

  it('a deployment without a running host: one line, no SSM command', async () => {
    aws.instances.get('i-0abc')!.State = { Name: 'stopped' } as never;
    const { code, stderr } = await runWith({ clients: aws.clients() }, 'backup', 'my-stack');
    expect(code).toBe(1);
    expect(stderr).toContain('deployment "my-stack" has no running host');
    expect(aws.scripts).toHaveLength(0);
  });
});
