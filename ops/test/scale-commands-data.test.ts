/**
 * backup, backups, drift, metrics, history and drill of a scale deployment through the entry point: the host is the AI
 * host (Ollama, Qdrant, Crawl4AI; its sets hold vectors), `GeuseScaleData-<name>` (the RDS database and the Valkey queue)
 * counts as one of the deployment's stacks, and what lives on ECS and RDS is said where it is, not probed on the host.
 * CloudFormation, auto scaling, EC2 and SSM are the repository's fakes; ECS and RDS the shared scale fake
 * (helpers/fake-scale.ts), whose log of requests shows each command reads only what it should from them.
 */
import { BackupClient, ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import {
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceDriftsCommand,
  DetectStackDriftCommand,
  type StackResourceDrift,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { FakeAws, REGION, eventOf } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf } from './helpers/fake-aws-data';
import { addScaleDeployment, type ScaleDeployment } from './helpers/fake-scale';
import { runWith } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

const AI_HOST = 'i-0a1b2c3d4e5f60001';
const DB = 'geusemaker-big-db';
const SCALE_FS = 'fs-0aa11bb22cc33dd44';

let aws: FakeAws;
let data: FakeAwsData;
let big: ScaleDeployment;
let backup: AwsClientStub<BackupClient>;
const cloudWatch = mockClient(CloudWatchClient);
beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  backup = mockClient(BackupClient);
  cloudWatch.reset();
  big = addScaleDeployment(aws, { aiHost: AI_HOST, fileSystemId: SCALE_FS, databaseId: DB });
});
afterEach(() => {
  backup.restore();
  data.restore();
  aws.restore();
});
afterAll(() => cloudWatch.restore());

const run = (...args: string[]) => runWith({ clients: { ...aws.clients(), scale: big.scale } as never }, ...args);

const manifest = (name: string, created: string, files: [string, number][]) =>
  JSON.stringify({ format: 1, name, tag: '', created, runtimeVersion: '2026.11.1', files: files.map(([file, bytes]) => ({ name: file, bytes, sha256: 'a'.repeat(64) })) });
const SETS = [
  manifest('20250110T030000Z-migrate-to-scale', '2025-01-10T03:05:00Z', [['postgres.dump', 4000], ['qdrant.snapshot', 2000], ['n8n.tar.gz', 1000], ['data-version.env', 24]]),
  manifest('20250115T030000Z-vectors', '2025-01-15T03:00:20Z', [['qdrant.snapshot', 2048], ['data-version.env', 24]]),
];

/** The AI host: lists SETS, and backup.sh (GM_ROLE=ai-services) writes a vector set. */
function aiHost(): void {
  aws.hosts.set(AI_HOST, (script) => {
    const marker = `@@gm-ops:${tokenOf(script)}`;
    if (script.includes('/host/backup.sh')) return `${marker} exit 0\n${marker} set 20250115T030000Z-vectors\n`;
    return `${SETS.map((set) => `${marker} set ${set}`).join('\n')}\n${marker} listed\n`;
  });
}

