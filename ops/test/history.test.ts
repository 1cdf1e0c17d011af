/** `gm-ops history`: stack events grouped into operations, newest first, through the CLI. */
import { eventOf, FakeAws } from './helpers/fake-aws';
import { runWith } from './helpers/harness';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

const COMPUTE = 'GeuseDev-my-stack';
const DATA = 'GeuseData-my-stack';
const STACK = 'AWS::CloudFormation::Stack';
const GROUP = 'AWS::AutoScaling::AutoScalingGroup';

/** Minutes from 2025-01-15T10:00Z, newest first as DescribeStackEvents returns them. */
function computeEvents() {
  return [
    // update that succeeded
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_COMPLETE', 207),
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 206),
    eventOf(COMPUTE, 'HostGroup', GROUP, 'UPDATE_COMPLETE', 205),
    eventOf(COMPUTE, 'HostGroup', GROUP, 'UPDATE_IN_PROGRESS', 201),
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_IN_PROGRESS', 200, 'User Initiated'),
    // update rolled back: the host never signalled
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_COMPLETE', 152),
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 150),
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_IN_PROGRESS', 141, 'The following resource(s) failed to update: [HostGroup]. '),
    eventOf(COMPUTE, 'HostRole', 'AWS::IAM::Role', 'UPDATE_FAILED', 141, 'Resource update cancelled'),
    eventOf(COMPUTE, 'HostGroup', GROUP, 'UPDATE_FAILED', 140, 'Failed to receive 1 resource signal(s) within the specified duration'),
    eventOf(COMPUTE, 'HostGroup', GROUP, 'UPDATE_IN_PROGRESS', 103),
    eventOf(COMPUTE, 'HostLaunchTemplate', 'AWS::EC2::LaunchTemplate', 'UPDATE_COMPLETE', 102),
    eventOf(COMPUTE, 'HostLaunchTemplate', 'AWS::EC2::LaunchTemplate', 'UPDATE_IN_PROGRESS', 101),
    eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_IN_PROGRESS', 100, 'User Initiated'),
    // create
    eventOf(COMPUTE, COMPUTE, STACK, 'CREATE_COMPLETE', 21),
    eventOf(COMPUTE, 'HostGroup', GROUP, 'CREATE_COMPLETE', 20),
    eventOf(COMPUTE, 'HostGroup', GROUP, 'CREATE_IN_PROGRESS', 4),
    eventOf(COMPUTE, 'HostRole', 'AWS::IAM::Role', 'CREATE_COMPLETE', 3),
    eventOf(COMPUTE, 'HostRole', 'AWS::IAM::Role', 'CREATE_IN_PROGRESS', 1),
    eventOf(COMPUTE, COMPUTE, STACK, 'CREATE_IN_PROGRESS', 0, 'User Initiated'),
  ];
}

function dataEvents() {
  return [
    eventOf(DATA, DATA, STACK, 'CREATE_COMPLETE', -5),
    eventOf(DATA, 'FileSystem', 'AWS::EFS::FileSystem', 'CREATE_COMPLETE', -6),
    eventOf(DATA, 'FileSystem', 'AWS::EFS::FileSystem', 'CREATE_IN_PROGRESS', -9),
    eventOf(DATA, DATA, STACK, 'CREATE_IN_PROGRESS', -10, 'User Initiated'),
  ];
}

beforeEach(() => {
  aws.addDeployment({ name: 'my-stack', host: { id: 'i-1' } });
  aws.events.set(COMPUTE, computeEvents());
  aws.events.set(DATA, dataEvents());
});

