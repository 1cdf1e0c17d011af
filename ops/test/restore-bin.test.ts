/**
 * `gm-ops restore` through the real entry point (bin/gm-ops.js), AWS mocked in the child by a preload:
 * exit codes, stdout and stderr as a person sees them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gmOps, bareEnv, gmOpsWithFakeAws } from './helpers/spawn-bin';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-restore-bin-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const deployment = (hostState: string) => ({
  stacks: [
    { name: 'GeuseDev-web', status: 'CREATE_COMPLETE', outputs: { AutoScalingGroupName: 'asg-web', Tier: 'dev' }, tags: { 'geuse:deployment': 'web', 'geuse:tier': 'dev' } },
    { name: 'GeuseData-web', status: 'CREATE_COMPLETE', outputs: { FileSystemId: 'fs-0123456789abcdef0' }, tags: { 'geuse:deployment': 'web', 'geuse:tier': 'data' } },
  ],
  groups: { 'asg-web': { instances: [{ id: 'i-0abc' }] } },
  instances: { 'i-0abc': { state: hostState, spot: true, az: 'eu-west-1a' } },
  healthyHosts: hostState === 'running' ? ['i-0abc'] : [],
});

describe('gm-ops restore (real entry point)', () => {
  it('--help: usage and examples', async () => {
    const result = await gmOps(['restore', '--help'], { env: bareEnv(tmp), cwd: tmp });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('$ gm-ops restore <name>');
    expect(result.stdout).toContain('Examples');
  });

  it('a healthy deployment: nothing to restore, exit 0 (probed through SSM)', async () => {
    const result = await gmOpsWithFakeAws(tmp, deployment('running'), ['restore', 'web', '--yes']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Nothing to restore: every service of web is healthy on i-0abc.');
    expect(result.actions()).toEqual([]);
  });

  it('a stopped host, no --yes, not a terminal: the plan on stdout, exit 1, the hint on stderr, nothing done', async () => {
    const result = await gmOpsWithFakeAws(tmp, deployment('stopped'), ['restore', 'web']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Found: host i-0abc is stopped.');
    expect(result.stdout).toContain('1. Terminate i-0abc through asg-web (TerminateInstanceInAutoScalingGroup, desired capacity stays 1)');
    expect(result.stderr).toBe('gm-ops: not confirmed: nothing done — rerun with --yes to carry out this plan: gm-ops restore web --yes\n');
    expect(result.actions()).toEqual([]);
  });

  it('data stack deleted, file system and secrets retained, outside the project: the exact command, exit 1', async () => {
    const fixture = {
      stacks: [],
      deletedStacks: [
        { name: 'GeuseAutomation-web', deletedAt: '2025-01-12T08:00:00Z' },
        { name: 'GeuseData-web', deletedAt: '2025-01-12T08:10:00Z', resources: [{ logicalId: 'FileSystem8A8E25C0', type: 'AWS::EFS::FileSystem', physicalId: 'fs-0123456789abcdef0', status: 'DELETE_SKIPPED' }] },
      ],
      fileSystems: [{ id: 'fs-0123456789abcdef0', deployment: 'web', sizeBytes: 2147483648 }],
      secrets: ['postgres-password', 'n8n-encryption-key', 'n8n-jwt-secret', 'qdrant-api-key', 'crawl4ai-api-token', 'n8n-owner-password'].map((p) => `geusemaker/web/${p}`),
    };
    const result = await gmOpsWithFakeAws(tmp, fixture, ['restore', 'web', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Found: GeuseData-web is gone; its file system fs-0123456789abcdef0 and its secrets are retained.');
    expect(result.stdout).toContain(
      '  AWS_REGION=eu-west-1 npx cdk deploy GeuseData-web GeuseAutomation-web -c name=web -c tier=automation --require-approval never',
    );
    expect(result.stderr).toBe('gm-ops: not inside the GeuseMaker project: gm-ops cannot run cdk deploy from here — run the command above in a checkout (or run gm-ops restore web from one)\n');
  });

  it('nothing at all: exit 1, one line saying what was searched', async () => {
    const result = await gmOpsWithFakeAws(tmp, { stacks: [], fileSystems: [] }, ['restore', 'ghost']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/^gm-ops: nothing retained found for "ghost" in eu-west-1: no stack, no retained EFS file system and no secret \(searched 0 EFS file systems for the tag geuse:deployment=ghost; the CloudFormation history \(no deleted GeuseData-ghost stack\); the secrets geusemaker\/ghost\/<purpose>, including those scheduled for deletion\) — check the region/);
    expect(result.stderr.split('\n')).toHaveLength(2);
  });
});
