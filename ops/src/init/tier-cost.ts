/**
 * What each tier costs a month, for the tier table of `gm-ops init`, before anything is synthesized:
 * the resources a tier deploys with the schema's defaults (as lib/tiers and lib/data build them) as a
 * cost inventory, priced by the cost model on the shipped offline table. The figure is the on-demand
 * ceiling: the host at the on-demand price of its first instance type (what a spot host costs at most),
 * usage-based rows (load balancer capacity, CloudFront traffic, EFS storage) not included.
 * gm-ops cannot import the CDK app, so the shapes are repeated here; cost-template.test.ts checks the
 * dev figure against `gm-ops cost --template` on the synthesized stacks.
 * The scale tier (ECS Fargate, RDS, Valkey) has no rows in the price table yet: it is not estimated.
 */
import { STORED_SECRET_PURPOSES, TIERS, type Tier } from '../contract';
import { ebsStorageKey } from '../cost/catalogue';
import { Decimal } from '../cost/decimal';
import { estimate } from '../cost/estimate';
import type { CostPart, CostResource } from '../cost/model';
import { loadOfflineTable, type OfflineTable } from '../cost/offline-table';
import { PriceBook } from '../cost/price-book';

export const TIER_COST_DEFAULT_REGION = 'us-east-1';

/** The tiers of one host that this module prices. */
export type HostTier = Exclude<Tier, 'scale'>;
export const PRICED_TIERS: readonly HostTier[] = TIERS.filter((t): t is HostTier => t !== 'scale');

/** lib/compute/instance-types.ts ARM64_CPU_FAMILIES (the default architecture, arm64) at the default size (large), in the order offered. */
const CPU_TYPES = ['m6g', 'm7g', 'm6gd', 'r6g'].map((family) => `${family}.large`);
/** lib/config/schema.ts gpuOptionsSchema instanceTypes default. */
const GPU_TYPES = ['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge'];
/** lib/config/load-config.ts DEFAULT_CPU_ROOT_VOLUME_GIB and DEFAULT_GPU_ROOT_VOLUME_GIB. */
const ROOT_VOLUME_GIB: Record<HostTier, number> = { dev: 30, automation: 30, gpu: 100 };

interface TierShape {
  readonly instanceTypes: readonly string[];
  /** automation and gpu: an internal load balancer behind CloudFront (no public IPv4 of its own). */
  readonly behindCloudFront: boolean;
}

const SHAPES: Record<HostTier, TierShape> = {
  dev: { instanceTypes: CPU_TYPES, behindCloudFront: false },
  automation: { instanceTypes: CPU_TYPES, behindCloudFront: true },
  gpu: { instanceTypes: GPU_TYPES, behindCloudFront: true },
};

const ONE = Decimal.of(1);

/** A tier's compute stack and its data stack, as the cost model's resources. */
export function tierResources(tier: HostTier): CostResource[] {
  const shape = SHAPES[tier];
  const host: CostPart[] = [
    // Spot, as deployed: offline that is the dearest offered type's on-demand price, the ceiling gm-ops cost --template shows.
    { kind: 'instances', count: 1, market: 'spot', instanceTypes: [...shape.instanceTypes] },
    { kind: 'fixed', key: ebsStorageKey('gp3'), name: `Storage (gp3, ${ROOT_VOLUME_GIB[tier]} GB)`, monthlyQuantity: Decimal.of(ROOT_VOLUME_GIB[tier]), withHost: true },
    { kind: 'fixed', key: 'vpc:public-ipv4', name: 'Public IPv4 address', hourlyQuantity: ONE, withHost: true },
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
      name: `Secrets (${STORED_SECRET_PURPOSES.length})`,
      type: 'AWS::SecretsManager::Secret',
      parts: [{ kind: 'fixed', key: 'secrets:secret', name: 'Secrets', monthlyQuantity: Decimal.of(STORED_SECRET_PURPOSES.length) }],
    },
  );
  return resources;
}

export interface TierCosts {
  /** The region priced: the one asked for when the table has every price the tiers need there, else us-east-1. */
  readonly region: string;
  readonly asOf: string;
  /** Per tier; a tier this module does not price (scale) is absent. */
  readonly monthly: Readonly<Partial<Record<Tier, Decimal>>>;
}

/** The price keys of the fixed parts and every instance type of each tier (the ceiling is the dearest one's). */
function neededKeys(): string[] {
  return PRICED_TIERS.flatMap((tier) => tierResources(tier).flatMap((r) => r.parts.flatMap((p) => {
    if (p.kind === 'instances') return p.instanceTypes.map((type) => `ec2:${type}`);
    return p.kind === 'fixed' ? [p.key] : [];
  })));
}

export async function tierMonthlyCosts(requestedRegion: string | undefined, table: OfflineTable = loadOfflineTable()): Promise<TierCosts> {
  // A region the table lacks a needed price for (the arm64 types outside us-east-1) would show a partial figure.
  const complete = (region: string) => table.regions.includes(region) && neededKeys().every((key) => table.lookup(region, key, false) !== undefined);
  const region = requestedRegion && complete(requestedRegion) ? requestedRegion : TIER_COST_DEFAULT_REGION;
  const monthly: Partial<Record<Tier, Decimal>> = {};
  for (const tier of PRICED_TIERS) {
    const book = new PriceBook({ region, clock: { now: () => 0 }, table, offlineReason: 'the shipped price table' });
    const report = await estimate({ kind: 'template', subject: tier, region, resources: tierResources(tier), notPriced: [], notes: [] }, book, 0);
    monthly[tier] = report.totalMonthlyCost;
  }
  return { region, asOf: table.asOf, monthly };
}
