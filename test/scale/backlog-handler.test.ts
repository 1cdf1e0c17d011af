/**
 * The backlog publisher's Lambda entry point with the AWS SDK the Lambda runtime ships replaced by recording fakes
 * (jest virtual modules: the runtime's SDK is not in this repository's node_modules): which calls it makes with which
 * inputs, how it reads the reader's answer, and that a failure anywhere publishes nothing and logs one line.
 */
type Sent = { client: string; command: string; input: Record<string, unknown> };
const sent: Sent[] = [];
const answers: Record<string, (input: Record<string, unknown>) => unknown> = {};

function fakeSdk(client: string, command: string) {
  return {
    [client]: class { async send(c: { name: string; input: Record<string, unknown> }) { sent.push({ client, command: c.name, input: c.input }); return answers[c.name](c.input); } },
    [command]: class { name = command; constructor(public input: Record<string, unknown>) {} },
  };
}
jest.mock('@aws-sdk/client-secrets-manager', () => fakeSdk('SecretsManagerClient', 'GetSecretValueCommand'), { virtual: true });
jest.mock('@aws-sdk/client-lambda', () => fakeSdk('LambdaClient', 'InvokeCommand'), { virtual: true });
jest.mock('@aws-sdk/client-ecs', () => fakeSdk('ECSClient', 'DescribeServicesCommand'), { virtual: true });
jest.mock('@aws-sdk/client-cloudwatch', () => fakeSdk('CloudWatchClient', 'PutMetricDataCommand'), { virtual: true });

import { authTokenOf, handler } from '../../lib/scale/backlog/runtime/publisher';
import { runningCountOf } from '../../lib/scale/backlog/runtime/backlog';
import { resetAwsPublisherDeps } from '../../lib/scale/backlog/runtime/aws';

const ENV = {
  READER_FUNCTION: 'arn:aws:lambda:eu-west-1:123456789012:function:reader',
  AUTH_TOKEN_SECRET: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf',
  ECS_CLUSTER: 'arn:aws:ecs:eu-west-1:123456789012:cluster/geuse-demo',
  ECS_SERVICE: 'arn:aws:ecs:eu-west-1:123456789012:service/geuse-demo/workers',
  METRIC_NAMESPACE: 'GeuseMaker/Scale',
  DEPLOYMENT: 'demo',
};
const TOKEN = 'the-auth-token-0123456789';
const saved = process.env;
let lines: string[];

beforeEach(() => {
  sent.length = 0;
  resetAwsPublisherDeps();
  process.env = { ...saved, ...ENV };
  lines = [];
  jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => { lines.push(args.map(String).join(' ')); });
  answers.GetSecretValueCommand = () => ({ SecretString: TOKEN });
  answers.InvokeCommand = () => ({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ ok: true, counts: { waiting: 12, active: 8, delayed: 0 } })) });
  answers.DescribeServicesCommand = () => ({ services: [{ serviceArn: ENV.ECS_SERVICE, runningCount: 3 }], failures: [] });
  answers.PutMetricDataCommand = () => ({});
});
afterEach(() => {
  process.env = saved;
  jest.restoreAllMocks();
});

test('one run: the secret, the reader invoked with the token, the service described, one PutMetricData of both metrics', async () => {
  await expect(handler()).resolves.toEqual({ published: true, waiting: 12, running: 3, backlogPerWorker: 4 });
  expect(sent.map((s) => s.command)).toEqual(['GetSecretValueCommand', 'InvokeCommand', 'DescribeServicesCommand', 'PutMetricDataCommand']);
  expect(sent[0].input).toEqual({ SecretId: ENV.AUTH_TOKEN_SECRET });
  expect(sent[1].input.FunctionName).toBe(ENV.READER_FUNCTION);
  expect(JSON.parse(Buffer.from(sent[1].input.Payload as Uint8Array).toString())).toEqual({ authToken: TOKEN });
  expect(sent[2].input).toEqual({ cluster: ENV.ECS_CLUSTER, services: [ENV.ECS_SERVICE] });
  const put = sent[3].input as { Namespace: string; MetricData: Array<{ MetricName: string; Value: number; Dimensions: unknown; StorageResolution: number }> };
  expect(put.Namespace).toBe('GeuseMaker/Scale');
  expect(put.MetricData.map((d) => [d.MetricName, d.Value])).toEqual([['BacklogPerWorker', 4], ['WaitingJobs', 12]]);
  expect(put.MetricData[0].Dimensions).toEqual([{ Name: 'Deployment', Value: 'demo' }]);
  expect(put.MetricData[0].StorageResolution).toBe(60);
  expect(lines).toEqual(['backlog: 12 waiting, 8 active, 3 running workers: 4 per worker published']);
  expect(lines.join('')).not.toContain(TOKEN);
});

