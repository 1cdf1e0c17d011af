/** `gm-ops list`: one row per deployment, from CloudFormation (stacks) and EC2 (current hosts). */
import type { AwsClients } from '../aws/clients';
import { listDeployments, type Deployment } from '../discovery/deployments';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import { entryOf, type Reach } from '../discovery/endpoints';
import { hostStateLabel, type HostLookup, type Market } from '../discovery/hosts';
import { assessStack, type StackCondition } from '../discovery/stack-state';

export interface DeploymentRow {
  readonly name: string;
  readonly tier?: string;
  readonly stackName?: string;
  readonly stackStatus?: string;
  readonly condition: StackCondition;
  readonly dataStackName?: string;
  readonly dataStackStatus?: string;
  readonly host: string;
  readonly instanceId?: string;
  readonly instanceType?: string;
  readonly market?: Market;
  readonly availabilityZone?: string;
  readonly entryUrl?: string;
  readonly entryReach?: Reach;
  /** Things a person should look at (stuck stacks, two compute stacks). */
  readonly problems: string[];
}

export function toRow(deployment: Deployment, lookup: HostLookup | undefined, region: string | undefined): DeploymentRow {
  const { compute, data } = deployment;
  const problems: string[] = [];
  let condition: StackCondition = 'ok';
  for (const stack of [compute, data]) {
    if (!stack) continue;
    const assessment = assessStack(stack.stackName, stack.status, region);
    if (assessment.condition === 'stuck') problems.push(`${stack.stackName} is stuck in ${stack.status}: run \`gm-ops status ${deployment.name}\``);
    if (assessment.condition === 'stuck' || (assessment.condition !== 'ok' && condition === 'ok')) condition = assessment.condition;
  }
  if (deployment.extraCompute.length > 0) {
    problems.push(
      `${deployment.name} has more than one compute stack (${[compute, ...deployment.extraCompute].map((s) => s!.stackName).join(', ')}); only one may exist`,
    );
  }
  const host = lookup?.host;
  const entry = entryOf(compute, host);
  return {
    name: deployment.name,
    tier: compute && compute.role !== 'data' ? compute.role : undefined,
    stackName: compute?.stackName,
    stackStatus: compute?.status,
    condition,
    dataStackName: data?.stackName,
    dataStackStatus: data?.status,
    host: compute ? hostStateLabel(lookup) : 'none',
    instanceId: host?.instanceId,
    instanceType: host?.instanceType,
    market: host?.market,
    availabilityZone: host?.availabilityZone,
    entryUrl: entry?.value,
    entryReach: entry?.reach,
    problems,
  };
}

export async function gatherRows(clients: AwsClients): Promise<{ region?: string; rows: DeploymentRow[] }> {
  const [region, deployments] = await Promise.all([clients.region(), listDeployments(clients.cloudFormation)]);
  const hosts = await hostsOfDeployments(clients, deployments);
  return { region, rows: deployments.map((d) => toRow(d, hosts.get(d.name), region)) };
}
