/**
 * Redeploying under the same name (issue 10, defects 12 and 17): secret names are fixed and a deleted
 * secret keeps its name through its recovery window, so restore looks for retained secrets whatever
 * else is gone; and once a data stack is rebuilt around a retained file system, the deployment's
 * saved configuration (cdk.json) carries it, so that every later deploy mounts it again.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StackResourceSummary } from '@aws-sdk/client-cloudformation';
import type { ProcessRunner } from '../src/context';
import { FakeAws, stackOf } from './helpers/fake-aws';
import { FakeAwsData, fileSystemOf, healthyProbeLines } from './helpers/fake-aws-data';
import { type HarnessOptions, runWith } from './helpers/harness';
import { ALL_RUNNING, containerLines, tokenOf } from './helpers/host-output';
import { gmOpsWithFakeAws } from './helpers/spawn-bin';

const FS_ID = 'fs-0123456789abcdef0';

/** A cdk.json as a person keeps it: several deployments, the CDK feature flags, 2-space JSON. */
const HAND_WRITTEN = {
  app: 'npx tsx bin/geusemaker.ts',
  watch: { include: ['**'], exclude: ['README.md', 'cdk*.json', 'node_modules', 'ops'] },
  context: {
    'geusemaker:deployments': {
      'my-stack': { tier: 'dev' },
      web: { tier: 'dev', allowedCidrs: ['198.51.100.0/24'], models: ['llama3.2:1b'] },
      shop: { tier: 'automation', retainedData: { fileSystemId: 'fs-0aaaaaaaaaaaaaaaa' } },
    },
    '@aws-cdk/core:validateAgainstDefaultRules': true,
    '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true,
  },
};
const jsonText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

let aws: FakeAws;
let data: FakeAwsData;
let project: string;
let cdkJson: string;
beforeEach(() => {
  aws = new FakeAws();
  data = new FakeAwsData(aws);
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-retained-'));
  cdkJson = path.join(project, 'cdk.json');
  fs.writeFileSync(cdkJson, jsonText(HAND_WRITTEN));
});
afterEach(() => {
  data.restore();
  aws.restore();
  fs.rmSync(project, { recursive: true, force: true });
});

const restore = (options: Partial<HarnessOptions>, ...args: string[]) => runWith({ clients: aws.clients(), cwd: project, ...options }, 'restore', ...args);

function hostAnswers(instanceId: string): void {
  aws.agents.set(instanceId, 'Online');
  aws.hosts.set(instanceId, (script) => `${healthyProbeLines(tokenOf(script))}\n${containerLines(tokenOf(script), ALL_RUNNING)}`);
}

/** Records each cdk run with what cdk.json said at that moment; the deploy brings up a healthy host. */
function cdkRunner(exitCode = 0): ProcessRunner & { calls: { args: readonly string[]; cdkJsonAtRun: string }[] } {
  const calls: { args: readonly string[]; cdkJsonAtRun: string }[] = [];
  return {
    calls,
    run: async (_command, args) => {
      calls.push({ args, cdkJsonAtRun: fs.readFileSync(cdkJson, 'utf8') });
      if (exitCode === 0 && !aws.stacks.some((s) => s.StackName === 'GeuseDev-web')) {
        aws.addDeployment({ name: 'web', tier: 'dev', dataStatus: null, host: { id: 'i-new' } });
        hostAnswers('i-new');
      }
      return { exitCode };
    },
  };
}

const resource = (logicalId: string, type: string, physicalId: string, status = 'CREATE_COMPLETE'): StackResourceSummary => ({
  LogicalResourceId: logicalId,
  PhysicalResourceId: physicalId,
  ResourceType: type,
  ResourceStatus: status as never,
  LastUpdatedTimestamp: new Date('2025-01-12T08:00:00Z'),
});

/** The data stack is deleted; its file system (tagged, retained by the stack) and its secrets remain. */
function dataStackDeleted(): void {
  data.addDeletedStack('GeuseDev-web', '2025-01-12T08:00:00Z');
  data.addDeletedStack('GeuseData-web', '2025-01-12T08:10:00Z', [resource('FileSystem8A8E25C0', 'AWS::EFS::FileSystem', FS_ID, 'DELETE_SKIPPED')]);
  data.fileSystems.push(fileSystemOf(FS_ID, { deployment: 'web' }));
  data.addSecrets('web');
}

