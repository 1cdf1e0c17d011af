/**
 * gm-ops drill through the entry point: the AWS SDK mocked (AWS Backup answering like ListRecoveryPointsByResource,
 * StartRestoreJob and DescribeRestoreJob; EFS, Secrets Manager, CloudFormation), `npx cdk deploy/destroy` through a
 * fake process runner that creates and removes the drill's stacks, the drill host answering like
 * docker/host/restore-backup.sh and functional-check.sh --json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackupClient, DescribeRestoreJobCommand, ListRecoveryPointsByResourceCommand, StartRestoreJobCommand } from '@aws-sdk/client-backup';
import { DeleteFileSystemCommand, DescribeMountTargetsCommand, TagResourceCommand } from '@aws-sdk/client-efs';
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { ProcessRunner } from '../src/context';
import { drillEntry } from '../src/drill/assess';
import { FakeAws, REGION, awsError } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf } from './helpers/fake-aws-data';
import { runWith } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

const SOURCE_FS = 'fs-0123456789abcdef0';
const COPY_FS = 'fs-0fedcba9876543210';
const RP = (id: string) => `arn:aws:backup:${REGION}:123456789012:recovery-point:${id}`;
const SHA = 'c'.repeat(64);

let aws: FakeAws;
let data: FakeAwsData;
let backup: AwsClientStub<BackupClient>;
let project: string;
let runs: string[][];
let restoreJobs: Record<string, unknown>[];
let jobStatuses: { Status: string; StatusMessage?: string; PercentDone?: string }[];
let tagged: { id: string; tags: Record<string, string> }[];
let deletedFileSystems: string[];
let createdSecrets: { name: string; value?: string }[];
let deletedSecrets: { id: string; force: boolean }[];
/** What the drill host's restore-backup.sh does. */
let hostRestore: { exit: number; errors?: string[]; noSet?: boolean };
let functionalFail: Record<string, string>;
let destroyRemoves: boolean;

function manifest(name: string, created: string): string {
  return JSON.stringify({ format: 1, name, tag: '', created, deployment: 'my-stack', runtimeVersion: '2026.11.1', files: [{ name: 'postgres.dump', bytes: 2048, sha256: SHA }, { name: 'qdrant.snapshot', bytes: 4096, sha256: SHA }] });
}

const SOURCE_SETS = [manifest('20261127T030000Z', '2026-11-27T03:05:00Z'), manifest('20261128T030000Z', '2026-11-28T03:05:00Z')];

function points(): Record<string, unknown>[] {
  return [
    { RecoveryPointArn: RP('OLD-1'), CreationDate: new Date('2026-11-27T05:10:00Z'), Status: 'COMPLETED', BackupSizeBytes: 3 * 1024 ** 3, BackupVaultName: 'aws/efs/automatic-backup-vault', ResourceName: 'GeuseData-my-stack/FileSystem' },
    { RecoveryPointArn: RP('NEW-2'), CreationDate: new Date('2026-11-28T05:10:00Z'), Status: 'COMPLETED', BackupSizeBytes: 3 * 1024 ** 3 + 5, BackupVaultName: 'aws/efs/automatic-backup-vault', ResourceName: 'GeuseData-my-stack/FileSystem' },
    { RecoveryPointArn: RP('RUN-3'), CreationDate: new Date('2026-11-29T05:10:00Z'), Status: 'CREATING', BackupVaultName: 'aws/efs/automatic-backup-vault' },
  ];
}