describe('backup and backups: the AI host\'s vector sets, and the database on RDS', () => {
  beforeEach(() => {
    aiHost();
    data.fileSystems.push(fileSystemOf(SCALE_FS, { deployment: 'big', mountTargets: 2 }));
    backup.on(ListRecoveryPointsByResourceCommand).resolves({
      RecoveryPoints: [{ RecoveryPointArn: `arn:aws:backup:${REGION}:123456789012:recovery-point:A-1`, CreationDate: new Date('2025-01-15T05:10:00Z'), Status: 'COMPLETED', BackupSizeBytes: 3 * 1024 ** 3, BackupVaultName: 'geusemaker-big' }],
    });
    big.scale.dbInstance = { BackupRetentionPeriod: 7, LatestRestorableTime: new Date('2025-01-15T11:55:00Z'), PreferredBackupWindow: '03:00-03:30' };
  });

  it('backup runs backup.sh on the AI host and says its set holds vectors, the database being RDS\'s to keep', async () => {
    const { code, stdout, stderr } = await run('backup', 'big');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(aws.scripts.map((s) => s.instanceIds)).toEqual([[AI_HOST], [AI_HOST]]);
    expect(aws.scripts[0].script).toContain('/opt/geusemaker/host/backup.sh');
    expect(stdout).toBe(
      'backup set 20250115T030000Z-vectors written (2.0 KiB: vectors)\n' +
        "the AI host's sets hold Qdrant's vectors; n8n's database is on RDS, kept by its automated backups (see `gm-ops backups big`)\n",
    );
    const json = JSON.parse((await run('backup', 'big', '--json')).stdout);
    expect(json).toMatchObject({ deployment: 'big', set: '20250115T030000Z-vectors', holds: ['qdrant.snapshot', 'data-version.env'] });
    expect(json.database).toContain("n8n's database is on RDS");
    expect(big.scale.requests).toEqual([]);
  });

  it('backups lists what each set holds, the recovery points, and the database\'s backups read from RDS', async () => {
    const { code, stdout, stderr } = await run('backups', 'big');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain("Backup sets of big on the AI host's file system (newest first)");
    expect(stdout).toMatch(/ {2}20250115T030000Z-vectors\s+2025-01-15T03:00:20Z\s+2\.0 KiB {2}runtime 2026\.11\.1 {2}\(vectors\)\n/);
    expect(stdout).toMatch(/ {2}20250110T030000Z-migrate-to-scale\s+.*\(n8n's database, n8n's files, vectors\)\n/);
    expect(stdout).toContain(`Recovery points of ${SCALE_FS} in AWS Backup (newest first)`);
    expect(stdout).toContain(`n8n's database (RDS instance ${DB}, GeuseScaleData-big): available; automated backups kept 7 days, restorable to any time up to 2025-01-15T11:55:00Z\n`);
    expect(stdout).toContain("  n8n's database is on RDS instance geusemaker-big-db, not on the AI host: RDS automated backups allow a point-in-time restore within their retention period");
    expect(big.scale.requests).toEqual([`DescribeDBInstances ${DB}`]);
    const json = JSON.parse((await run('backups', 'big', '--json')).stdout);
    expect(json.database).toMatchObject({ stack: 'GeuseScaleData-big', instanceId: DB, status: 'available', backupRetentionDays: 7, latestRestorableTime: '2025-01-15T11:55:00.000Z', problem: null });
  });

  it('the database cannot be read (RDS does not know it): one line in its place, the rest listed, exit 0', async () => {
    big.scale.database = false;
    const { code, stdout } = await run('backups', 'big');
    expect(code).toBe(0);
    expect(stdout).toContain(`n8n's database (RDS instance ${DB}, GeuseScaleData-big): not readable (RDS has no instance ${DB})\n`);
    expect(stdout).toContain('(vectors)');
  });

  it('a single host does not read RDS, and its listing is unchanged', async () => {
    aws.addDeployment({ name: 'web', host: { id: 'i-0web' } });
    aws.hosts.set('i-0web', (script) => `@@gm-ops:${tokenOf(script)} listed\n`);
    data.fileSystems.push(fileSystemOf('fs-web', { deployment: 'web' }));
    const { code, stdout } = await run('backups', 'web');
    expect(code).toBe(0);
    expect(stdout).not.toContain("n8n's database");
    expect(big.scale.requests).toEqual([]);
  });
});

