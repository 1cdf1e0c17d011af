/**
 * The stacks of a scale deployment, read by name: `GeuseScale-<name>` (compute) and `GeuseScaleData-<name>` (the
 * database and the queue), with their outputs (contract.ts, SCALE_OUTPUT_KEYS).
 */
import { DescribeStacksCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { OUTPUT_KEYS, SCALE_OUTPUT_KEYS, parsePairs, scaleAiHostAutoScalingGroupName, scaleClusterName, scaleComputeStackName, scaleDataStackName } from '../contract';
import { isStackMissing } from '../discovery/stacks';

export interface RawStack {
  readonly stackName: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly createdAt?: number;
}

function toRaw(stack: Stack): RawStack {
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) if (output.OutputKey) outputs[output.OutputKey] = output.OutputValue ?? '';
  return {
    stackName: stack.StackName ?? '',
    status: stack.StackStatus ?? 'UNKNOWN',
    statusReason: stack.StackStatusReason,
    outputs,
    createdAt: stack.CreationTime?.getTime(),
  };
}

/** One stack by name, or undefined when it does not exist. */
export async function readStack(cfn: CloudFormationClient, stackName: string): Promise<RawStack | undefined> {
  try {
    const response = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = response.Stacks?.[0];
    return stack ? toRaw(stack) : undefined;
  } catch (error) {
    if (isStackMissing(error)) return undefined;
    throw error;
  }
}

/** What gm-ops reads of a scale deployment's outputs; missing outputs fall back to the contract's fixed names. */
export interface ScaleLayout {
  readonly name: string;
  readonly compute?: RawStack;
  readonly data?: RawStack;
  readonly cluster: string;
  readonly services: { readonly main?: string; readonly worker?: string; readonly webhook?: string };
  readonly logGroups: Readonly<Record<string, string>>;
  readonly entryUrl?: string;
  readonly aiHostGroup: string;
  readonly workerMin?: number;
  readonly workerMax?: number;
  readonly workerConcurrency?: number;
  readonly databaseId?: string;
  readonly databaseEndpoint?: string;
  readonly databaseName?: string;
  readonly databaseSecretArn?: string;
  readonly queueId?: string;
  readonly queueEndpoint?: string;
}

const count = (value: string | undefined): number | undefined => (value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined);
const text = (value: string | undefined): string | undefined => (value && value.trim() ? value.trim() : undefined);

export function layoutOf(name: string, compute: RawStack | undefined, data: RawStack | undefined): ScaleLayout {
  const c = compute?.outputs ?? {};
  const d = data?.outputs ?? {};
  return {
    name,
    compute,
    data,
    cluster: text(c[SCALE_OUTPUT_KEYS.clusterName]) ?? scaleClusterName(name),
    services: {
      main: text(c[SCALE_OUTPUT_KEYS.mainServiceName]),
      worker: text(c[SCALE_OUTPUT_KEYS.workerServiceName]),
      webhook: text(c[SCALE_OUTPUT_KEYS.webhookServiceName]),
    },
    logGroups: parsePairs(c[SCALE_OUTPUT_KEYS.logGroupNames] ?? ''),
    entryUrl: text(c[OUTPUT_KEYS.entryUrl]) ?? text(c[OUTPUT_KEYS.cloudFrontUrl]) ?? text(c[OUTPUT_KEYS.n8nUrl]),
    aiHostGroup: text(c[OUTPUT_KEYS.autoScalingGroupName]) ?? scaleAiHostAutoScalingGroupName(name),
    workerMin: count(c[SCALE_OUTPUT_KEYS.workerMinCount]),
    workerMax: count(c[SCALE_OUTPUT_KEYS.workerMaxCount]),
    workerConcurrency: count(c[SCALE_OUTPUT_KEYS.workerConcurrency]),
    databaseId: text(d[SCALE_OUTPUT_KEYS.databaseInstanceId]),
    databaseEndpoint: text(d[SCALE_OUTPUT_KEYS.databaseEndpoint]),
    databaseName: text(d[SCALE_OUTPUT_KEYS.databaseName]),
    databaseSecretArn: text(d[SCALE_OUTPUT_KEYS.databaseSecretArn]),
    queueId: text(d[SCALE_OUTPUT_KEYS.queueReplicationGroupId]),
    queueEndpoint: text(d[SCALE_OUTPUT_KEYS.queueEndpoint]),
  };
}

/** Both stacks of a scale deployment, read in parallel; compute undefined when `GeuseScale-<name>` does not exist. */
export async function readScaleLayout(cfn: CloudFormationClient, name: string): Promise<ScaleLayout> {
  const [compute, data] = await Promise.all([readStack(cfn, scaleComputeStackName(name)), readStack(cfn, scaleDataStackName(name))]);
  return layoutOf(name, compute, data);
}

/** Whether `name` has a scale compute stack (one DescribeStacks call): the branch of status, health and logs. */
export async function isScaleDeployment(cfn: CloudFormationClient, name: string): Promise<boolean> {
  return (await readStack(cfn, scaleComputeStackName(name))) !== undefined;
}