function drillHost(script: string): string {
  const marker = `@@gm-ops:${tokenOf(script)}`;
  if (script.includes('restore-backup.sh')) {
    if (hostRestore.noSet) return `${marker} no-set /mnt/efs/aws-backup-restore_2026-11-29T12:00:00/backups\n`;
    const lines = [`${marker} set ${manifest('20261128T030000Z', '2026-11-28T03:05:00Z')}`, `${marker} exit ${hostRestore.exit}`, ...(hostRestore.errors ?? []).map((e) => `${marker} error ${e}`)];
    return `${lines.join('\n')}\n`;
  }
  if (script.includes('functional-check.sh')) {
    const lines = ['postgres', 'n8n', 'qdrant', 'ollama', 'crawl4ai'].map((service) =>
      `${marker} function\t${JSON.stringify({ service, ok: !functionalFail[service], ms: 40, detail: functionalFail[service] ?? `${service} works` })}`,
    );
    return `${lines.join('\n')}\n${marker} function-exit\t${Object.keys(functionalFail).length > 0 ? 1 : 0}\t\n`;
  }
  throw new Error(`unexpected script on the drill host: ${script.slice(0, 80)}`);
}

function addSecret(name: string): void {
  data.secrets.set(name, { arn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${name}-AbCdEf` });
}

const runner: ProcessRunner = {
  run: async (command, args, options) => {
    runs.push([command, ...args]);
    expect(options.cwd).toBe(project);
    if (args[1] === 'deploy') {
      aws.addDeployment({ name: 'my-stack-drill', host: { id: 'i-0drill' } });
      return { exitCode: 0 };
    }
    if (args[1] === 'destroy' && destroyRemoves) {
      for (let i = aws.stacks.length - 1; i >= 0; i -= 1) if (aws.stacks[i].StackName?.endsWith('-my-stack-drill')) aws.stacks.splice(i, 1);
    }
    return { exitCode: 0 };
  },
};

beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  backup = mockClient(BackupClient);
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-0abc' } });
  const dataStack = aws.stacks.find((s) => s.StackName === 'GeuseData-my-stack')!;
  dataStack.Outputs = [{ OutputKey: 'FileSystemId', OutputValue: SOURCE_FS }];
  data.fileSystems.push({ ...fileSystemOf(SOURCE_FS, { deployment: 'my-stack', mountTargets: 2 }), KmsKeyId: `arn:aws:kms:${REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab` });
  addSecret('geusemaker/my-stack/n8n-encryption-key');
  addSecret('geusemaker/my-stack/n8n-owner-password');
  aws.hosts.set('i-0abc', (script) => {
    const marker = `@@gm-ops:${tokenOf(script)}`;
    if (script.includes('restore-backup.sh') || script.includes('backup.sh')) throw new Error('the drill must not run backup or restore scripts on the source');
    return `${SOURCE_SETS.map((m) => `${marker} set ${m}`).join('\n')}\n${marker} listed\n`;
  });
  aws.hosts.set('i-0drill', drillHost);
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-drill-'));
  fs.writeFileSync(
    path.join(project, 'cdk.json'),
    `${JSON.stringify({ app: 'npx tsx bin/geusemaker.ts', context: { 'geusemaker:deployments': { 'my-stack': { tier: 'dev', instanceSize: 'large', retainedData: { fileSystemId: 'fs-0aaaaaaaaaaaaaaaa' } } } } }, null, 2)}\n`,
  );
  runs = [];
  restoreJobs = [];
  jobStatuses = [{ Status: 'PENDING' }, { Status: 'RUNNING', PercentDone: '40.0' }, { Status: 'COMPLETED', PercentDone: '100.0' }];
  tagged = [];
  deletedFileSystems = [];
  createdSecrets = [];
  deletedSecrets = [];
  hostRestore = { exit: 0 };
  functionalFail = {};
  destroyRemoves = true;

  backup.on(ListRecoveryPointsByResourceCommand).callsFake((input) => {
    expect(input.ResourceArn).toBe(`arn:aws:elasticfilesystem:${REGION}:123456789012:file-system/${SOURCE_FS}`);
    return { RecoveryPoints: points() };
  });
  backup.on(StartRestoreJobCommand).callsFake((input) => {
    restoreJobs.push(input);
    return { RestoreJobId: 'restore-job-0001' };
  });
  backup.on(DescribeRestoreJobCommand).callsFake((input) => {
    const status = jobStatuses.length > 1 ? jobStatuses.shift()! : jobStatuses[0];
    const done = status.Status === 'COMPLETED';
    if (done && !data.fileSystems.some((f) => f.FileSystemId === COPY_FS)) {
      const token = (restoreJobs[0].Metadata as Record<string, string>).CreationToken;
      data.fileSystems.push({ ...fileSystemOf(COPY_FS), CreationToken: token });
    }
    return {
      AccountId: '123456789012',
      RestoreJobId: input.RestoreJobId,
      RecoveryPointArn: RP('NEW-2'),
      CreationDate: new Date('2026-11-29T12:00:00Z'),
      Status: status.Status,
      StatusMessage: status.StatusMessage,
      PercentDone: status.PercentDone,
      BackupSizeInBytes: 3 * 1024 ** 3,
      IamRoleArn: 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole',
      ResourceType: 'EFS',
      ...(done ? { CreatedResourceArn: `arn:aws:elasticfilesystem:${REGION}:123456789012:file-system/${COPY_FS}`, CompletionDate: new Date('2026-11-29T12:20:00Z') } : {}),
    };
  });
  data.efs.on(TagResourceCommand).callsFake((input) => {
    tagged.push({ id: input.ResourceId, tags: Object.fromEntries((input.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value])) });
    const fsDescription = data.fileSystems.find((f) => f.FileSystemId === input.ResourceId);
    if (fsDescription) fsDescription.Tags = input.Tags;
    return {};
  });
  data.efs.on(DescribeMountTargetsCommand).callsFake(() => ({ MountTargets: [] }));
  data.efs.on(DeleteFileSystemCommand).callsFake((input) => {
    if (input.FileSystemId === SOURCE_FS) throw new Error('the drill deleted the source file system');
    const index = data.fileSystems.findIndex((f) => f.FileSystemId === input.FileSystemId);
    if (index < 0) throw awsError('FileSystemNotFound', `File system '${input.FileSystemId}' does not exist.`);
    data.fileSystems.splice(index, 1);
    deletedFileSystems.push(input.FileSystemId);
    return {};
  });
  data.secretsManager.on(GetSecretValueCommand).callsFake((input) => {
    if (!data.secrets.has(input.SecretId)) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return { ARN: data.secrets.get(input.SecretId)!.arn, Name: input.SecretId, SecretString: `value-of-${input.SecretId}`, VersionId: 'v1', VersionStages: ['AWSCURRENT'] };
  });
  data.secretsManager.on(CreateSecretCommand).callsFake((input) => {
    if (data.secrets.has(input.Name)) throw awsError('ResourceExistsException', `The operation failed because the secret ${input.Name} already exists.`);
    createdSecrets.push({ name: input.Name, value: input.SecretString });
    data.secrets.set(input.Name, { arn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${input.Name}-XyZ123` });
    return { ARN: data.secrets.get(input.Name)!.arn, Name: input.Name, VersionId: 'v1' };
  });
  data.secretsManager.on(DeleteSecretCommand).callsFake((input) => {
    if (String(input.SecretId).startsWith('geusemaker/my-stack/')) throw new Error('the drill deleted a secret of the source');
    deletedSecrets.push({ id: input.SecretId, force: Boolean(input.ForceDeleteWithoutRecovery) });
    data.secrets.delete(input.SecretId);
    return { ARN: 'x', Name: input.SecretId, DeletionDate: new Date() };
  });
});

