/**
 * What each tier costs a month, for the tier table of `gm-ops init`, before anything is synthesized:
 * the resources a tier deploys with the schema's defaults (as lib/tiers and lib/data build them) as a
 * cost inventory, priced by the cost model on the shipped offline table. The figure is the on-demand
 * ceiling: the host at the on-demand price of its first instance type (what a spot host costs at most),
 * usage-based rows (load balancer capacity, CloudFront traffic, EFS storage) not included.
 * gm-ops cannot import the CDK app, so the shapes are repeated here; cost-template.test.ts checks the
 * dev figure against `gm-ops cost --template` on the synthesized stacks.
 */
import { SECRET_PURPOSES, TIERS, type Tier } from '../contract';
import { ebsStorageKey } from '../cost/catalogue';
import { Decimal } from '../cost/decimal';
import { estimate } from '../cost/estimate';
import type { CostPart, CostResource } from '../cost/model';
import { loadOfflineTable, type OfflineTable } from '../cost/offline-table';
import { PriceBook } from '../cost/price-book';

export const TIER_COST_DEFAULT_REGION = 'us-east-1';

/** lib/compute/instance-types.ts CPU_FAMILIES at the default size (large), in the order offered. */
const CPU_TYPES = ['m6i', 'm6a', 'm7i', 'm7a', 'm5', 'm5a'].map((family) => `${family}.large`);
/** lib/config/schema.ts gpuOptionsSchema instanceTypes default. */
const GPU_TYPES = ['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge'];
/** lib/config/load-config.ts DEFAULT_ROOT_VOLUME_GIB. */
const ROOT_VOLUME_GIB: Record<Tier, number> = { dev: 50, automation: 50, gpu: 100 };

interface TierShape {
  readonly instanceTypes: readonly string[];
  /** automation and gpu: an internal load balancer behind CloudFront (no public IPv4 of its own). */
  readonly behindCloudFront: boolean;
}

const SHAPES: Record<Tier, TierShape> = {
  dev: { instanceTypes: CPU_TYPES, behindCloudFront: false },
  automation: { instanceTypes: CPU_TYPES, behindCloudFront: true },
  gpu: { instanceTypes: GPU_TYPES, behindCloudFront: true },
};

const ONE = Decimal.of(1);

/** A tier's compute stack and its data stack, as the cost model's resources. */
export function tierResources(tier: Tier): CostResource[] {
  const shape = SHAPES[tier];
  const host: CostPart[] = [
    { kind: 'instances', count: 1, market: 'on-demand', instanceTypes: [...shape.instanceTypes], onDemandStrategy: 'prioritized' },
    { kind: 'fixed', key: ebsStorageKey('gp3'), name: `Storage (gp3, ${ROOT_VOLUME_GIB[tier]} GB)`, monthlyQuantity: Decimal.of(ROOT_VOLUME_GIB[tier]) },
    { kind: 'fixed', key: 'vpc:public-ipv4', name: 'Public IPv4 address', hourlyQuantity: ONE },
  ];
  const resources: CostResource[] = [{ name: 'Host', type: 'AWS::AutoScaling::AutoScalingGroup', parts: host }];
  if (shape.behindCloudFront) {
    resources.push({
      name: 'Load balancer (internal)',
      type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
      parts: [
        { kind: 'fixed', key: 'elb:alb', name: 'Application load balancer', hourlyQuantity: ONE },
        { kind: 'usage', key: 'elb:alb-lcu', name: 'Load balancer capacity units (LCU)' },
      ],
    });
    resources.push({
      name: 'CloudFront',
      type: 'AWS::CloudFront::Distribution',
      parts: [
        { kind: 'usage', key: 'cloudfront:data-out', name: 'Data transfer out to the internet (US, Europe)' },
        { kind: 'usage', key: 'cloudfront:https-requests', name: 'HTTPS requests (US, Europe)' },
      ],
    });
  }
  resources.push(
    { name: 'File system', type: 'AWS::EFS::FileSystem', parts: [{ kind: 'usage', key: 'efs:standard', name: 'Storage (Standard)' }] },
    {
      name: `Secrets (${SECRET_PURPOSES.length})`,
      type: 'AWS::SecretsManager::Secret',
      parts: [{ kind: 'fixed', key: 'secrets:secret', name: 'Secrets', monthlyQuantity: Decimal.of(SECRET_PURPOSES.length) }],
    },
  );
  return resources;
}

export interface TierCosts {
  /** The region priced: the one asked for when the table has it, else us-east-1. */
  readonly region: string;
  readonly asOf: string;
  readonly monthly: Readonly<Record<Tier, Decimal>>;
}

export async function tierMonthlyCosts(requestedRegion: string | undefined, table: OfflineTable = loadOfflineTable()): Promise<TierCosts> {
  const region = requestedRegion && table.regions.includes(requestedRegion) ? requestedRegion : TIER_COST_DEFAULT_REGION;
  const monthly = {} as Record<Tier, Decimal>;
  for (const tier of TIERS) {
    const book = new PriceBook({ region, clock: { now: () => 0 }, table, offlineReason: 'the shipped price table' });
    const report = await estimate({ kind: 'template', subject: tier, region, resources: tierResources(tier), notPriced: [], notes: [] }, book, 0);
    monthly[tier] = report.totalMonthlyCost;
  }
  return { region, asOf: table.asOf, monthly };
}
