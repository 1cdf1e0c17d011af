/**
 * The publisher's AWS calls through the AWS SDK for JavaScript v3 that the Lambda Node.js runtime includes
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html), so the function ships no dependency.
 * Only the fields used are typed here.
 */
import type { PublisherDeps } from './publisher';
import type { ReaderResult } from './reader';

interface Sender { send(command: unknown): Promise<Record<string, unknown>> }
type ClientClass = new (config: Record<string, unknown>) => Sender;
type CommandClass = new (input: unknown) => unknown;

function sdk(module: string, client: string, command: string): { client: ClientClass; command: CommandClass } {
  const loaded = require(module) as Record<string, unknown>;
  return { client: loaded[client] as ClientClass, command: loaded[command] as CommandClass };
}

/** How long a warm function reuses the auth token it read (GetSecretValue costs $0.05 per 10,000 calls). */
export const SECRET_CACHE_MS = 15 * 60 * 1000;

let clients: { secrets: Sender; lambda: Sender; ecs: Sender; cloudwatch: Sender; commands: Record<string, CommandClass> } | undefined;
let cachedSecret: { id: string; value: string | undefined; at: number } | undefined;

export function awsPublisherDeps(readerFunction: string): PublisherDeps {
  if (!clients) {
    const secrets = sdk('@aws-sdk/client-secrets-manager', 'SecretsManagerClient', 'GetSecretValueCommand');
    const lambda = sdk('@aws-sdk/client-lambda', 'LambdaClient', 'InvokeCommand');
    const ecs = sdk('@aws-sdk/client-ecs', 'ECSClient', 'DescribeServicesCommand');
    const cloudwatch = sdk('@aws-sdk/client-cloudwatch', 'CloudWatchClient', 'PutMetricDataCommand');
    clients = {
      secrets: new secrets.client({}), lambda: new lambda.client({}), ecs: new ecs.client({}), cloudwatch: new cloudwatch.client({}),
      commands: { secrets: secrets.command, lambda: lambda.command, ecs: ecs.command, cloudwatch: cloudwatch.command },
    };
  }
  const c = clients;
  return {
    getSecretString: async (SecretId) => {
      if (cachedSecret && cachedSecret.id === SecretId && Date.now() - cachedSecret.at < SECRET_CACHE_MS) return cachedSecret.value;
      const value = (await c.secrets.send(new c.commands.secrets({ SecretId }))).SecretString as string | undefined;
      cachedSecret = { id: SecretId, value, at: Date.now() };
      return value;
    },
    readQueue: async (authToken) => {
      const out = await c.lambda.send(new c.commands.lambda({ FunctionName: readerFunction, Payload: Buffer.from(JSON.stringify({ authToken })) }));
      const payload = out.Payload ? Buffer.from(out.Payload as Uint8Array).toString('utf8') : '';
      if (out.FunctionError) return { ok: false, error: `${String(out.FunctionError)}: ${payload.slice(0, 300)}` };
      return JSON.parse(payload) as ReaderResult;
    },
    describeServices: async (input) => (await c.ecs.send(new c.commands.ecs(input))) as never,
    putMetricData: (input) => c.cloudwatch.send(new c.commands.cloudwatch(input)),
    now: () => new Date(),
    log: (line) => console.log(line),
  };
}

/** Forgets the clients and the cached token (tests). */
export function resetAwsPublisherDeps(): void {
  clients = undefined;
  cachedSecret = undefined;
}