afterEach(() => {
  backup.restore();
  data.restore();
  aws.restore();
  fs.rmSync(project, { recursive: true, force: true });
});

const drill = (...args: string[]) => runWith({ clients: aws.clients(), cwd: project, processRunner: runner }, 'drill', 'my-stack', ...args);

/** The cleanup ran in full: the stacks destroyed, the copy and the copied secrets deleted without recovery. */
function expectCleanedUp(): void {
  expect(runs.filter((r) => r[2] === 'destroy')).toHaveLength(1);
  expect(aws.stacks.some((s) => s.StackName?.endsWith('-my-stack-drill'))).toBe(false);
  expect(deletedFileSystems).toEqual([COPY_FS]);
  expect(deletedSecrets.map((s) => s.id).sort()).toEqual(createdSecrets.map((s) => s.name).sort());
  expect(deletedSecrets.every((s) => s.force)).toBe(true);
}

describe('the plan', () => {
  it('prefers a point in the data stack\'s own vault over a newer automatic-backup one, and restores with the data stack\'s BackupRoleArn', async () => {
    const role = 'arn:aws:iam::123456789012:role/GeuseData-my-stack-BackupRole1A2B3C';
    aws.stacks.find((s) => s.StackName === 'GeuseData-my-stack')!.Outputs!.push({ OutputKey: 'BackupRoleArn', OutputValue: role });
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [
      ...points().slice(1) as never[],
      { RecoveryPointArn: RP('OWN-0'), CreationDate: new Date('2026-11-27T05:10:00Z'), Status: 'COMPLETED', BackupSizeBytes: 3 * 1024 ** 3, BackupVaultName: 'GeuseDataBackupVault1234' },
    ] });
    const { code, stdout } = await drill();
    expect(code).toBe(1);
    expect(stdout).toMatch(/Recovery point\s+2026-11-27T05:10:00Z\s+COMPLETED\s+3\.0 GiB\s+GeuseDataBackupVault1234/);
    expect(stdout).toContain(`(StartRestoreJob, role ${role})`);
  });

  it('names the newest completed recovery point, the sets and every step; without --yes nothing is done (exit 1)', async () => {
    const { code, stdout, stderr } = await drill();
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(stdout).toContain(`Restore drill of my-stack (${REGION})`);
    expect(stdout).toMatch(/Recovery point\s+2026-11-28T05:10:00Z\s+COMPLETED\s+3\.0 GiB\s+aws\/efs\/automatic-backup-vault/);
    expect(stdout).toContain(RP('NEW-2'));
    expect(stdout).toMatch(/Backup sets\s+2 on my-stack now, newest 20261128T030000Z/);
    expect(stdout).toMatch(/Drill deployment\s+my-stack-drill: GeuseData-my-stack-drill, GeuseDev-my-stack-drill/);
    expect(stdout).toMatch(/1\. AWS Backup restores fs-0123456789abcdef0's \/backups from the recovery point of 2026-11-28T05:10:00Z into a new encrypted file system \(StartRestoreJob, role arn:aws:iam::123456789012:role\/service-role\/AWSBackupDefaultServiceRole\); my-stack is not touched/);
    expect(stdout).toContain('2. copy my-stack\'s stored secrets into geusemaker/my-stack-drill/n8n-encryption-key, geusemaker/my-stack-drill/n8n-owner-password');
    expect(stdout).toContain('3. npx cdk deploy GeuseData-my-stack-drill GeuseDev-my-stack-drill');
    expect(stdout).toMatch(/5\. always, whatever failed: cdk destroy GeuseDev-my-stack-drill GeuseData-my-stack-drill/);
    expect(stdout).toContain('Nothing done: run again with --yes to drill.');
    expect(restoreJobs).toEqual([]);
    expect(runs).toEqual([]);
  });

  it('--json gives the plan and the exact deploy command', async () => {
    const { code, stdout } = await drill('--json');
    expect(code).toBe(1);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ deployment: 'my-stack', drill: 'my-stack-drill', confirmed: false, result: null, recoveryPoint: { arn: RP('NEW-2'), vault: 'aws/efs/automatic-backup-vault', created: '2026-11-28T05:10:00Z' } });
    expect(doc.command).toBe(
      'npx cdk deploy GeuseData-my-stack-drill GeuseDev-my-stack-drill -c geusemaker:deployments={"my-stack-drill":{"tier":"dev","instanceSize":"large","retainedData":{"fileSystemId":"<restored file system>"}}} -c name=my-stack-drill -c geusemaker:drill=my-stack-drill --require-approval never',
    );
  });
});

