/**
 * The auto scaling group of a deployment as stop and start see it: its sizes, its instances and their lifecycle
 * states, whether its scheduled actions are suspended, its schedule (scheduled actions) and its clean-stop hook.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  DescribeScheduledActionsCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';

import { CLEAN_STOP_HOOK_NAME } from '../contract';

/** The termination lifecycle hook of every compute stack (contract CLEAN_STOP_HOOK_NAME). */
export const CLEAN_STOP_HOOK = CLEAN_STOP_HOOK_NAME;

/** The auto scaling process stop suspends so that a schedule cannot bring the host back. */
export const SCHEDULED_ACTIONS_PROCESS = 'ScheduledActions';

export interface GroupInstance {
  readonly instanceId: string;
  /** Pending, Pending:Wait, Pending:Proceed, InService, Terminating, Terminating:Wait, Terminating:Proceed, Terminated, ... */
  readonly lifecycleState: string;
  readonly healthStatus?: string;
}

export interface GroupState {
  readonly name: string;
  readonly desired: number;
  readonly min: number;
  readonly max: number;
  readonly instances: readonly GroupInstance[];
  /** The ScheduledActions process is suspended (by gm-ops stop, or by hand). */
  readonly scheduleSuspended: boolean;
}

/** The group, or undefined when it does not exist. */
export async function readGroup(autoScaling: AutoScalingClient, name: string): Promise<GroupState | undefined> {
  const page = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  const group = page?.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
  if (!group) return undefined;
  return {
    name,
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    max: group.MaxSize ?? 0,
    instances: (group.Instances ?? [])
      .filter((i) => i.InstanceId)
      .map((i) => ({ instanceId: i.InstanceId!, lifecycleState: i.LifecycleState ?? 'unknown', healthStatus: i.HealthStatus })),
    scheduleSuspended: (group.SuspendedProcesses ?? []).some((p) => p.ProcessName === SCHEDULED_ACTIONS_PROCESS),
  };
}

/** Leaving the group: it will not serve again. */
export function isLeaving(instance: GroupInstance): boolean {
  return instance.lifecycleState.startsWith('Terminat') || instance.lifecycleState.startsWith('Detach');
}

/** The instances still part of the group's capacity (launching or in service). */
export function liveInstances(group: GroupState): GroupInstance[] {
  return group.instances.filter((i) => !isLeaving(i));
}

/** The instances on their way out (a stop in progress), Terminated ones excluded. */
export function leavingInstances(group: GroupState): GroupInstance[] {
  return group.instances.filter((i) => isLeaving(i) && i.lifecycleState !== 'Terminated');
}

/** What a lifecycle state means, in words. */
export function lifecycleWords(state: string): string {
  switch (state) {
    case 'Terminating':
      return 'leaving the group';
    case 'Terminating:Wait':
      return 'stopping cleanly: database flushed, vectors snapshotted, fence released';
    case 'Terminating:Proceed':
      return 'stopped cleanly; the instance is being terminated';
    case 'Terminated':
      return 'terminated';
    case 'Pending':
      return 'launching';
    case 'Pending:Wait':
      return 'bootstrapping: the group holds it until the host has started';
    case 'Pending:Proceed':
      return 'bootstrapped; joining the group';
    case 'InService':
      return 'in service';
    default:
      return state;
  }
}

export interface ScheduledAction {
  readonly name: string;
  readonly recurrence?: string;
  readonly timeZone?: string;
  readonly desiredCapacity?: number;
  /** The next time it runs (epoch ms), as Auto Scaling reports it. */
  readonly nextRun?: number;
}

/** The group's scheduled actions (DescribeScheduledActions, every page). */
export async function scheduledActions(autoScaling: AutoScalingClient, group: string): Promise<ScheduledAction[]> {
  const result: ScheduledAction[] = [];
  let nextToken: string | undefined;
  do {
    const page = await autoScaling.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: group, NextToken: nextToken }));
    for (const action of page?.ScheduledUpdateGroupActions ?? []) {
      if (!action.ScheduledActionName) continue;
      result.push({
        name: action.ScheduledActionName,
        recurrence: action.Recurrence,
        timeZone: action.TimeZone,
        desiredCapacity: action.DesiredCapacity,
        nextRun: (action.StartTime ?? action.Time)?.getTime(),
      });
    }
    nextToken = page?.NextToken;
  } while (nextToken);
  return result;
}

/** One scheduled action, in words: "geusemaker-web-start (0 8 * * 1-5 Europe/Paris, 1 host)". */
export function describeScheduledAction(action: ScheduledAction): string {
  const when = [action.recurrence, action.timeZone].filter(Boolean).join(' ');
  const what = action.desiredCapacity === undefined ? undefined : action.desiredCapacity === 0 ? 'no host' : `${action.desiredCapacity} host${action.desiredCapacity === 1 ? '' : 's'}`;
  const details = [when, what].filter(Boolean).join(', ');
  return details ? `${action.name} (${details})` : action.name;
}

export interface CleanStopHook {
  readonly heartbeatSeconds?: number;
  readonly defaultResult?: string;
}

/** The group's clean-stop hook, or undefined when its compute stack predates it. */
export async function cleanStopHook(autoScaling: AutoScalingClient, group: string): Promise<CleanStopHook | undefined> {
  const page = await autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group, LifecycleHookNames: [CLEAN_STOP_HOOK] }));
  const hook = page?.LifecycleHooks?.find((h) => h.LifecycleHookName === CLEAN_STOP_HOOK && h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING');
  return hook ? { heartbeatSeconds: hook.HeartbeatTimeout, defaultResult: hook.DefaultResult } : undefined;
}