describe('drift: the three stacks, and the AI host\'s own services', () => {
  const PINNED: Record<string, string> = { postgres: 'postgres:17.9-alpine', ollama: 'ollama/ollama:0.33.1', qdrant: 'qdrant/qdrant:v1.19.0', n8n: 'n8nio/n8n:2.36.9', crawl4ai: 'unclecode/crawl4ai:0.9.3' };
  let drifts: Map<string, StackResourceDrift[]>;

  /** The AI host's answer: its three containers running as pinned (or `running` instead), the compose file pinning all five. */
  function driftHost(running: Record<string, string> = { ollama: PINNED.ollama, qdrant: PINNED.qdrant, crawl4ai: PINNED.crawl4ai }): void {
    aws.hosts.set(AI_HOST, (script) => {
      const m = `@@gm-ops:${tokenOf(script)}`;
      return [
        ...Object.entries(running).map(([service, image]) => `${m} running\t${service}\t${image}\th-${service}`),
        ...Object.entries(PINNED).map(([service, image]) => `${m} pinned\t${service}\t${image}`),
        ...Object.keys(PINNED).map((service) => `${m} expected-hash\t${service}\th-${service}`),
        `${m} end`,
      ].join('\n');
    });
  }

  beforeEach(() => {
    drifts = new Map();
    aws.cfn.on(DetectStackDriftCommand).callsFake((input) => ({ StackDriftDetectionId: `detect-${input.StackName}` }));
    aws.cfn.on(DescribeStackDriftDetectionStatusCommand).callsFake((input) => {
      const stackName = String(input.StackDriftDetectionId).replace('detect-', '');
      const drifted = drifts.get(stackName) ?? [];
      return {
        StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/${stackName}/0000`,
        StackDriftDetectionId: input.StackDriftDetectionId,
        Timestamp: new Date('2025-01-15T12:00:00Z'),
        DetectionStatus: 'DETECTION_COMPLETE',
        StackDriftStatus: drifted.length ? 'DRIFTED' : 'IN_SYNC',
        DriftedStackResourceCount: drifted.length,
      };
    });
    aws.cfn.on(DescribeStackResourceDriftsCommand).callsFake((input) => ({ StackResourceDrifts: drifts.get(input.StackName ?? '') ?? [] }));
  });

  it('in sync: GeuseScale, GeuseScaleData and GeuseData checked; n8n and PostgreSQL not running on the AI host is no drift; exit 0', async () => {
    driftHost();
    const { code, stdout, stderr } = await run('drift', 'big');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(aws.cfn.commandCalls(DetectStackDriftCommand).map((c) => c.args[0].input.StackName)).toEqual(['GeuseScale-big', 'GeuseScaleData-big', 'GeuseData-big']);
    expect(stdout).toMatch(/^GeuseScaleData-big {2}in sync$/m);
    expect(stdout).toContain(`AI host ${AI_HOST}`);
    expect(stdout).toMatch(/^ {2}qdrant\s+in sync\s+qdrant\/qdrant:v1\.19\.0/m);
    expect(stdout).not.toMatch(/^ {2}(n8n|postgres)\s/m);
    expect(stdout).toContain("(n8n and PostgreSQL run on ECS and RDS, not on the AI host: their drift is the stacks' above)");
    expect(stdout).toContain('no drift');
  });

  it('the database changed outside CloudFormation: GeuseScaleData-big DRIFTED with the property; exit 1', async () => {
    driftHost();
    drifts.set('GeuseScaleData-big', [
      {
        StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/GeuseScaleData-big/0000`,
        LogicalResourceId: 'DatabaseInstanceAA8A5FDE',
        PhysicalResourceId: DB,
        ResourceType: 'AWS::RDS::DBInstance',
        StackResourceDriftStatus: 'MODIFIED',
        PropertyDifferences: [{ PropertyPath: '/BackupRetentionPeriod', ExpectedValue: '7', ActualValue: '1', DifferenceType: 'NOT_EQUAL' }],
        Timestamp: new Date('2025-01-15T12:00:00Z'),
      },
    ]);
    const { code, stdout } = await run('drift', 'big');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^GeuseScaleData-big {2}DRIFTED$/m);
    expect(stdout).toContain('    /BackupRetentionPeriod: expected 7, actual 1 (NOT_EQUAL)');
  });

  it('a service of the AI host itself not running is drift, and so is one of its images', async () => {
    driftHost({ ollama: PINNED.ollama, qdrant: 'qdrant/qdrant:v1.18.0' });
    const { code, stdout } = await run('drift', 'big', '--json');
    expect(code).toBe(1);
    const { host } = JSON.parse(stdout);
    expect(host.role).toBe('ai-services');
    expect(host.report.containers.map((c: { service: string; state: string }) => [c.service, c.state])).toEqual([
      ['crawl4ai', 'not running'],
      ['ollama', 'in sync'],
      ['qdrant', 'image drift'],
    ]);
  });
});

