import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { runScript, runScriptOnHosts, type SsmRunOptions } from '../src/aws/ssm-run';
import { HostUnreachable, Interrupted, OpsError } from '../src/errors';
import { awsError, FakeAws } from './helpers/fake-aws';
import { FakeClock } from './helpers/harness';

let aws: FakeAws;
let clock: FakeClock;
let sleeps: number[];
let options: SsmRunOptions;

beforeEach(() => {
  aws = new FakeAws();
  clock = new FakeClock();
  sleeps = [];
  options = {
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    clock,
    comment: 'test',
    executionTimeoutSeconds: 30,
  };
  aws.addDeployment({ name: 'a', host: { id: 'i-a' } });
  aws.hosts.set('i-a', (script) => `ran: ${script.split('\n').length} lines`);
});
afterEach(() => aws.restore());

describe('runScript', () => {
  it('sends AWS-RunShellScript with the script as commands, retries InvocationDoesNotExist, returns stdout', async () => {
    aws.invocationNotYet = 3;
    const started = Date.now();
    const result = await runScript(aws.clients().ssm, 'i-a', 'echo one\necho two', options);
    expect(Date.now() - started).toBeLessThan(1000); // the waits were the injected sleep
    expect(result).toMatchObject({ instanceId: 'i-a', status: 'Success', exitCode: 0, stdout: 'ran: 2 lines' });
    const send = aws.ssm.commandCalls(SendCommandCommand)[0].args[0].input;
    expect(send).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: ['i-a'],
      Parameters: { commands: ['echo one', 'echo two'], executionTimeout: ['30'] },
    });
    // 3 × InvocationDoesNotExist, 1 × InProgress, then Success: five polls, each after a sleep.
    expect(sleeps).toHaveLength(5);
  });

  it('backs off on throttling, doubling the delay', async () => {
    aws.failNext.set('GetCommandInvocation', [awsError('ThrottlingException'), awsError('ThrottlingException'), awsError('ThrottlingException')]);
    aws.failNext.set('SendCommand', [awsError('ThrottlingException')]);
    const result = await runScript(aws.clients().ssm, 'i-a', 'true', options);
    expect(result.stdout).toBe('ran: 1 lines');
    // SendCommand throttled once (1 s), then each poll (400, 600, 800 ms ...) is followed by a
    // throttling back-off that doubles (1, 2, 4 s), then InvocationDoesNotExist, InProgress, Success.
    expect(sleeps).toEqual([1000, 400, 1000, 600, 2000, 800, 4000, 1000, 1500, 2000]);
  });

  it('explains an offline agent (InvalidInstanceId + DescribeInstanceInformation)', async () => {
    aws.agents.set('i-a', 'Inactive');
    await expect(runScript(aws.clients().ssm, 'i-a', 'true', options)).rejects.toThrow(
      new HostUnreachable('i-a', 'its SSM agent is inactive (PingStatus Inactive)'),
    );
  });

  it('reports an undeliverable command as an unreachable host', async () => {
    aws.hosts.set('i-a', () => ({ stdout: '', status: 'Failed' }));
    aws.ssm.on(require('@aws-sdk/client-ssm').GetCommandInvocationCommand).resolves({ Status: 'Failed', StatusDetails: 'Undeliverable' });
    await expect(runScript(aws.clients().ssm, 'i-a', 'true', options)).rejects.toThrow(/not reachable through SSM: the command was not delivered \(Undeliverable\)/);
  });

  it('gives up when the invocation never ends (by the injected clock)', async () => {
    aws.ssm.on(require('@aws-sdk/client-ssm').GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    await expect(runScript(aws.clients().ssm, 'i-a', 'true', { ...options, waitTimeoutMs: 20_000 })).rejects.toThrow(
      /no result from host i-a \(SSM command cmd-1\) in time/,
    );
    expect(clock.now() - Date.parse('2025-01-15T12:00:00Z')).toBeGreaterThan(20_000);
    expect(clock.now() - Date.parse('2025-01-15T12:00:00Z')).toBeLessThan(25_000);
  });

  it('returns a failed script with its exit code', async () => {
    aws.hosts.set('i-a', () => ({ stdout: 'partial', status: 'Failed', exitCode: 3 }));
    await expect(runScript(aws.clients().ssm, 'i-a', 'exit 3', options)).resolves.toMatchObject({ status: 'Failed', exitCode: 3, stdout: 'partial' });
  });

  it('stops with Interrupted when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(runScript(aws.clients().ssm, 'i-a', 'true', { ...options, signal: controller.signal })).rejects.toThrow(Interrupted);
  });
});

describe('runScriptOnHosts', () => {
  it('sends one command to every online host and maps offline hosts to errors', async () => {
    aws.addDeployment({ name: 'b', host: { id: 'i-b' } });
    aws.addDeployment({ name: 'c', host: { id: 'i-c', agent: 'ConnectionLost' } });
    aws.hosts.set('i-b', () => 'bee');
    const results = await runScriptOnHosts(aws.clients().ssm, ['i-a', 'i-b', 'i-c'], 'hostname', options);
    expect(aws.ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(aws.ssm.commandCalls(SendCommandCommand)[0].args[0].input.InstanceIds).toEqual(['i-a', 'i-b']);
    expect(results.get('i-a')).toMatchObject({ stdout: 'ran: 1 lines' });
    expect(results.get('i-b')).toMatchObject({ stdout: 'bee' });
    const offline = results.get('i-c');
    expect(offline).toBeInstanceOf(OpsError);
    expect((offline as OpsError).message).toContain('PingStatus ConnectionLost');
  });
});
