/**
 * The current host of a deployment, resolved every time from its auto scaling group (hosts get
 * replaced: a spot interruption or a failed health check brings a new instance).
 */
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient, type Instance as AsgInstance } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { OUTPUT_KEYS, SERVICES } from '../contract';
import { openSources } from './exposure';
import type { StackSummary } from './stacks';

export type Market = 'spot' | 'on-demand';

export interface HostInfo {
  readonly instanceId: string;
  /** EC2 state: pending, running, stopping, stopped, shutting-down, terminated. */
  readonly state: string;
  /** Auto scaling lifecycle state: InService, Pending, Terminating, ... */
  readonly lifecycleState?: string;
  readonly healthStatus?: string;
  readonly instanceType?: string;
  readonly market: Market;
  readonly availabilityZone?: string;
  readonly publicIp?: string;
  readonly privateIp?: string;
  readonly launchedAt?: number;
  readonly securityGroupIds?: string[];
  /** Dev tier: who may reach n8n on the public IP (filled in by {@link withN8nExposure}). */
  readonly n8nOpenTo?: string[];
}

export interface HostLookup {
  readonly autoScalingGroupName: string;
  /** False when the group named by the stack output does not exist (any more). */
  readonly groupExists: boolean;
  readonly desiredCapacity?: number;
  /** 0 when `gm-ops stop` parked the group (a scheduled start or SetDesiredCapacity cannot raise it). */
  readonly maxSize?: number;
  readonly host?: HostInfo;
}

const LIFECYCLE_PREFERENCE = ['InService', 'Pending', 'Pending:Wait', 'Pending:Proceed', 'Warmed:Running'];

/** The instance that is (or is becoming) the host; a terminating one only when nothing else is there. */
export function pickHostInstance(instances: readonly AsgInstance[]): AsgInstance | undefined {
  const rank = (instance: AsgInstance) => {
    const index = LIFECYCLE_PREFERENCE.indexOf(instance.LifecycleState ?? '');
    return index < 0 ? LIFECYCLE_PREFERENCE.length : index;
  };
  return [...instances].filter((i) => i.InstanceId).sort((a, b) => rank(a) - rank(b))[0];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/**
 * Hosts of many groups at once: one DescribeAutoScalingGroups per 50 groups, one DescribeInstances per
 * 100 hosts. Instances are selected by filter, not InstanceIds, so a just-launched or long-gone instance
 * does not fail the whole call with InvalidInstanceID.NotFound.
 */
export async function resolveHosts(
  autoScaling: AutoScalingClient,
  ec2: EC2Client,
  groupNames: readonly string[],
): Promise<Map<string, HostLookup>> {
  const unique = [...new Set(groupNames.filter((n) => n.length > 0))];
  const groups = new Map<string, { desired?: number; max?: number; instance?: AsgInstance }>();
  for (const batch of chunks(unique, 50)) {
    let nextToken: string | undefined;
    do {
      const page = await autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: batch, NextToken: nextToken }),
      );
      for (const group of page.AutoScalingGroups ?? []) {
        if (!group.AutoScalingGroupName) continue;
        groups.set(group.AutoScalingGroupName, {
          desired: group.DesiredCapacity,
          max: group.MaxSize,
          instance: pickHostInstance(group.Instances ?? []),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }

  const instanceIds = [...groups.values()].map((g) => g.instance?.InstanceId).filter((id): id is string => Boolean(id));
  const details = new Map<string, Omit<HostInfo, 'lifecycleState' | 'healthStatus'>>();
  for (const batch of chunks(instanceIds, 100)) {
    let nextToken: string | undefined;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: batch }], NextToken: nextToken }));
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (!instance.InstanceId) continue;
          details.set(instance.InstanceId, {
            instanceId: instance.InstanceId,
            state: instance.State?.Name ?? 'unknown',
            instanceType: instance.InstanceType,
            market: instance.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
            availabilityZone: instance.Placement?.AvailabilityZone,
            publicIp: instance.PublicIpAddress,
            privateIp: instance.PrivateIpAddress,
            launchedAt: instance.LaunchTime?.getTime(),
            securityGroupIds: (instance.SecurityGroups ?? []).map((g) => g.GroupId).filter((id): id is string => Boolean(id)),
          });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }

  const result = new Map<string, HostLookup>();
  for (const name of unique) {
    const group = groups.get(name);
    if (!group) {
      result.set(name, { autoScalingGroupName: name, groupExists: false });
      continue;
    }
    const instance = group.instance;
    const detail = instance?.InstanceId ? details.get(instance.InstanceId) : undefined;
    const host: HostInfo | undefined = instance?.InstanceId
      ? {
          ...(detail ?? { instanceId: instance.InstanceId, state: 'unknown', market: 'on-demand' as Market }),
          instanceType: detail?.instanceType ?? instance.InstanceType,
          availabilityZone: detail?.availabilityZone ?? instance.AvailabilityZone,
          lifecycleState: instance.LifecycleState,
          healthStatus: instance.HealthStatus,
        }
      : undefined;
    result.set(name, { autoScalingGroupName: name, groupExists: true, desiredCapacity: group.desired, maxSize: group.max, host });
  }
  return result;
}

/**
 * Adds `n8nOpenTo` to the running dev hosts with a public IP (one DescribeSecurityGroups call for all):
 * their entry point is http://<public IP>:5678 only when some CIDR may reach that port.
 */
export async function withN8nExposure(
  ec2: EC2Client,
  lookups: Map<string, HostLookup>,
  devGroups: ReadonlySet<string>,
): Promise<Map<string, HostLookup>> {
  const candidates = [...lookups.entries()].filter(
    ([group, lookup]) => devGroups.has(group) && lookup.host?.publicIp && lookup.host.state === 'running',
  );
  if (candidates.length === 0) return lookups;
  const n8nPort = SERVICES.find((s) => s.name === 'n8n')!.port;
  const open = await openSources(ec2, candidates.map(([, l]) => l.host!), n8nPort);
  const result = new Map(lookups);
  for (const [group, lookup] of candidates) {
    result.set(group, { ...lookup, host: { ...lookup.host!, n8nOpenTo: open.get(lookup.host!.instanceId) ?? [] } });
  }
  return result;
}

/** The auto scaling group named by a compute stack's outputs. */
export function autoScalingGroupOf(compute: StackSummary | undefined): string | undefined {
  const name = compute?.outputs[OUTPUT_KEYS.autoScalingGroupName];
  return name ? name : undefined;
}

/** A short phrase for a host lookup: "running", "none", "stopped", ... */
export function hostStateLabel(lookup: HostLookup | undefined): string {
  if (!lookup) return 'none';
  if (!lookup.groupExists) return 'no group';
  if (!lookup.host) return lookup.desiredCapacity === 0 ? 'scaled to 0' : 'none';
  const { state, lifecycleState } = lookup.host;
  if (state === 'running' && lifecycleState && lifecycleState !== 'InService') return `running (${lifecycleState})`;
  return state;
}
