/**
 * The rows of the scale tier's managed services, built from the facts that price them, whether the facts come
 * from a synthesized template (template.ts) or from a running deployment (live-scale.ts): the same price keys,
 * the same labels, so the two estimates agree row by row.
 */
import { SCALE_BACKLOG_METRIC } from '../contract';
import { elasticacheNodeKey, fargateKey, fargateSpotKey, rdsInstanceKey, type FargateArchitecture } from './catalogue';
import { Decimal } from './decimal';
import type { CostPart, FixedPart, UsagePart } from './model';

const ONE = Decimal.of(1);

/** "0.5 vCPU", "2 GB": Fargate's CPU units (1024 = 1 vCPU) and MiB as the units it is billed in. */
export const vcpuText = (cpu: number): string => `${Decimal.of(cpu).div(1024).toString()} vCPU`;
export const gbText = (mib: number): string => `${Decimal.of(mib).div(1024).toString()} GB`;

/** Tasks of one ECS service on Fargate. */
export interface FargateTasks {
  /** CPU units (1024 = 1 vCPU) and MiB of one task. */
  readonly cpu: number;
  readonly memory: number;
  readonly architecture: FargateArchitecture;
  /** Every task on FARGATE_SPOT (a strategy mixing both is priced as FARGATE: the most it costs). */
  readonly spot: boolean;
  readonly count: number;
  /** AssignPublicIp ENABLED: one public IPv4 address per task. */
  readonly publicIp: boolean;
}

const SPOT_NOTE = 'Fargate Spot: the total counts it at the on-demand Fargate price (the most it costs); the typical-spot figure at the dated typical Fargate Spot price';

