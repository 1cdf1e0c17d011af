/**
 * The AWS clients a command may use, created on first use. Nothing here loads the AWS SDK at import
 * time: `gm-ops --help` must not pay for it.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { PricingClient } from '@aws-sdk/client-pricing';
import type { EFSClient } from '@aws-sdk/client-efs';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

export interface AwsClientOptions {
  /** `--region`; otherwise the SDK chain (AWS_REGION, the profile's region). */
  readonly region?: string;
  /** `--profile`; otherwise AWS_PROFILE or the default profile. */
  readonly profile?: string;
}

export interface AwsClients {
  readonly cloudFormation: CloudFormationClient;
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly ssm: SSMClient;
  /** The Price List API: always us-east-1, whatever the region of the other clients. */
  readonly pricing: PricingClient;
  readonly efs: EFSClient;
  readonly secretsManager: SecretsManagerClient;
  /** CloudWatch metrics (`gm-ops metrics`: the file system's size and throughput). */
  readonly cloudWatch: CloudWatchClient;
  /** The region the clients talk to, or undefined when none is configured. */
  region(): Promise<string | undefined>;
}

export type AwsClientFactory = (options: AwsClientOptions) => AwsClients;

/** The Price List API's endpoint region. */
const PRICING_REGION = 'us-east-1';

/** How long one AWS call may take: a host that accepts and never answers must not hang a command. */
export interface CallBounds {
  /** Milliseconds to establish the connection. */
  readonly connectionTimeout: number;
  /** Milliseconds for the request and its whole response. */
  readonly requestTimeout: number;
  /** Tries per call, the first included. */
  readonly maxAttempts: number;
}

export const DEFAULT_CALL_BOUNDS: CallBounds = { connectionTimeout: 5000, requestTimeout: 20_000, maxAttempts: 3 };

interface ClientConfig {
  region?: string;
  profile?: string;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value > 0 ? value : undefined;
}

/** The bounds, overridable by GM_OPS_AWS_CONNECT_TIMEOUT_MS, GM_OPS_AWS_REQUEST_TIMEOUT_MS, GM_OPS_AWS_MAX_ATTEMPTS. */
export function callBounds(env: NodeJS.ProcessEnv): CallBounds {
  return {
    connectionTimeout: positiveInteger(env.GM_OPS_AWS_CONNECT_TIMEOUT_MS) ?? DEFAULT_CALL_BOUNDS.connectionTimeout,
    requestTimeout: positiveInteger(env.GM_OPS_AWS_REQUEST_TIMEOUT_MS) ?? DEFAULT_CALL_BOUNDS.requestTimeout,
    maxAttempts: positiveInteger(env.GM_OPS_AWS_MAX_ATTEMPTS) ?? DEFAULT_CALL_BOUNDS.maxAttempts,
  };
}

/** The SDK's default chain, plus AWS_DEFAULT_REGION (which the JS SDK v3 alone ignores), with bounded calls. */
export function clientConfig(options: AwsClientOptions, env: NodeJS.ProcessEnv): ClientConfig {
  const bounds = callBounds(env);
  const config: ClientConfig = {
    maxAttempts: bounds.maxAttempts,
    // Without throwOnRequestTimeout the handler only logs a warning when requestTimeout passes.
    requestHandler: { connectionTimeout: bounds.connectionTimeout, requestTimeout: bounds.requestTimeout, throwOnRequestTimeout: true },
  };
  const region = options.region ?? (env.AWS_REGION ? undefined : env.AWS_DEFAULT_REGION);
  if (region) config.region = region;
  if (options.profile) config.profile = options.profile;
  return config;
}

/** Reads a client's configured region without throwing when there is none. */
export async function resolveRegion(client: { config: { region: unknown } }): Promise<string | undefined> {
  const region = client.config.region;
  try {
    const value = typeof region === 'function' ? await (region as () => Promise<string>)() : region;
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Real clients, each constructed (and its SDK package loaded) on first access. */
export function createAwsClients(options: AwsClientOptions, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const config = clientConfig(options, env);
  let cloudFormation: CloudFormationClient | undefined;
  let ec2: EC2Client | undefined;
  let autoScaling: AutoScalingClient | undefined;
  let ssm: SSMClient | undefined;
  let pricing: PricingClient | undefined;
  let efs: EFSClient | undefined;
  let secretsManager: SecretsManagerClient | undefined;
  let cloudWatch: CloudWatchClient | undefined;
  const clients: AwsClients = {
    get cloudFormation() {
      if (!cloudFormation) {
        const sdk = require('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation');
        cloudFormation = new sdk.CloudFormationClient(config);
      }
      return cloudFormation;
    },
    get ec2() {
      if (!ec2) {
        const sdk = require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
        ec2 = new sdk.EC2Client(config);
      }
      return ec2;
    },
    get autoScaling() {
      if (!autoScaling) {
        const sdk = require('@aws-sdk/client-auto-scaling') as typeof import('@aws-sdk/client-auto-scaling');
        autoScaling = new sdk.AutoScalingClient(config);
      }
      return autoScaling;
    },
    get ssm() {
      if (!ssm) {
        const sdk = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
        ssm = new sdk.SSMClient(config);
      }
      return ssm;
    },
    get pricing() {
      if (!pricing) {
        const sdk = require('@aws-sdk/client-pricing') as typeof import('@aws-sdk/client-pricing');
        // An unreachable endpoint must fail fast: the estimate then falls back to the offline table.
        pricing = new sdk.PricingClient({ ...config, region: PRICING_REGION, maxAttempts: Math.min(config.maxAttempts, 2) });
      }
      return pricing;
    },
    get efs() {
      if (!efs) {
        const sdk = require('@aws-sdk/client-efs') as typeof import('@aws-sdk/client-efs');
        efs = new sdk.EFSClient(config);
      }
      return efs;
    },
    get secretsManager() {
      if (!secretsManager) {
        const sdk = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
        secretsManager = new sdk.SecretsManagerClient(config);
      }
      return secretsManager;
    },
    get cloudWatch() {
      if (!cloudWatch) {
        const sdk = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
        cloudWatch = new sdk.CloudWatchClient(config);
      }
      return cloudWatch;
    },
    region: () => resolveRegion(clients.cloudFormation),
  };
  return clients;
}