describe('defect 12: retained secrets are found whatever else is gone', () => {
  it('file system gone, the stored secrets retained (one scheduled for deletion): the ways out, one line each; exit 1, nothing done', async () => {
    data.addDeletedStack('GeuseData-web', '2025-01-12T08:10:00Z', [resource('FileSystem8A8E25C0', 'AWS::EFS::FileSystem', FS_ID, 'DELETE_SKIPPED')]);
    data.addSecrets('web');
    data.secrets.get('geusemaker/web/n8n-encryption-key')!.deletedDate = new Date('2025-02-11T08:10:00Z');
    const { code, stdout, stderr } = await restore({ processRunner: cdkRunner() }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toContain('n8n-encryption-key scheduled for deletion on 2025-02-11 08:10:00Z');
    expect(stdout).toContain(
      'Found: GeuseData-web and its file system are gone, but 2 secrets named geusemaker/web/* (1 scheduled for deletion) are retained: restore has no data to rebuild on, and their names block a fresh data stack.',
    );
    expect(stdout).toContain('       aws secretsmanager restore-secret --secret-id geusemaker/web/n8n-encryption-key --region eu-west-1\n');
    expect(stdout).not.toContain('restore-secret --secret-id geusemaker/web/n8n-owner-password');
    expect(stdout).toContain('       aws secretsmanager delete-secret --secret-id geusemaker/web/n8n-owner-password --force-delete-without-recovery --region eu-west-1\n');
    expect(stdout).not.toContain('postgres-password');
    expect(stdout).toContain('       AWS_REGION=eu-west-1 npx cdk deploy GeuseDev-web -c name=web -c tier=dev\n');
    expect(stderr).toBe(
      'gm-ops: the data of "web" is gone but 2 of its secrets are retained: restore cannot rebuild without a file system — choose one of the ways out above\n',
    );
    expect(data.restoredSecrets).toEqual([]);
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(jsonText(HAND_WRITTEN));
  });

  it('the same with legacy secrets of the derived purposes (two scheduled for deletion): each is named in the ways out too', async () => {
    data.addDeletedStack('GeuseData-web', '2025-01-12T08:10:00Z', [resource('FileSystem8A8E25C0', 'AWS::EFS::FileSystem', FS_ID, 'DELETE_SKIPPED')]);
    data.addSecrets('web', { legacy: true });
    data.secrets.get('geusemaker/web/n8n-encryption-key')!.deletedDate = new Date('2025-02-11T08:10:00Z');
    data.secrets.get('geusemaker/web/qdrant-api-key')!.deletedDate = new Date('2025-02-11T08:10:00Z');
    const { code, stdout, stderr } = await restore({ processRunner: cdkRunner() }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toContain('legacy postgres-password ok, n8n-jwt-secret ok, qdrant-api-key scheduled for deletion on 2025-02-11 08:10:00Z, crawl4ai-api-token ok (kept from before the host derived them: their values win on the host)');
    expect(stdout).toContain('but 6 secrets named geusemaker/web/* (2 scheduled for deletion) are retained');
    expect(stdout).toContain('       aws secretsmanager restore-secret --secret-id geusemaker/web/qdrant-api-key --region eu-west-1\n');
    expect(stdout).toContain('       aws secretsmanager delete-secret --secret-id geusemaker/web/postgres-password --force-delete-without-recovery --region eu-west-1\n');
    expect(stderr).toBe(
      'gm-ops: the data of "web" is gone but 6 of its secrets are retained: restore cannot rebuild without a file system — choose one of the ways out above\n',
    );
  });

  it('a data stack whose creation failed (the names were taken): names the retained secrets and the way out', async () => {
    aws.addStack(stackOf('GeuseData-web', 'ROLLBACK_COMPLETE', {}, { 'geuse:deployment': 'web', 'geuse:tier': 'data' }));
    data.addSecrets('web');
    data.secrets.get('geusemaker/web/n8n-owner-password')!.deletedDate = new Date('2025-02-11T08:10:00Z');
    const { code, stdout, stderr } = await restore({}, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'gm-ops: GeuseData-web is ROLLBACK_COMPLETE: its creation failed, and 2 secrets named geusemaker/web/* (1 scheduled for deletion) are retained from an earlier data stack: a new data stack cannot take their names — run `aws cloudformation delete-stack --stack-name GeuseData-web --region eu-west-1` (it holds no data), then `gm-ops restore web`: it rebuilds the data stack around the retained data and secrets (a plain cdk deploy would fail the same way)\n',
    );
  });

  it('the same through the real entry point: the ways out on stdout, one line on stderr, no action', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-retained-bin-'));
    try {
      const result = await gmOpsWithFakeAws(
        tmp,
        {
          stacks: [],
          deletedStacks: [{ name: 'GeuseData-web', deletedAt: '2025-01-12T08:10:00Z', resources: [{ logicalId: 'FileSystem8A8E25C0', type: 'AWS::EFS::FileSystem', physicalId: FS_ID, status: 'DELETE_SKIPPED' }] }],
          fileSystems: [],
          secrets: [
            ...['postgres-password', 'n8n-jwt-secret', 'qdrant-api-key', 'crawl4ai-api-token', 'n8n-owner-password'].map((p) => `geusemaker/web/${p}`),
            { name: 'geusemaker/web/n8n-encryption-key', deletedDate: '2025-02-11T08:10:00Z' },
          ],
        },
        ['restore', 'web', '--yes'],
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('aws secretsmanager restore-secret --secret-id geusemaker/web/n8n-encryption-key --region eu-west-1');
      expect(result.stderr.trim().split('\n')).toEqual(['gm-ops: the data of "web" is gone but 6 of its secrets are retained: restore cannot rebuild without a file system — choose one of the ways out above']);
      expect(result.actions()).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('defect 17: the retained file system becomes part of the saved configuration', () => {
  it('rebuild: writes retainedData into the deployment\'s cdk.json entry before deploying; every other key as it was; no -c needed', async () => {
    dataStackDeleted();
    const runner = cdkRunner();
    const { code, stdout, stderr } = await restore({ processRunner: runner }, 'web', '--yes');
    expect(code).toBe(0);
    expect(stdout).toContain(`  Saved config   ${FS_ID} will be written to "geusemaker:deployments" > "web" > "retainedData" in ${cdkJson} before deploying`);
    const expected = structuredClone(HAND_WRITTEN);
    (expected.context['geusemaker:deployments'].web as Record<string, unknown>).retainedData = { fileSystemId: FS_ID };
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(jsonText(expected));
    // Written before cdk ran, and the command carries no -c retainedFileSystemId.
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0].cdkJsonAtRun).toBe(jsonText(expected));
    expect(runner.calls[0].args).toEqual(['cdk', 'deploy', 'GeuseData-web', 'GeuseDev-web', '-c', 'name=web', '-c', 'tier=dev', '--require-approval', 'never']);
    expect(stderr).toContain(`gm-ops: ${cdkJson}: "web" now keeps retainedData.fileSystemId ${FS_ID}`);
    expect(fs.readdirSync(project)).toEqual(['cdk.json']);
  });

  it('idempotent: a second run (the first deploy failed) finds it saved and leaves cdk.json byte for byte', async () => {
    dataStackDeleted();
    expect((await restore({ processRunner: cdkRunner(1) }, 'web', '--yes')).code).toBe(1);
    const afterFirst = fs.readFileSync(cdkJson, 'utf8');
    expect(JSON.parse(afterFirst).context['geusemaker:deployments'].web.retainedData).toEqual({ fileSystemId: FS_ID });
    const second = await restore({ processRunner: cdkRunner() }, 'web', '--yes');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`  Saved config   "geusemaker:deployments" > "web" > "retainedData" in ${cdkJson} already names ${FS_ID}`);
    expect(second.stderr).not.toContain('now keeps');
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(afterFirst);
  });

  it('a deployment declared with -c only (no entry in cdk.json): prints the exact entry to add and stops; nothing done', async () => {
    const withoutWeb = structuredClone(HAND_WRITTEN) as { context: { 'geusemaker:deployments': Record<string, unknown> } };
    delete withoutWeb.context['geusemaker:deployments'].web;
    fs.writeFileSync(cdkJson, jsonText(withoutWeb));
    dataStackDeleted();
    data.secrets.get('geusemaker/web/n8n-owner-password')!.deletedDate = new Date('2025-02-11T08:10:00Z');
    const runner = cdkRunner();
    const { code, stdout, stderr } = await restore({ processRunner: runner }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toContain(
      `The retained file system must be in the saved configuration first: add this entry to cdk.json, in "context" > "geusemaker:deployments":\n    "web": { "tier": "dev", "retainedData": { "fileSystemId": "${FS_ID}" } }\nthen run gm-ops restore web again.\n`,
    );
    expect(stderr).toBe(
      `gm-ops: the retained file system ${FS_ID} cannot be saved in the deployment's configuration: "web" is not declared in ${cdkJson}, under "context" > "geusemaker:deployments" (declared with -c only?) — add the lines above to cdk.json, then run restore again; nothing was done\n`,
    );
    expect(runner.calls).toEqual([]);
    expect(data.restoredSecrets).toEqual([]);
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(jsonText(withoutWeb));
  });

  it('cdk.json already names another file system for the deployment: not overwritten; the line to put instead', async () => {
    const other = structuredClone(HAND_WRITTEN);
    (other.context['geusemaker:deployments'].web as Record<string, unknown>).retainedData = { fileSystemId: 'fs-0bbbbbbbbbbbbbbbb' };
    fs.writeFileSync(cdkJson, jsonText(other));
    dataStackDeleted();
    const { code, stdout, stderr } = await restore({ processRunner: cdkRunner() }, 'web', '--yes');
    expect(code).toBe(1);
    expect(stdout).toContain(`add to cdk.json, in "context" > "geusemaker:deployments" > "web":\n    "retainedData": { "fileSystemId": "${FS_ID}" }\n`);
    expect(stderr).toMatch(new RegExp(`keeps file system fs-0bbbbbbbbbbbbbbbb for "web", not ${FS_ID}: restore does not overwrite it — add the lines above`));
    expect(fs.readFileSync(cdkJson, 'utf8')).toBe(jsonText(other));
  });

  it('a cdk.json that is not writable: the line to add, nothing done', async () => {
    dataStackDeleted();
    fs.chmodSync(cdkJson, 0o444);
    // root ignores file modes: answer as the kernel answers any other user of a 0444 file.
    // The module object itself: the namespace import's bindings are read-only getters onto it.
    const nodeFs: typeof fs = require('node:fs');
    const realAccess = nodeFs.accessSync;
    const access = jest.spyOn(nodeFs, 'accessSync').mockImplementation((file, mode) => {
      if (file === cdkJson && mode !== undefined && (mode & fs.constants.W_OK) !== 0) {
        throw Object.assign(new Error(`EACCES: permission denied, access '${cdkJson}'`), { code: 'EACCES' });
      }
      realAccess(file, mode);
    });
    try {
      const runner = cdkRunner();
      const { code, stderr } = await restore({ processRunner: runner }, 'web', '--yes');
      expect(code).toBe(1);
      expect(stderr).toContain(`${cdkJson} is not writable`);
      expect(runner.calls).toHaveLength(0);
      expect(fs.readFileSync(cdkJson, 'utf8')).toBe(jsonText(HAND_WRITTEN));
    } finally {
      access.mockRestore();
    }
  });

  describe('redeploy compute after such a restore (the data stack mounts a retained file system)', () => {
    beforeEach(() => {
      aws.addStack(stackOf('GeuseData-web', 'CREATE_COMPLETE', { FileSystemId: FS_ID }, { 'geuse:deployment': 'web', 'geuse:tier': 'data' }));
      // What CloudFormation lists for a data stack rebuilt around a retained file system: mount targets, no file system.
      data.stackResources.set('GeuseData-web', [
        resource('MountTarget1', 'AWS::EFS::MountTarget', 'fsmt-0a1'),
        resource('MountTarget2', 'AWS::EFS::MountTarget', 'fsmt-0a2'),
        resource('FileSystemSecurityGroup1A2B3C4D', 'AWS::EC2::SecurityGroup', 'sg-0fs'),
      ]);
      data.addDeletedStack('GeuseDev-web', '2025-01-14T08:00:00Z');
    });

    it('cdk.json lacks it (restored by an older gm-ops or by hand with -c): saved before cdk deploy of the compute stack', async () => {
      const runner = cdkRunner();
      const { code, stdout } = await restore({ processRunner: runner }, 'web', '--yes');
      expect(code).toBe(0);
      expect(stdout).toContain(`  Data stack on  ${FS_ID}, a retained file system (GeuseData-web was rebuilt around it)`);
      expect(stdout).toContain(`  1. Keep ${FS_ID} in the deployment's saved configuration`);
      expect(runner.calls[0].args).toEqual(['cdk', 'deploy', 'GeuseDev-web', '-c', 'name=web', '-c', 'tier=dev', '--require-approval', 'never']);
      expect(JSON.parse(runner.calls[0].cdkJsonAtRun).context['geusemaker:deployments'].web.retainedData).toEqual({ fileSystemId: FS_ID });
    });

    it('cdk.json carries it already: the same plain cdk deploy, the file untouched', async () => {
      const saved = structuredClone(HAND_WRITTEN);
      (saved.context['geusemaker:deployments'].web as Record<string, unknown>).retainedData = { fileSystemId: FS_ID };
      fs.writeFileSync(cdkJson, jsonText(saved));
      const runner = cdkRunner();
      const { code, stdout } = await restore({ processRunner: runner }, 'web', '--yes');
      expect(code).toBe(0);
      expect(stdout).toContain('already names');
      expect(runner.calls[0].args).not.toContain(`retainedFileSystemId=${FS_ID}`);
      expect(fs.readFileSync(cdkJson, 'utf8')).toBe(jsonText(saved));
    });
  });
});
