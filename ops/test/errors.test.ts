/** Every error a user can meet: one line on stderr with a hint, the right exit code, never a stack trace. */
import { awsError, FakeAws } from './helpers/fake-aws';
import { runWith, type RunResult } from './helpers/harness';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

function expectOneLine(result: RunResult, code: number, pattern: RegExp): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toBe('');
  expect(lines[0]).toMatch(/^gm-ops: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('AWS problems', () => {
  it('no credentials: exit 1 with a hint', async () => {
    aws.failNext.set('DescribeStacks', [awsError('CredentialsProviderError', 'Could not load credentials from any providers')]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 1, /no AWS credentials found — run `aws configure` or `aws sso login`/);
  });

  it('no region: exit 2 with a hint', async () => {
    aws.failNext.set('DescribeStacks', [new Error('Region is missing')]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 2, /no AWS region configured — pass --region, set AWS_REGION/);
  });

  it('expired credentials: exit 1', async () => {
    aws.failNext.set('DescribeStacks', [awsError('ExpiredToken', 'The security token included in the request is expired')]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 1, /AWS rejected the credentials \(ExpiredToken\) — refresh them/);
  });

  it('access denied: exit 1, naming the denied action', async () => {
    aws.failNext.set('DescribeStacks', [
      awsError('AccessDenied', 'User: arn:aws:iam::123456789012:user/bob is not authorized to perform: cloudformation:DescribeStacks'),
    ]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 1, /access denied: .*cloudformation:DescribeStacks — grant the permission AWS names above; the permissions of each command \(list, status, logs, health, cost, restore\) are in ops\/README.md/);
  });

  it('access denied on the auto scaling group during status', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-1' } });
    aws.failNext.set('DescribeAutoScalingGroups', [awsError('AccessDenied', 'not authorized to perform: autoscaling:DescribeAutoScalingGroups')]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'status', 'my-stack'), 1, /access denied: .*autoscaling:DescribeAutoScalingGroups/);
  });

  it('throttled beyond the SDK retries: exit 1', async () => {
    aws.failNext.set('DescribeStacks', [awsError('Throttling', 'Rate exceeded')]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 1, /AWS throttled the requests \(Throttling\) — wait a moment and retry/);
  });

  it('network failure: exit 1', async () => {
    aws.failNext.set('DescribeStacks', [Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' })]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 1, /cannot reach AWS/);
  });

  it('an unexpected error: one line, the stack only with GM_OPS_DEBUG', async () => {
    aws.failNext.set('DescribeStacks', [new TypeError('boom')]);
    expectOneLine(await runWith({ clients: aws.clients() }, 'list'), 1, /unexpected error: TypeError: boom — set GM_OPS_DEBUG=1/);
    aws.failNext.set('DescribeStacks', [new TypeError('boom')]);
    const debug = await runWith({ clients: aws.clients(), env: { GM_OPS_DEBUG: '1' } }, 'list');
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('deployment problems', () => {
  it('deployment not found: exit 1, suggests gm-ops list', async () => {
    for (const args of [['status', 'ghost'], ['logs', 'ghost'], ['health', 'ghost']]) {
      expectOneLine(
        await runWith({ clients: aws.clients() }, ...args),
        1,
        /^gm-ops: deployment "ghost" not found in eu-west-1 — run `gm-ops list` to see the deployments/,
      );
    }
  });

  it('host not running: exit 1 for logs', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-9', state: 'stopped' } });
    expectOneLine(
      await runWith({ clients: aws.clients() }, 'logs', 'my-stack'),
      1,
      /deployment "my-stack" has no running host \(instance i-9 is stopped\) — see `gm-ops status my-stack`/,
    );
  });

  it('no host at all / data stack only: exit 1 for logs', async () => {
    aws.addDeployment({ name: 'empty', host: null });
    expectOneLine(await runWith({ clients: aws.clients() }, 'logs', 'empty'), 1, /has no running host \(auto scaling group .* has no instance\)/);
  });

  it('SSM agent offline: exit 1 naming the ping status', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-7', agent: 'ConnectionLost' } });
    expectOneLine(
      await runWith({ clients: aws.clients() }, 'logs', 'my-stack'),
      1,
      /host i-7 is not reachable through SSM: its SSM agent lost the connection \(PingStatus ConnectionLost\) — the SSM agent may still be starting/,
    );
    aws.addDeployment({ name: 'fresh', host: { id: 'i-8', agent: 'NotRegistered' } });
    expectOneLine(await runWith({ clients: aws.clients() }, 'logs', 'fresh'), 1, /its SSM agent has not registered/);
  });
});

describe('a host script that fails outright', () => {
  const failing = { stdout: '', status: 'Failed' as const, exitCode: 1, stderr: '\nmktemp: failed to create file via template: No space left on device\n' };

  it('logs: exit 1 naming the host, the exit code and the reason', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-full' } });
    aws.hosts.set('i-full', () => failing);
    expectOneLine(
      await runWith({ clients: aws.clients() }, 'logs', 'my-stack'),
      1,
      /the gm-ops script failed on host i-full \(exit 1\): mktemp: failed to create file via template: No space left on device/,
    );
  });

  it('status and health report it instead of pretending every container is missing', async () => {
    aws.addDeployment({ name: 'my-stack', host: { id: 'i-full' } });
    aws.hosts.set('i-full', () => failing);
    const status = await runWith({ clients: aws.clients() }, 'status', 'my-stack');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('not read: the gm-ops script failed on host i-full (exit 1)');
    expect(status.stdout).not.toMatch(/n8n\s+missing/);
    const health = await runWith({ clients: aws.clients() }, 'health', 'my-stack');
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/my-stack\s+host\s+ssm\s+FAIL\s+-\s+the gm-ops script failed on host i-full/);
  });
});

describe('usage errors: exit 2, one line naming what was wrong and what is allowed', () => {
  const cases: [string[], RegExp][] = [
    [['bogus'], /unknown command "bogus" — commands: list, status, logs, health/],
    [['list', '--bogus'], /unknown option "--bogus" — see `gm-ops list --help`/],
    [['status'], /missing the deployment name/],
    [['status', 'a', 'b'], /unexpected argument "b"/],
    [['status', 'My_Stack'], /invalid deployment name: .*lowercase letters, digits and hyphens.*\(got "My_Stack"\)/],
    [['logs', 'x', '--tail', 'many'], /Invalid value for --tail: expected a whole number of lines from 0 to 100000 \(got "many"\)/],
    [['logs', 'x', '--service', 'redis'], /unknown service "redis"; allowed: n8n, postgres, ollama, qdrant, crawl4ai, bootstrap/],
    [['logs', 'x', '--since', 'last week'], /Invalid value for --since: got "last week"; use a duration like 30s/],
    [['logs', 'x', '--since', '0m'], /the duration must be more than zero/],
    [['health', '--interval', '10ms'], /--interval: expected a duration between 1s and 3600s \(got "10ms"\)/],
    [['health', '--timeout', 'soon'], /--timeout: expected a duration like 500ms, 10s or 2m/],
    [['health', 'UPPER'], /invalid deployment name: .*\(got "UPPER"\)/],
    [['list', '--region', 'moon-1'], /--region: expected an AWS region like eu-west-1 \(got "moon-1"\)/],
  ];
  it.each(cases)('%j', async (args, pattern) => {
    expectOneLine(await runWith({ clients: aws.clients() }, ...args), 2, pattern);
    expect(aws.cfn.calls()).toHaveLength(0);
  });
});