describe('choices', () => {
  it('--recovery-point picks that recovery point; one that is not the file system\'s is one line', async () => {
    const { stdout } = await drill('--recovery-point', RP('OLD-1'));
    expect(stdout).toMatch(/Recovery point\s+2026-11-27T05:10:00Z/);
    const other = await drill('--recovery-point', RP('ELSEWHERE-9'), '--yes');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`gm-ops: ${RP('ELSEWHERE-9')} is not a recovery point of ${SOURCE_FS} — see \`gm-ops backups my-stack\``);
    const running = await drill('--recovery-point', RP('RUN-3'), '--yes');
    expect(running.stderr).toContain(`the recovery point ${RP('RUN-3')} is CREATING, not COMPLETED`);
    expect(restoreJobs).toEqual([]);
  });

  it('the drill of an automation deployment keeps its settings but never its own domain', () => {
    const cdkJson = path.join(project, 'cdk.json');
    fs.writeFileSync(cdkJson, JSON.stringify({ app: 'npx tsx bin/geusemaker.ts', context: { 'geusemaker:deployments': { 'my-stack': { tier: 'automation', allowedCidrs: ['203.0.113.0/24'], automation: { domainName: 'n8n.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc', originReadTimeoutSeconds: 60 } } } } }));
    expect(drillEntry({ root: project, cdkJson }, 'my-stack', 'automation')).toEqual({
      entry: { tier: 'automation', allowedCidrs: ['203.0.113.0/24'], automation: { originReadTimeoutSeconds: 60 } },
      tier: 'automation',
      from: 'the settings of "my-stack" in cdk.json (its own domain left out)',
    });
    expect(drillEntry(undefined, 'web', undefined)).toMatchObject({ entry: { tier: 'dev' }, tier: 'dev' });
  });

  it('--help describes the drill', async () => {
    const { code, stdout, stderr } = await runWith({}, 'drill', '--help');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Prove that the newest backup restores, in a throwaway deployment');
    expect(stdout).toContain('--recovery-point');
  });
});