/** vCPU-hours and GB-hours of the running tasks, and one public IPv4 per task; they exist only while the tasks run. */
export function fargateTaskParts(tasks: FargateTasks): CostPart[] {
  const { cpu, memory, architecture, spot, count } = tasks;
  const capacity = spot ? 'FARGATE_SPOT' : 'FARGATE';
  const platformText = `Linux/${architecture === 'arm' ? 'ARM64' : 'x86_64'}`;
  const times = count === 1 ? '' : ` x ${count}`;
  const spotKey = (dimension: 'vcpu' | 'gb') => (architecture === 'x86' ? fargateSpotKey(dimension) : `fargate-spot:linux-arm:${dimension}`);
  const parts: CostPart[] = [
    {
      kind: 'fixed',
      key: fargateKey(architecture, 'vcpu'),
      name: `Fargate vCPU (${capacity}, ${platformText}, ${vcpuText(cpu)}${times})`,
      hourlyQuantity: Decimal.of(cpu).div(1024).mul(count),
      withHost: true,
      ...(spot ? { typicalSpotKey: spotKey('vcpu'), note: SPOT_NOTE } : {}),
    },
    {
      kind: 'fixed',
      key: fargateKey(architecture, 'gb'),
      name: `Fargate memory (${capacity}, ${platformText}, ${gbText(memory)}${times})`,
      hourlyQuantity: Decimal.of(memory).div(1024).mul(count),
      withHost: true,
      ...(spot ? { typicalSpotKey: spotKey('gb') } : {}),
    },
  ];
  if (tasks.publicIp) {
    parts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 address (AssignPublicIp, one per task${times})`, hourlyQuantity: Decimal.of(count), withHost: true });
  }
  return parts;
}

/** "ECS service <id> (2 tasks, 0.5 vCPU / 2 GB each; <how the count was chosen>)". */
export function fargateServiceName(id: string, tasks: Pick<FargateTasks, 'cpu' | 'memory' | 'count'>, countNote: string): string {
  return `ECS service ${id} (${tasks.count} task${tasks.count === 1 ? '' : 's'}, ${vcpuText(tasks.cpu)} / ${gbText(tasks.memory)} each; ${countNote})`;
}

export const RDS_INSTANCE_CLASS = /^db\.[a-z0-9-]+\.[a-z0-9-]+$/;
export const CACHE_NODE_TYPE = /^cache\.[a-z0-9-]+\.[a-z0-9-]+$/;

/** An RDS PostgreSQL instance (the only engine gm-ops prices). */
export interface DatabaseFacts {
  readonly instanceClass: string;
  readonly multiAz: boolean;
  readonly storageType: string;
  /** Allocated GB; undefined when computed at deploy time. */
  readonly storageGb?: number;
  readonly maxStorageGb?: number;
  readonly retentionDays?: number;
  /** False for a stopped instance: no instance hours, the storage still billed. */
  readonly running?: boolean;
}

/** Instance hours (Multi-AZ at its own price), gp3 storage (Multi-AZ: twice), and the backup usage row. */
export function databaseParts(facts: DatabaseFacts, label: string, notes: string[]): CostPart[] {
  const { instanceClass, multiAz, storageType, storageGb: storage } = facts;
  const parts: CostPart[] = [];
  if (facts.running !== false) {
    parts.push({
      kind: 'fixed',
      key: rdsInstanceKey('postgres', instanceClass, multiAz),
      name: `DB instance (PostgreSQL, ${instanceClass}, ${multiAz ? 'Multi-AZ: primary and standby' : 'Single-AZ'})`,
      hourlyQuantity: ONE,
    });
  }
  if (storageType === 'gp3' && storage !== undefined) {
    parts.push({
      kind: 'fixed',
      key: 'rds:gp3:storage',
      name: `Storage (gp3, ${storage} GB${multiAz ? ' x 2: the standby has its own' : ''})`,
      monthlyQuantity: Decimal.of(multiAz ? storage * 2 : storage),
      ...(facts.maxStorageGb ? { note: `storage autoscaling may grow it to ${facts.maxStorageGb} GB, billed as it grows` } : {}),
    });
  } else {
    notes.push(`${label}: RDS ${storageType} storage${storage === undefined ? ' of a computed size' : ''} is not priced by gm-ops`);
  }
  const backup: UsagePart = {
    kind: 'usage',
    key: 'rds:backup',
    name: 'Backup storage',
    note: `automated backups${facts.retentionDays !== undefined ? ` (${facts.retentionDays} days)` : ''} and snapshots: free up to the provisioned storage, then per GB-month`,
  };
  parts.push(backup);
  return parts;
}

/** Node hours of a node-based Valkey or Redis OSS cache. */
export function cacheNodesPart(engine: 'valkey' | 'redis', nodeType: string, nodes: number): FixedPart {
  return {
    kind: 'fixed',
    key: elasticacheNodeKey(engine, nodeType),
    name: `Cache nodes (${engine === 'valkey' ? 'Valkey' : 'Redis OSS'}, ${nodeType}${nodes > 1 ? ` x ${nodes}` : ''})`,
    hourlyQuantity: Decimal.of(nodes),
  };
}

export const HOSTED_ZONE_PART: FixedPart = { kind: 'fixed', key: 'route53:hosted-zone', name: 'Hosted zone', monthlyQuantity: ONE };

/** The metrics a Lambda function of the scale tier publishes (contract SCALE_BACKLOG_METRIC), by its METRIC_NAMESPACE. */
export const PUBLISHED_METRICS: Readonly<Record<string, readonly string[]>> = {
  [SCALE_BACKLOG_METRIC.namespace]: [SCALE_BACKLOG_METRIC.backlogPerWorker, SCALE_BACKLOG_METRIC.waitingJobs],
};

/** Custom metrics, billed per metric-month. */
export function customMetricsPart(metrics: readonly string[]): FixedPart {
  return { kind: 'fixed', key: 'cloudwatch:metric', name: `Custom metrics (${metrics.join(', ')})`, monthlyQuantity: Decimal.of(metrics.length) };
}

export function alarmsPart(count: number): FixedPart {
  return { kind: 'fixed', key: 'cloudwatch:alarm', name: 'Alarms (standard resolution)', monthlyQuantity: Decimal.of(count) };
}

export function secretsParts(count: number): CostPart[] {
  return [
    { kind: 'fixed', key: 'secrets:secret', name: 'Secrets', monthlyQuantity: Decimal.of(count) },
    { kind: 'usage', key: 'secrets:api', name: 'API requests' },
  ];
}

