/**
 * A deployment = its compute stack (at most one tier at a time) and its data stack, found by name.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { TIERS, computeStackName, dataStackName } from '../contract';
import { DeploymentNotFound } from '../errors';
import { describeGeuseStacks, describeStack, type StackSummary } from './stacks';

export interface Deployment {
  readonly name: string;
  /** The compute stack, when one exists. */
  readonly compute?: StackSummary;
  readonly data?: StackSummary;
  /** More compute stacks of the same deployment: the contract allows one; shown as a problem. */
  readonly extraCompute: readonly StackSummary[];
}

export function groupDeployments(stacks: readonly StackSummary[]): Deployment[] {
  const byName = new Map<string, { compute: StackSummary[]; data?: StackSummary }>();
  for (const stack of stacks) {
    const entry = byName.get(stack.deployment) ?? { compute: [] };
    if (stack.role === 'data') entry.data = stack;
    else entry.compute.push(stack);
    byName.set(stack.deployment, entry);
  }
  return [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, entry]) => {
      // Most recently created compute stack first: that is the one being worked on.
      const compute = [...entry.compute].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
      return { name, compute: compute[0], data: entry.data, extraCompute: compute.slice(1) };
    });
}

/** All deployments of the region. */
export async function listDeployments(cfn: CloudFormationClient): Promise<Deployment[]> {
  return groupDeployments(await describeGeuseStacks(cfn));
}

/** One deployment by name (its four possible stacks, looked up in parallel); throws when none exists. */
export async function findDeployment(cfn: CloudFormationClient, name: string, region: string | undefined): Promise<Deployment> {
  const names = [...TIERS.map((tier) => computeStackName(tier, name)), dataStackName(name)];
  const stacks = (await Promise.all(names.map((stackName) => describeStack(cfn, stackName)))).filter(
    (stack): stack is StackSummary => stack !== undefined && stack.deployment === name,
  );
  const [deployment] = groupDeployments(stacks);
  if (!deployment) throw new DeploymentNotFound(name, region);
  return deployment;
}
