/** `gm-ops drift`: CloudFormation drift on both stacks plus drift on the host, through the CLI. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DetectStackDriftCommand,
  type StackResourceDrift,
} from '@aws-sdk/client-cloudformation';
import { hostDriftScript, parseHostDrift } from '../src/drift/host-drift';
import { FakeAws, REGION } from './helpers/fake-aws';
import { runWith } from './helpers/harness';
import { tokenOf } from './helpers/host-output';

const COMPUTE = 'GeuseDev-my-stack';
const PINNED: Record<string, string> = {
  postgres: 'postgres:17.9-alpine',
  ollama: 'ollama/ollama:0.33.1',
  qdrant: 'qdrant/qdrant:v1.19.0',
  n8n: 'n8nio/n8n:2.36.9',
  crawl4ai: 'unclecode/crawl4ai:0.9.3',
};

let aws: FakeAws;
/** Stack name -> its drift (absent: in sync). */
let drifts: Map<string, StackResourceDrift[]>;
let polls: number;

function hostOutput(token: string, running: Record<string, { image: string; hash: string }>, expected: Record<string, string>): string {
  const m = `@@gm-ops:${token}`;
  return [
    ...Object.entries(running).map(([service, c]) => `${m} running\t${service}\t${c.image}\t${c.hash}`),
    ...Object.entries(PINNED).map(([service, image]) => `${m} pinned\t${service}\t${image}`),
    ...Object.entries(expected).map(([service, hash]) => `${m} expected-hash\t${service}\t${hash}`),
    `${m} end`,
  ].join('\n');
}
const allRunning = () => Object.fromEntries(Object.entries(PINNED).map(([s, image]) => [s, { image, hash: `h-${s}` }]));
const allHashes = () => Object.fromEntries(Object.keys(PINNED).map((s) => [s, `h-${s}`]));

beforeEach(() => {
  aws = new FakeAws();
  drifts = new Map();
  polls = 0;
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-1' } });
  aws.cfn.on(DetectStackDriftCommand).callsFake((input) => ({ StackDriftDetectionId: `detect-${input.StackName}` }));
  aws.cfn.on(DescribeStackDriftDetectionStatusCommand).callsFake((input) => {
    const stackName = String(input.StackDriftDetectionId).replace('detect-', '');
    polls += 1;
    const base = {
      StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/${stackName}/0000`,
      StackDriftDetectionId: input.StackDriftDetectionId,
      Timestamp: new Date('2025-01-15T12:00:00Z'),
    };
    // The first poll of each detection is still running, as it usually is.
    if (polls <= 2) return { ...base, DetectionStatus: 'DETECTION_IN_PROGRESS' };
    const drifted = drifts.get(stackName) ?? [];
    return { ...base, DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: drifted.length ? 'DRIFTED' : 'IN_SYNC', DriftedStackResourceCount: drifted.length };
  });
  aws.cfn.on(DescribeStackResourceDriftsCommand).callsFake((input) => ({ StackResourceDrifts: drifts.get(input.StackName) ?? [] }));
  aws.hosts.set('i-1', (script) => hostOutput(tokenOf(script), allRunning(), allHashes()));
});
afterEach(() => aws.restore());

describe('gm-ops drift', () => {
  it('a clean deployment: both stacks in sync, every container as pinned; exit 0', async () => {
    const result = await runWith({ clients: aws.clients() }, 'drift', 'my-stack');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^GeuseDev-my-stack {2}in sync$/m);
    expect(result.stdout).toMatch(/^GeuseData-my-stack {2}in sync$/m);
    expect(result.stdout).toMatch(/^ {2}n8n\s+in sync\s+n8nio\/n8n:2\.36\.9\s+n8nio\/n8n:2\.36\.9$/m);
    expect(result.stdout).toContain('no drift');
  });

  it('a drifted stack: its resources and properties; exit 1', async () => {
    drifts.set(COMPUTE, [
      {
        StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/${COMPUTE}/0000`,
        LogicalResourceId: 'HostGroup',
        PhysicalResourceId: 'GeuseDev-my-stack-HostGroup-ABC',
        ResourceType: 'AWS::AutoScaling::AutoScalingGroup',
        StackResourceDriftStatus: 'MODIFIED',
        PropertyDifferences: [{ PropertyPath: '/MaxSize', ExpectedValue: '1', ActualValue: '2', DifferenceType: 'NOT_EQUAL' }],
        Timestamp: new Date('2025-01-15T12:00:00Z'),
      },
    ]);
    const result = await runWith({ clients: aws.clients() }, 'drift', 'my-stack');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^GeuseDev-my-stack {2}DRIFTED$/m);
    expect(result.stdout).toContain('  HostGroup (AWS::AutoScaling::AutoScalingGroup) MODIFIED\n    /MaxSize: expected 1, actual 2 (NOT_EQUAL)\n');
    expect(result.stdout).toMatch(/^GeuseData-my-stack {2}in sync$/m);
    expect(result.stdout).toContain('drift found');
    const filters = aws.cfn.commandCalls(DescribeStackResourceDriftsCommand).map((c) => c.args[0].input);
    expect(filters).toEqual([{ StackName: COMPUTE, StackResourceDriftStatusFilters: ['MODIFIED', 'DELETED'], NextToken: undefined }]);
  });

  it('a container on another image than the compose file pins, another with a changed config: host drift, exit 1, --json', async () => {
    const running = allRunning();
    running.n8n = { image: 'n8nio/n8n:latest', hash: 'h-n8n' };
    running.qdrant = { image: PINNED.qdrant, hash: 'stale' };
    aws.hosts.set('i-1', (script) => hostOutput(tokenOf(script), running, allHashes()));
    const result = await runWith({ clients: aws.clients() }, 'drift', 'my-stack', '--json');
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.drifted).toBe(true);
    expect(doc.stacks.map((s: { status: string }) => s.status)).toEqual(['IN_SYNC', 'IN_SYNC']);
    expect(doc.host.report.containers).toEqual(
      expect.arrayContaining([
        { service: 'n8n', state: 'image drift', runningImage: 'n8nio/n8n:latest', pinnedImage: PINNED.n8n },
        { service: 'qdrant', state: 'config drift', runningImage: PINNED.qdrant, pinnedImage: PINNED.qdrant },
        { service: 'postgres', state: 'in sync', runningImage: PINNED.postgres, pinnedImage: PINNED.postgres },
      ]),
    );
  });

  it('waits through the injected sleep, bounded by --timeout', async () => {
    aws.cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ StackDriftDetectionId: 'x', StackId: 'x', DetectionStatus: 'DETECTION_IN_PROGRESS', Timestamp: new Date() });
    const result = await runWith({ clients: aws.clients() }, 'drift', 'my-stack', '--timeout', '10s');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^gm-ops: drift detection on GeuseDev-my-stack did not end in time \(detect-GeuseDev-my-stack\)/);
  });
});

