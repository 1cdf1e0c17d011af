/**
 * GeuseMaker stacks as CloudFormation reports them, recognised by the shared contract's names
 * (Geuse<Tier>-<name>, GeuseData-<name>) and, when present, their geuse:deployment tag.
 */
import { DescribeStacksCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { TAG_KEYS, parseStackName, type Tier } from '../contract';
import { hasErrorName } from '../aws/classify-error';

export interface StackSummary {
  readonly stackName: string;
  readonly deployment: string;
  /** The compute tier, or 'data' for the data stack. */
  readonly role: Tier | 'data';
  readonly status: string;
  readonly statusReason?: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt?: number;
  readonly updatedAt?: number;
}

/** The stack as a GeuseMaker stack, or undefined when its name or tags say it is not one. */
export function toStackSummary(stack: Stack): StackSummary | undefined {
  if (!stack.StackName || !stack.StackStatus) return undefined;
  const parsed = parseStackName(stack.StackName);
  if (!parsed) return undefined;
  const tags: Record<string, string> = {};
  for (const tag of stack.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
  const taggedDeployment = tags[TAG_KEYS.deployment];
  if (taggedDeployment !== undefined && taggedDeployment !== parsed.deployment) return undefined;
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) if (output.OutputKey) outputs[output.OutputKey] = output.OutputValue ?? '';
  return {
    stackName: stack.StackName,
    deployment: parsed.deployment,
    role: parsed.kind === 'data' ? 'data' : parsed.tier,
    status: stack.StackStatus,
    statusReason: stack.StackStatusReason,
    outputs,
    tags,
    createdAt: stack.CreationTime?.getTime(),
    updatedAt: stack.LastUpdatedTime?.getTime(),
  };
}

/** Every GeuseMaker stack in the region (DescribeStacks, all pages). Deleted stacks are not listed. */
export async function describeGeuseStacks(cfn: CloudFormationClient): Promise<StackSummary[]> {
  const result: StackSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cfn.send(new DescribeStacksCommand({ NextToken: nextToken }));
    for (const stack of page.Stacks ?? []) {
      const summary = toStackSummary(stack);
      if (summary) result.push(summary);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return result;
}

/** One stack by name, or undefined when it does not exist. */
export async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<StackSummary | undefined> {
  try {
    const response = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = response.Stacks?.[0];
    return stack ? toStackSummary(stack) : undefined;
  } catch (error) {
    if (isStackMissing(error)) return undefined;
    throw error;
  }
}

export function isStackMissing(error: unknown): boolean {
  return hasErrorName(error, 'ValidationError') && /does not exist/i.test(String((error as Error).message));
}
