/** The current host of each deployment, in as few calls as possible (batched by the ASG and EC2 APIs). */
import type { AwsClients } from '../aws/clients';
import type { Deployment } from './deployments';
import { autoScalingGroupOf, resolveHosts, withN8nExposure, type HostLookup } from './hosts';

/** Keyed by deployment name; deployments without a compute stack (or its ASG output) are absent. */
export async function hostsOfDeployments(clients: AwsClients, deployments: readonly Deployment[]): Promise<Map<string, HostLookup>> {
  const groupOf = new Map<string, string>();
  const devGroups = new Set<string>();
  for (const deployment of deployments) {
    const group = autoScalingGroupOf(deployment.compute);
    if (!group) continue;
    groupOf.set(deployment.name, group);
    if (deployment.compute?.role === 'dev') devGroups.add(group);
  }
  if (groupOf.size === 0) return new Map();
  const lookups = await withN8nExposure(clients.ec2, await resolveHosts(clients.autoScaling, clients.ec2, [...groupOf.values()]), devGroups);
  const result = new Map<string, HostLookup>();
  for (const [name, group] of groupOf) {
    const lookup = lookups.get(group);
    if (lookup) result.set(name, lookup);
  }
  return result;
}