test.each([
  ['the reader failed (its own answer)', () => { answers.InvokeCommand = () => ({ Payload: new TextEncoder().encode(JSON.stringify({ ok: false, error: 'WRONGPASS invalid username-password pair' })) }); },
    'backlog: nothing published: reader: WRONGPASS invalid username-password pair'],
  ['the reader crashed (FunctionError)', () => { answers.InvokeCommand = () => ({ FunctionError: 'Unhandled', Payload: new TextEncoder().encode('{"errorMessage":"Task timed out after 10.00 seconds"}') }); },
    'backlog: nothing published: reader: Unhandled: {"errorMessage":"Task timed out after 10.00 seconds"}'],
  ['ECS does not know the service', () => { answers.DescribeServicesCommand = () => ({ services: [], failures: [{ arn: ENV.ECS_SERVICE, reason: 'MISSING' }] }); },
    `backlog: nothing published: ECS DescribeServices ${ENV.ECS_SERVICE}: MISSING`],
  ['access denied on the secret', () => { answers.GetSecretValueCommand = () => { throw Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }); }; },
    'backlog: nothing published: User is not authorized to perform: secretsmanager:GetSecretValue'],
  ['PutMetricData throttled', () => { answers.PutMetricDataCommand = () => { throw new Error('Rate exceeded'); }; },
    'backlog: nothing published: Rate exceeded'],
])('%s: one line, nothing published', async (_case, arrange, line) => {
  arrange();
  await expect(handler()).resolves.toEqual({ published: false, error: expect.any(String) });
  expect(lines).toEqual([line]);
  const puts = sent.filter((s) => s.command === 'PutMetricDataCommand');
  expect(puts.length).toBeLessThanOrEqual(1); // only the throttled case reached PutMetricData, and it did not land
});

test('a warm function reads the secret once per 15 minutes, everything else every run', async () => {
  await handler();
  await handler();
  expect(sent.map((s) => s.command)).toEqual(['GetSecretValueCommand', 'InvokeCommand', 'DescribeServicesCommand', 'PutMetricDataCommand',
    'InvokeCommand', 'DescribeServicesCommand', 'PutMetricDataCommand']);
});

test('a missing setting: one line, no AWS call', async () => {
  delete process.env.ECS_SERVICE;
  await expect(handler()).resolves.toEqual({ published: false, error: 'ECS_SERVICE is not set' });
  expect(sent).toEqual([]);
  expect(lines).toEqual(['backlog: nothing published: ECS_SERVICE is not set']);
});

test('the token is the whole secret string, or one field of its JSON', () => {
  expect(authTokenOf('abc')).toBe('abc');
  expect(authTokenOf('{"token":"xyz"}', 'token')).toBe('xyz');
  expect(() => authTokenOf('abc', 'token')).toThrow('the auth token secret is not JSON, so it has no field token');
  expect(() => authTokenOf('{"other":"xyz"}', 'token')).toThrow('no string field token');
  expect(() => authTokenOf(undefined)).toThrow('no string value');
});

test('running count: exactly one service, a whole non-negative number', () => {
  expect(runningCountOf({ services: [{ runningCount: 0 }] }, 's')).toBe(0);
  expect(() => runningCountOf({ services: [] }, 's')).toThrow('0 services answered, expected 1');
  expect(() => runningCountOf({ services: [{}] }, 's')).toThrow('runningCount: not a count');
});