describe('metrics: the AI host, and where the rest is', () => {
  it('the AI host\'s figures, the file system, and one line naming the ECS cluster and the RDS instance; no ECS or RDS call', async () => {
    aws.hosts.set(AI_HOST, (script) => {
      const m = `@@gm-ops:${tokenOf(script)}`;
      return [`${m} cpu1 cpu  1000 0 500 8000 500 0 0 0 0 0`, `${m} cpu2 cpu  1300 0 600 8550 550 0 0 0 0 0`, `${m} mem MemTotal: 8012345`, `${m} mem MemAvailable: 4006172`, `${m} svc\tab12\tqdrant`, `${m} stats\tab12\t3.00%\t812MiB / 7.64GiB\t10.4%`].join('\n');
    });
    cloudWatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'storage', Timestamps: [new Date('2025-01-15T11:55:00Z')], Values: [5 * 1024 ** 3] }, { Id: 'io', Timestamps: [], Values: [] }] });
    const { code, stdout, stderr } = await run('metrics', 'big');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^big on its AI host ${AI_HOST} at 2025-01-15 12:00:00Z$`, 'm'));
    expect(stdout).toMatch(/^ {2}qdrant\s+3\.0%\s+812MiB \/ 7\.64GiB\s+10\.4%$/m);
    expect(stdout).toContain(`File system ${SCALE_FS}`);
    expect(stdout).toContain('n8n runs on ECS and its database on RDS, not on this AI host: `gm-ops status big` shows their tasks and state; their CPU and memory are CloudWatch metrics AWS/ECS (ClusterName geusemaker-big) and AWS/RDS (DBInstanceIdentifier geusemaker-big-db)');
    const json = JSON.parse((await run('metrics', 'big', '--json')).stdout);
    expect(json).toMatchObject({ deployment: 'big', instanceId: AI_HOST, role: 'ai-services' });
    expect(json.elsewhere).toContain('AWS/ECS (ClusterName geusemaker-big)');
    expect(big.scale.requests).toEqual([]);
  });
});

describe('history: the database stack\'s operations among the others', () => {
  it('an update of GeuseScaleData-big is listed with the compute stack\'s create', async () => {
    const scaleData = 'GeuseScaleData-big';
    const compute = 'GeuseScale-big';
    const STACK = 'AWS::CloudFormation::Stack';
    const events: Record<string, ReturnType<typeof eventOf>[]> = {
      [scaleData]: [
        eventOf(scaleData, scaleData, STACK, 'UPDATE_COMPLETE', 130),
        eventOf(scaleData, 'DatabaseInstanceAA8A5FDE', 'AWS::RDS::DBInstance', 'UPDATE_COMPLETE', 128),
        eventOf(scaleData, 'DatabaseInstanceAA8A5FDE', 'AWS::RDS::DBInstance', 'UPDATE_IN_PROGRESS', 101),
        eventOf(scaleData, scaleData, STACK, 'UPDATE_IN_PROGRESS', 100, 'User Initiated'),
      ],
      [compute]: [eventOf(compute, compute, STACK, 'CREATE_COMPLETE', 40), eventOf(compute, compute, STACK, 'CREATE_IN_PROGRESS', 10, 'User Initiated')],
    };
    aws.cfn.on(DescribeStackEventsCommand).callsFake((input) => ({ StackEvents: events[input.StackName ?? ''] ?? [] }));
    const { code, stdout } = await run('history', 'big', '--json');
    expect(code).toBe(0);
    const { operations } = JSON.parse(stdout);
    expect(operations.map((op: { stack: string; kind: string; outcome: string }) => [op.stack, op.kind, op.outcome])).toEqual([
      [scaleData, 'update', 'succeeded'],
      [compute, 'create', 'succeeded'],
    ]);
    expect(aws.cfn.commandCalls(DescribeStackEventsCommand).map((c) => c.args[0].input.StackName).sort()).toEqual(['GeuseData-big', compute, scaleData].sort());
  });
});

describe('drill: refused for the scale tier before anything is read', () => {
  it('one line with what restores its data instead; no recovery point listed, no SSM command', async () => {
    const { code, stdout, stderr } = await run('drill', 'big', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'gm-ops: big runs the scale tier: its database is RDS, which a drill deployment would have to create and could not remove (deletion protection), and its backup sets hold vectors only — ' +
        "its database is RDS's to restore (a point in time within its backup retention, or its final snapshot, into a new DB instance); `gm-ops restore big --to <set>` restores its vectors; drill a single-host deployment\n",
    );
    expect(backup.commandCalls(ListRecoveryPointsByResourceCommand)).toEqual([]);
    expect(data.efs.calls()).toEqual([]);
    expect(aws.scripts).toEqual([]);
    expect(big.scale.requests).toEqual([]);
  });
});
