/** Which deployments `health` looks at, with their compute stack and current host. */
import type { AwsClients } from '../aws/clients';
import type { Tier } from '../contract';
import { findDeployment, listDeployments, type Deployment } from '../discovery/deployments';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import type { HostLookup } from '../discovery/hosts';
import type { StackSummary } from '../discovery/stacks';

export interface HealthTarget {
  readonly name: string;
  readonly tier?: Tier;
  readonly compute?: StackSummary;
  readonly lookup?: HostLookup;
}

/** All deployments of the region when `names` is empty; otherwise those named (each must exist). */
export async function resolveTargets(clients: AwsClients, names: readonly string[]): Promise<HealthTarget[]> {
  let deployments: Deployment[];
  if (names.length === 0) {
    deployments = await listDeployments(clients.cloudFormation);
  } else {
    const region = await clients.region();
    deployments = await Promise.all([...new Set(names)].map((name) => findDeployment(clients.cloudFormation, name, region)));
  }
  const hosts = await hostsOfDeployments(clients, deployments);
  return deployments.map((d) => ({
    name: d.name,
    tier: d.compute && d.compute.role !== 'data' ? d.compute.role : undefined,
    compute: d.compute,
    lookup: hosts.get(d.name),
  }));
}
