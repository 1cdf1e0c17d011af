/**
 * What is priced, independent of where it was found (a running deployment or a synthesized template):
 * resources made of parts, each part a host (instances), a fixed quantity of a price key, or a row
 * whose cost depends on usage.
 */
import type { Decimal } from './decimal';

export type Market = 'spot' | 'on-demand';

export interface InstancePart {
  readonly kind: 'instances';
  readonly count: number;
  readonly market: Market;
  /** The candidates (template: the ASG overrides in order); a running host has exactly one. */
  readonly instanceTypes: readonly string[];
  /** On-demand with several types: `prioritized` launches the first, `lowest-price` the cheapest. */
  readonly onDemandStrategy?: 'prioritized' | 'lowest-price';
  /** A running host: its AZ (spot price) and launch time (cost so far). */
  readonly availabilityZone?: string;
  readonly launchedAt?: number;
  readonly instanceId?: string;
}

export interface FixedPart {
  readonly kind: 'fixed';
  readonly key: string;
  readonly name: string;
  /** Exactly one of: per hour (always on: x 730 a month), or per month (GB-months, secret-months). */
  readonly hourlyQuantity?: Decimal;
  readonly monthlyQuantity?: Decimal;
  readonly note?: string;
  /**
   * Exists only while a host runs (its root volume, deleted on termination; its public IPv4 address): gone
   * when the deployment is stopped, scaled by the running hours of a schedule.
   */
  readonly withHost?: boolean;
  /**
   * A Fargate Spot part: the total prices it at the on-demand price of `key` (the most it costs, as for a spot
   * host offline); the typical-spot figure at the dated typical price of this key in the shipped table
   * (typicalSpot), or at the on-demand price when the table has none, and says so.
   */
  readonly typicalSpotKey?: string;
}

export interface UsagePart {
  readonly kind: 'usage';
  readonly key: string;
  readonly name: string;
  readonly note?: string;
}

export type CostPart = InstancePart | FixedPart | UsagePart;

/** A CloudFront Function (the allowedCidrs allow-list) runs once per viewer request: priced per invocation. */
export const CLOUDFRONT_FUNCTION_INVOCATIONS: UsagePart = { kind: 'usage', key: 'cloudfront:function-invocations', name: 'Function invocations (one per viewer request)' };

export interface CostResource {
  readonly name: string;
  /** CloudFormation type (template) or what it is (live). */
  readonly type: string;
  /** Physical id (live) or logical id (template). */
  readonly id?: string;
  readonly stack?: string;
  readonly parts: readonly CostPart[];
}

export interface CostInventory {
  readonly kind: 'deployment' | 'template';
  /** Deployment name, or the template file(s). */
  readonly subject: string;
  readonly region: string;
  readonly resources: readonly CostResource[];
  /** Resource types that carry no price here (free, or usage gm-ops does not estimate), with counts. */
  readonly notPriced: readonly { readonly type: string; readonly count: number }[];
  readonly notes: readonly string[];
  /** The start/stop scheduled actions of the host's group, when there are any (templates). */
  readonly schedule?: HostSchedule;
}

/** AWS::AutoScaling::ScheduledAction resources of a template, as read (see schedule.ts for the hours). */
export interface HostSchedule {
  readonly actions: readonly ScheduledActionInfo[];
}

export interface ScheduledActionInfo {
  readonly logicalId: string;
  readonly recurrence?: string;
  readonly timeZone?: string;
  /** DesiredCapacity (else MinSize) it sets: 0 stops the host, 1 or more starts it. */
  readonly desiredCapacity?: number;
}