describe('gm-ops history', () => {
  it('both stacks, newest first: kind, start, duration, outcome, resources; exit 0', async () => {
    const result = await runWith({ clients: aws.clients() }, 'history', 'my-stack');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = result.stdout.split('\n').slice(1, 5);
    expect(rows[0]).toMatch(/^2025-01-15 13:20:00Z\s+GeuseDev-my-stack\s+update\s+7m 00s\s+succeeded\s+1$/);
    expect(rows[1]).toMatch(/^2025-01-15 11:40:00Z\s+GeuseDev-my-stack\s+update\s+52m 00s\s+rolled back\s+3$/);
    expect(rows[2]).toMatch(/^2025-01-15 10:00:00Z\s+GeuseDev-my-stack\s+create\s+21m 00s\s+succeeded\s+2$/);
    expect(rows[3]).toMatch(/^2025-01-15 09:50:00Z\s+GeuseData-my-stack\s+create\s+5m 00s\s+succeeded\s+1$/);
  });

  it("names the first failure's real cause, not the resources cancelled after it", async () => {
    const result = await runWith({ clients: aws.clients() }, 'history', 'my-stack');
    expect(result.stdout).toContain(
      '2025-01-15 11:40:00Z  GeuseDev-my-stack update: HostGroup (AWS::AutoScaling::AutoScalingGroup) UPDATE_FAILED: Failed to receive 1 resource signal(s) within the specified duration',
    );
    expect(result.stdout).not.toContain('Resource update cancelled');
  });

  it('--json: one document with every field; --limit keeps the newest', async () => {
    const result = await runWith({ clients: aws.clients() }, 'history', 'my-stack', '--json', '--limit', '2');
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.operations).toHaveLength(2);
    expect(doc.operations[1]).toEqual({
      stack: COMPUTE,
      kind: 'update',
      startedAt: '2025-01-15T11:40:00.000Z',
      endedAt: '2025-01-15T12:32:00.000Z',
      durationSeconds: 3120,
      outcome: 'rolled back',
      status: 'UPDATE_ROLLBACK_COMPLETE',
      firstFailure: {
        logicalId: 'HostGroup',
        type: GROUP,
        status: 'UPDATE_FAILED',
        reason: 'Failed to receive 1 resource signal(s) within the specified duration',
      },
      resourcesChanged: [
        { logicalId: 'HostLaunchTemplate', type: 'AWS::EC2::LaunchTemplate', status: 'UPDATE_COMPLETE' },
        { logicalId: 'HostGroup', type: GROUP, status: 'UPDATE_FAILED' },
        { logicalId: 'HostRole', type: 'AWS::IAM::Role', status: 'UPDATE_FAILED' },
      ],
    });
  });

  it('an operation still running: in progress, its duration so far', async () => {
    // The harness clock reads 2025-01-15T12:00Z: the update began 20 minutes before.
    aws.events.set(COMPUTE, [
      eventOf(COMPUTE, 'HostGroup', GROUP, 'UPDATE_IN_PROGRESS', 101),
      eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_IN_PROGRESS', 100, 'User Initiated'),
      ...computeEvents().slice(-6),
    ]);
    const result = await runWith({ clients: aws.clients() }, 'history', 'my-stack', '--json', '--limit', '1');
    const [op] = JSON.parse(result.stdout).operations;
    expect(op).toMatchObject({ kind: 'update', outcome: 'in progress', endedAt: null, durationSeconds: 1200, status: 'UPDATE_IN_PROGRESS' });
  });

  it('a rollback run on its own (continue-update-rollback) is an operation of kind rollback', async () => {
    aws.events.set(COMPUTE, [
      eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_COMPLETE', 410),
      eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_IN_PROGRESS', 400, 'User Initiated'),
      eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_FAILED', 390, 'The following resource(s) failed to update: [HostGroup].'),
      eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_ROLLBACK_IN_PROGRESS', 385, 'The following resource(s) failed to update: [HostGroup].'),
      eventOf(COMPUTE, 'HostGroup', GROUP, 'UPDATE_FAILED', 384, 'Failed to receive 1 resource signal(s) within the specified duration'),
      eventOf(COMPUTE, COMPUTE, STACK, 'UPDATE_IN_PROGRESS', 380, 'User Initiated'),
    ]);
    const result = await runWith({ clients: aws.clients() }, 'history', 'my-stack', '--json', '--limit', '2');
    const ops = JSON.parse(result.stdout).operations;
    expect(ops.map((o: { kind: string; outcome: string }) => `${o.kind}:${o.outcome}`)).toEqual(['rollback:succeeded', 'update:failed']);
  });

  it('an unknown deployment: one line, exit 1', async () => {
    const result = await runWith({ clients: aws.clients() }, 'history', 'ghost');
    expect(result).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'gm-ops: deployment "ghost" not found in eu-west-1 — run `gm-ops list` to see the deployments in this region (or pass --region)\n',
    });
  });

  it('--limit 0 is refused with what is allowed (exit 2)', async () => {
    const result = await runWith({ clients: aws.clients() }, 'history', 'my-stack', '--limit', '0');
    expect(result).toMatchObject({ code: 2, stderr: 'gm-ops: Invalid value for --limit: expected a whole number from 1 to 1000 (got "0") — see `gm-ops history --help`\n' });
  });
});
