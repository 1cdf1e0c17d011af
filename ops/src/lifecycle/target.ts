/**
 * The deployment stop and start act on: its compute stack and the auto scaling group of its host (on the scale tier,
 * of its AI host; its ECS services are read by scale-lifecycle.ts).
 */
import type { AwsClients } from '../aws/clients';
import { autoScalingGroupName, scaleAiHostAutoScalingGroupName, type Tier } from '../contract';
import { findDeployment } from '../discovery/deployments';
import { autoScalingGroupOf } from '../discovery/hosts';
import { assessStack } from '../discovery/stack-state';
import type { StackSummary } from '../discovery/stacks';
import { OpsError, UsageProblem } from '../errors';
import { readGroup, type GroupState } from './group';

export interface LifecycleTarget {
  readonly name: string;
  readonly region: string;
  readonly compute: StackSummary;
  readonly data?: StackSummary;
  readonly tier: Tier;
  readonly group: GroupState;
}

export async function resolveTarget(clients: AwsClients, name: string, verb: 'stop' | 'start'): Promise<LifecycleTarget> {
  const region = await clients.region();
  if (!region) throw new UsageProblem('no AWS region configured', 'pass --region, set AWS_REGION, or set a region in your AWS profile');
  const deployment = await findDeployment(clients.cloudFormation, name, region);
  const { compute, data } = deployment;
  if (!compute) {
    throw new OpsError(
      `"${name}" has no compute stack (only ${data?.stackName ?? 'its data stack'}): there is no host to ${verb}`,
      verb === 'start' ? `\`gm-ops restore ${name}\` redeploys its compute stack on the retained data` : 'nothing is running; the data stack keeps the file system and the secrets',
    );
  }
  if (deployment.extraCompute.length > 0) {
    throw new OpsError(
      `"${name}" has ${deployment.extraCompute.length + 1} compute stacks (${[compute, ...deployment.extraCompute].map((s) => s.stackName).join(', ')}); a deployment runs one tier at a time`,
      'delete the one you do not want (its data is on EFS, untouched), then run this again',
    );
  }
  const condition = assessStack(compute.stackName, compute.status, region).condition;
  if (condition === 'busy') {
    throw new OpsError(
      `${compute.stackName} is ${compute.status}: CloudFormation is working on it, and a ${verb} now would fight it`,
      `run \`gm-ops ${verb} ${name}\` again when it is done (see \`gm-ops status ${name}\`)`,
    );
  }
  const groupName = autoScalingGroupOf(compute) ?? (compute.role === 'scale' ? scaleAiHostAutoScalingGroupName(name) : autoScalingGroupName(name));
  const group = await readGroup(clients.autoScaling, groupName);
  if (!group) {
    throw new OpsError(
      `auto scaling group ${groupName} of ${compute.stackName} does not exist (deleted outside CloudFormation?)`,
      `\`gm-ops restore ${name}\` explains the way back`,
    );
  }
  return { name, region, compute, data, tier: compute.role as Tier, group };
}
