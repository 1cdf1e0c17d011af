/**
 * What each tier costs a month, for the tier table of `gm-ops init`, before anything is synthesized:
 * the resources a tier deploys with the schema's defaults (as lib/tiers, lib/scale and lib/data build them) as a
 * cost inventory, priced by the cost model on the shipped offline table, as `gm-ops cost --template` prices the
 * synthesized stacks offline. The figure is that on-demand ceiling: a spot host at the on-demand price of the dearest
 * instance type its group offers (price-capacity-optimized may launch any of them), Fargate Spot workers at the
 * on-demand Fargate price, the scale tier's workers at their scaling minimum; usage-based rows (load balancer
 * capacity, CloudFront traffic, EFS storage, RDS backup storage) not included.
 * gm-ops cannot import the CDK app, so the shapes are repeated here; cost-template.test.ts checks the dev figure and
 * cost-scale.test.ts the scale figure against `gm-ops cost --template` on the synthesized stacks.
 */
import { SCALE_BACKLOG_METRIC, STORED_SECRET_PURPOSES, TIERS, type Tier } from '../contract';
import { ebsStorageKey, isGlobalKey } from '../cost/catalogue';
import { Decimal } from '../cost/decimal';
import { estimate } from '../cost/estimate';
import type { CostPart, CostResource } from '../cost/model';
import { loadOfflineTable, type OfflineTable } from '../cost/offline-table';
import { PriceBook } from '../cost/price-book';
import { HOSTED_ZONE_PART, PUBLISHED_METRICS, alarmsPart, cacheNodesPart, customMetricsPart, databaseParts, fargateTaskParts, secretsParts } from '../cost/scale-parts';

export const TIER_COST_DEFAULT_REGION = 'us-east-1';

/** Every tier has its figure. */
export const PRICED_TIERS: readonly Tier[] = TIERS;

/** lib/compute/instance-types.ts ARM64_CPU_FAMILIES (the default architecture, arm64) at the default size (large), in the order offered. */
const CPU_TYPES = ['m6g', 'm7g', 'm6gd', 'r6g'].map((family) => `${family}.large`);
/** lib/config/schema.ts gpuOptionsSchema instanceTypes default. */
const GPU_TYPES = ['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge'];
/** lib/config/load-config.ts DEFAULT_CPU_ROOT_VOLUME_GIB and DEFAULT_GPU_ROOT_VOLUME_GIB. */
const ROOT_VOLUME_GIB: Record<Tier, number> = { dev: 30, automation: 30, gpu: 100, scale: 30 };

interface TierShape {
  readonly instanceTypes: readonly string[];
  /** automation and gpu: an internal load balancer behind CloudFront (no public IPv4 of its own). */
  readonly behindCloudFront: boolean;
}

const SHAPES: Record<Tier, TierShape> = {
  dev: { instanceTypes: CPU_TYPES, behindCloudFront: false },
  automation: { instanceTypes: CPU_TYPES, behindCloudFront: true },
  gpu: { instanceTypes: GPU_TYPES, behindCloudFront: true },
  // The AI host (lib/tiers/scale-stack.ts): the CPU tiers' types and root volume, behind the same CloudFront entry.
  scale: { instanceTypes: CPU_TYPES, behindCloudFront: true },
};

/**
 * The scale tier's defaults: lib/config/scale-schema.ts (main 512/2048 on-demand arm64 Fargate; workers 512/2048 on
 * Fargate Spot, arm64 by scale.workers.architecture, at least their minimum 1 running; no webhook processors; RDS
 * PostgreSQL db.t4g.micro single-AZ with 20 GB gp3 growing to 5 times that, 7 days of backups; one cache.t4g.micro
 * Valkey node) and lib/tiers/scale-stack.ts (every task with a public IPv4 address; a private hosted zone; the runner
 * token secret) with lib/scale (the database and queue secrets, the backlog scaling's one alarm, the backlog function's
 * custom metrics).
 */
const SCALE_DEFAULTS = {
  main: { cpu: 512, memory: 2048, architecture: 'arm', spot: false, count: 1, publicIp: true },
  workers: { cpu: 512, memory: 2048, architecture: 'arm', spot: true, count: 1, publicIp: true },
  database: { instanceClass: 'db.t4g.micro', multiAz: false, storageType: 'gp3', storageGb: 20, maxStorageGb: 100, retentionDays: 7 },
  queue: { nodeType: 'cache.t4g.micro', nodes: 1 },
  /** The runner token (GeuseScale-) and the database's and the queue's (GeuseScaleData-). */
  secrets: 3,
  alarms: 1,
} as const;

const ONE = Decimal.of(1);

/** The scale tier's own resources beyond the AI host, its entry and the data stack. */
function scaleResources(): CostResource[] {
  const d = SCALE_DEFAULTS;
  const notes: string[] = [];
  return [
    { name: 'n8n main (ECS service)', type: 'AWS::ECS::Service', parts: fargateTaskParts(d.main) },
    { name: 'n8n workers (ECS service, at their minimum)', type: 'AWS::ECS::Service', parts: fargateTaskParts(d.workers) },
    { name: 'Database', type: 'AWS::RDS::DBInstance', parts: databaseParts(d.database, 'Database', notes) },
    { name: 'Queue', type: 'AWS::ElastiCache::ReplicationGroup', parts: [cacheNodesPart('valkey', d.queue.nodeType, d.queue.nodes)] },
    { name: 'Private hosted zone', type: 'AWS::Route53::HostedZone', parts: [HOSTED_ZONE_PART] },
    { name: 'Backlog metrics', type: 'AWS::CloudWatch::Metric', parts: [customMetricsPart(PUBLISHED_METRICS[SCALE_BACKLOG_METRIC.namespace])] },
    { name: 'Scaling alarm', type: 'AWS::CloudWatch::Alarm', parts: [alarmsPart(d.alarms)] },
    { name: `Secrets of the scale stacks (${d.secrets})`, type: 'AWS::SecretsManager::Secret', parts: secretsParts(d.secrets) },
  ];
}

/** A tier's compute stack and its data stack (and the scale tier's database stack), as the cost model's resources. */
export function tierResources(tier: Tier): CostResource[] {
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
  if (tier === 'scale') resources.push(...scaleResources());
  return resources;
}

export interface TierCosts {
  /** The region priced: the one asked for when the table has every price the tiers need there, else us-east-1. */
  readonly region: string;
  readonly asOf: string;
  /** Per tier. */
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
  const complete = (region: string) => table.regions.includes(region) && neededKeys().every((key) => table.lookup(region, key, isGlobalKey(key)) !== undefined);
  const region = requestedRegion && complete(requestedRegion) ? requestedRegion : TIER_COST_DEFAULT_REGION;
  const monthly: Partial<Record<Tier, Decimal>> = {};
  for (const tier of PRICED_TIERS) {
    const book = new PriceBook({ region, clock: { now: () => 0 }, table, offlineReason: 'the shipped price table' });
    const report = await estimate({ kind: 'template', subject: tier, region, resources: tierResources(tier), notPriced: [], notes: [] }, book, 0);
    monthly[tier] = report.totalMonthlyCost;
  }
  return { region, asOf: table.asOf, monthly };
}