describe('the host drift script under sh, against the real compose file', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-drift-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads the pins of docker/compose.yml and the running containers from docker', () => {
    const runtime = path.join(tmp, 'runtime');
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(runtime, { recursive: true });
    fs.mkdirSync(bin, { recursive: true });
    fs.copyFileSync(path.join(__dirname, '..', '..', 'docker', 'compose.yml'), path.join(runtime, 'compose.yml'));
    // docker: `ps -q` lists two containers; `inspect --format` prints what the real template would.
    fs.writeFileSync(
      path.join(bin, 'docker'),
      [
        '#!/bin/sh',
        'case "$1" in',
        '  ps) printf "c1\\nc2\\n" ;;',
        '  inspect) fmt=$3; for svc in n8n qdrant; do printf "%s\\n" "$fmt" | sed -e "s/{{index .Config.Labels \\"com.docker.compose.service\\"}}/$svc/" -e "s/{{.Config.Image}}/img-$svc/" -e "s/{{index .Config.Labels \\"com.docker.compose.config-hash\\"}}/hash-$svc/"; done ;;',
        'esac',
      ].join('\n'),
      { mode: 0o755 },
    );
    const token = 'abcdef12';
    const stdout = execFileSync('sh', ['-c', hostDriftScript(token, runtime)], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
    const report = parseHostDrift(stdout, token);
    expect(report.hashesChecked).toBe(false); // no lib.sh in this runtime directory
    expect(report.containers).toEqual([
      { service: 'crawl4ai', state: 'not running', pinnedImage: PINNED.crawl4ai },
      { service: 'n8n', state: 'image drift', runningImage: 'img-n8n', pinnedImage: PINNED.n8n },
      { service: 'ollama', state: 'not running', pinnedImage: PINNED.ollama },
      { service: 'postgres', state: 'not running', pinnedImage: PINNED.postgres },
      { service: 'qdrant', state: 'image drift', runningImage: 'img-qdrant', pinnedImage: PINNED.qdrant },
    ]);
  });
});