describe('a drill that passes', () => {
  it('restores a copy, deploys the drill on it, restores the newest set, checks every service, reports the times and removes everything', async () => {
    // A deployment made before the host derived four of its secrets: those legacy secrets are copied too.
    for (const purpose of ['postgres-password', 'n8n-jwt-secret', 'qdrant-api-key', 'crawl4ai-api-token']) addSecret(`geusemaker/my-stack/${purpose}`);
    const { code, stdout, stderr } = await drill('--yes');
    expect(stderr.split('\n').filter((l) => l && !l.startsWith('gm-ops: '))).toEqual([]);
    expect(code).toBe(0);
    // AWS Backup: /backups of the newest completed recovery point, into a new encrypted file system.
    expect(restoreJobs).toEqual([
      {
        RecoveryPointArn: RP('NEW-2'),
        IamRoleArn: 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole',
        ResourceType: 'EFS',
        IdempotencyToken: expect.stringMatching(/^geusemaker-my-stack-drill-\d+$/),
        CopySourceTagsToRestoredResource: false,
        Metadata: {
          'file-system-id': SOURCE_FS,
          newFileSystem: 'true',
          Encrypted: 'true',
          KmsKeyId: `arn:aws:kms:${REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
          PerformanceMode: 'generalPurpose',
          CreationToken: expect.stringMatching(/^geusemaker-my-stack-drill-\d+$/),
          itemsToRestore: '["/backups"]',
        },
      },
    ]);
    expect(tagged).toEqual([{ id: COPY_FS, tags: { 'geuse:deployment': 'my-stack-drill', 'geuse:tier': 'data', Name: `my-stack-drill (restore drill copy of ${SOURCE_FS})` } }]);
    // Every secret of the source that exists, copied (values never printed).
    expect(createdSecrets.map((s) => s.name).sort()).toEqual(['crawl4ai-api-token', 'n8n-encryption-key', 'n8n-jwt-secret', 'n8n-owner-password', 'postgres-password', 'qdrant-api-key'].map((p) => `geusemaker/my-stack-drill/${p}`).sort());
    expect(createdSecrets.find((s) => s.name.endsWith('n8n-encryption-key'))?.value).toBe('value-of-geusemaker/my-stack/n8n-encryption-key');
    expect(stdout + stderr).not.toContain('value-of-');
    // The CDK app gets the drill deployment on the command line, on the copy, with the source's settings.
    const context = ['-c', 'geusemaker:deployments={"my-stack-drill":{"tier":"dev","instanceSize":"large","retainedData":{"fileSystemId":"fs-0fedcba9876543210"}}}', '-c', 'name=my-stack-drill', '-c', 'geusemaker:drill=my-stack-drill'];
    expect(runs).toEqual([
      ['npx', 'cdk', 'deploy', 'GeuseData-my-stack-drill', 'GeuseDev-my-stack-drill', ...context, '--require-approval', 'never'],
      ['npx', 'cdk', 'destroy', 'GeuseDev-my-stack-drill', 'GeuseData-my-stack-drill', ...context, '--force'],
    ]);
    // On the drill host only: the set restored, then the functional check.
    const drillScripts = aws.scripts.filter((s) => s.instanceIds[0] === 'i-0drill').map((s) => s.script);
    expect(drillScripts).toHaveLength(2);
    expect(drillScripts[0]).toContain('bash /opt/geusemaker/host/restore-backup.sh "$name"');
    expect(drillScripts[1]).toContain('functional-check.sh');
    expect(aws.scripts.filter((s) => s.instanceIds[0] === 'i-0abc')).toHaveLength(1); // the plan's listing of the sets
    expectCleanedUp();
    // The report.
    expect(stdout).toMatch(/Backup set\s+20261128T030000Z \(made 2026-11-28T03:05:00Z, runtime 2026\.11\.1, 6\.0 KiB\)/);
    expect(stdout).toMatch(/Restore job\s+\d+m\d\ds/);
    expect(stdout).toMatch(/n8n\s+ok\s+40 ms\s+n8n works/);
    expect(stdout).toMatch(/gone\s+file system fs-0fedcba9876543210: deleted/);
    expect(stdout).toMatch(/Drill passed: 20261128T030000Z restored and working in \S+ \(recovery point to a checked deployment\)\./);
  });

  it('--json reports the recovery point, the set, the seconds per phase, the result per service and the cleanup', async () => {
    const { code, stdout } = await drill('--yes', '--json');
    expect(code).toBe(0);
    const { result } = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, error: null, restoreJobId: 'restore-job-0001', restoredFileSystemId: COPY_FS, set: { name: '20261128T030000Z', runtimeVersion: '2026.11.1' } });
    expect(result.seconds.restoreJob).toBe(60); // two polls of 30 s on the injected clock
    expect(Object.keys(result.functionalCheck)).toEqual(['n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai']);
    expect(result.functionalCheck.qdrant).toEqual({ state: 'ok', ms: 40, detail: 'qdrant works' });
    expect(result.cleanup.map((c: { resource: string; ok: boolean }) => [c.resource, c.ok])).toEqual([
      ['stacks GeuseDev-my-stack-drill, GeuseData-my-stack-drill', true],
      [`file system ${COPY_FS}`, true],
      ['secret geusemaker/my-stack-drill/n8n-encryption-key', true],
      ['secret geusemaker/my-stack-drill/n8n-owner-password', true],
    ]);
  });
});

describe('refusals, one line each, nothing done', () => {
  it('a scale deployment: its database is RDS, which a drill could neither create cheaply nor remove', async () => {
    aws.stacks.splice(0, aws.stacks.length);
    aws.addDeployment({ name: 'my-stack', tier: 'scale', host: { id: 'i-0abc' } });
    aws.stacks.find((s) => s.StackName === 'GeuseData-my-stack')!.Outputs = [{ OutputKey: 'FileSystemId', OutputValue: SOURCE_FS }];
    const { code, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('gm-ops: my-stack runs the scale tier: its database is RDS');
    expect(restoreJobs).toEqual([]);
    expect(runs).toEqual([]);
  });

  it('no backup: no completed recovery point', async () => {
    backup.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [] });
    const { code, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`gm-ops: my-stack has no completed recovery point of ${SOURCE_FS} in AWS Backup to drill from — the data stack's AWS Backup plan runs once a day (05:00 UTC)`);
    expect(restoreJobs).toEqual([]);
    expect(runs).toEqual([]);
  });

  it('no backup: the source has no backup set', async () => {
    aws.hosts.set('i-0abc', (script) => `@@gm-ops:${tokenOf(script)} listed\n`);
    const { code, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('my-stack has no backup sets: its recovery points hold nothing to restore — take one with `gm-ops backup my-stack`');
    expect(restoreJobs).toEqual([]);
  });

  it('drill stacks, a restored copy and secrets left over from an earlier drill: each named with how to remove it', async () => {
    aws.addDeployment({ name: 'my-stack-drill', host: null, status: 'DELETE_FAILED' });
    data.fileSystems.push({ ...fileSystemOf('fs-0999999999999999a'), CreationToken: 'geusemaker-my-stack-drill-1764417600000' });
    data.secrets.set('geusemaker/my-stack-drill/n8n-encryption-key', { arn: 'arn:x', deletedDate: new Date('2026-11-20T00:00:00Z') });
    const { code, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(
      'gm-ops: an earlier drill left 4 resources of my-stack-drill: stack GeuseDev-my-stack-drill (DELETE_FAILED), stack GeuseData-my-stack-drill (CREATE_COMPLETE), file system fs-0999999999999999a (a restored copy for my-stack-drill, 0 mount targets), secret geusemaker/my-stack-drill/n8n-encryption-key (scheduled for deletion: its name stays taken)',
    );
    expect(stderr).toContain(`aws cloudformation delete-stack --stack-name GeuseDev-my-stack-drill --region ${REGION}`);
    expect(stderr).toContain(`aws efs delete-file-system --file-system-id fs-0999999999999999a --region ${REGION}`);
    expect(stderr).toContain(`aws secretsmanager delete-secret --secret-id geusemaker/my-stack-drill/n8n-encryption-key --force-delete-without-recovery --region ${REGION}`);
    expect(restoreJobs).toEqual([]);
    expect(runs).toEqual([]);
  });

  it('a name whose drill would break the deployment-name rule is a usage error (exit 2)', async () => {
    const { code, stderr } = await runWith({ clients: aws.clients(), cwd: project, processRunner: runner }, 'drill', 'a-very-long-deployment-name-xy', '--yes');
    expect(code).toBe(2);
    expect(stderr).toContain('gm-ops: the drill deployment "a-very-long-deployment-name-xy-drill" would break the deployment-name rule');
    expect(stderr).toContain('drills need a source name of at most 25 characters');
  });

  it('outside the GeuseMaker project: the plan, then one line', async () => {
    const { code, stdout, stderr } = await runWith({ clients: aws.clients(), cwd: os.tmpdir(), processRunner: runner }, 'drill', 'my-stack', '--yes');
    expect(code).toBe(1);
    expect(stdout).toContain('Plan:');
    expect(stderr).toContain('not inside the GeuseMaker project');
    expect(restoreJobs).toEqual([]);
  });
});

describe('failures during the drill: one line, and the cleanup still runs', () => {
  it('the restore job fails: nothing deployed, the copied nothing, exit 1', async () => {
    jobStatuses = [{ Status: 'RUNNING' }, { Status: 'FAILED', StatusMessage: 'Access denied to the KMS key of the recovery point' }];
    const { code, stdout, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('gm-ops: the'))).toHaveLength(1);
    expect(stderr).toContain('gm-ops: the restore job restore-job-0001 failed: Access denied to the KMS key of the recovery point — see `aws backup describe-restore-job --restore-job-id restore-job-0001`');
    expect(runs).toEqual([]);
    expect(createdSecrets).toEqual([]);
    expect(stdout).toContain('Cleanup:\n  nothing was created');
    expect(stdout).toContain('Drill failed: the restore job restore-job-0001 failed');
  });

  it('AWS Backup refuses the restore (the automatic vault\'s access policy): one line with the way out', async () => {
    backup.on(StartRestoreJobCommand).rejects(awsError('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: backup:StartRestoreJob with an explicit deny in a resource-based policy'));
    const { code, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr).toContain(`gm-ops: AWS Backup refused to restore ${RP('NEW-2')}: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: backup:StartRestoreJob with an explicit deny in a resource-based policy — the access policy of aws/efs/automatic-backup-vault may deny backup:StartRestoreJob`);
    expect(runs).toEqual([]);
  });

  it('checksum mismatch in the restored set on the drill host: one line, then everything removed', async () => {
    hostRestore = { exit: 2, errors: ['2026-11-29T12:40:00Z geusemaker[restore-backup] ERROR restore: backup set 20261128T030000Z is damaged: postgres.dump does not match its sha256 in manifest.json; nothing was touched'] };
    const { code, stdout, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.split('\n').filter((l) => l.startsWith('gm-ops: the'))).toEqual([
      "gm-ops: the drill's restore of 20261128T030000Z failed: restore: backup set 20261128T030000Z is damaged: postgres.dump does not match its sha256 in manifest.json; nothing was touched",
    ]);
    expectCleanedUp();
    expect(stdout).toMatch(/Drill failed: the drill's restore of 20261128T030000Z failed/);
  });

  it('a service failing its functional check on the drill: named, and the drill removed', async () => {
    functionalFail = { n8n: 'owner login refused (401): the encryption key does not match the data' };
    const { code, stdout, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr).toContain('gm-ops: the functional check failed on the drill host: n8n owner login refused (401): the encryption key does not match the data');
    expect(stdout).toMatch(/n8n\s+fail\s+40 ms\s+owner login refused/);
    expectCleanedUp();
  });

  it('the recovery point holds no set: one line, cleanup runs', async () => {
    hostRestore = { exit: 0, noSet: true };
    const { code, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr).toContain('gm-ops: the recovery point holds no backup set (/mnt/efs/aws-backup-restore_2026-11-29T12:00:00/backups is empty)');
    expectCleanedUp();
  });

  it('cdk deploy fails: the stacks it left are destroyed, the copy and the secrets deleted', async () => {
    // The deploy creates the drill's stacks, then fails and rolls back: they stay until destroyed.
    const halfDeploy: ProcessRunner = {
      run: async (command, args, options) => {
        if (args[1] !== 'deploy') return runner.run(command, args, options);
        runs.push([command, ...args]);
        aws.addDeployment({ name: 'my-stack-drill', host: null, status: 'ROLLBACK_COMPLETE' });
        return { exitCode: 1 };
      },
    };
    const { code, stderr } = await runWith({ clients: aws.clients(), cwd: project, processRunner: halfDeploy }, 'drill', 'my-stack', '--yes');
    expect(code).toBe(1);
    expect(stderr).toContain('gm-ops: cdk deploy of the drill deployment my-stack-drill failed (exit 1)');
    expectCleanedUp();
  });

  it('a cleanup that cannot remove the stacks is a failure naming what is left and how to remove it', async () => {
    destroyRemoves = false;
    data.efs.on(DescribeMountTargetsCommand).resolves({ MountTargets: [{ MountTargetId: 'fsmt-1', FileSystemId: COPY_FS, SubnetId: 'subnet-1', LifeCycleState: 'available', OwnerId: '123456789012' }] });
    const { code, stdout, stderr } = await drill('--yes');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('gm-ops: the'))).toHaveLength(1);
    expect(stderr).toContain(`gm-ops: the drill passed but its cleanup left stacks GeuseDev-my-stack-drill, GeuseData-my-stack-drill, file system ${COPY_FS} — remove it:`);
    expect(stderr).toContain(`aws efs delete-file-system --file-system-id ${COPY_FS} --region ${REGION}`);
    expect(stdout).toMatch(/LEFT\s+file system fs-0fedcba9876543210: 1 mount target still on it/);
    // The secrets are still removed.
    expect(deletedSecrets).toHaveLength(2);
  });
});
