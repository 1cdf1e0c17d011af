/**
 * Three all-in figures beside the on-demand ceiling (`totalMonthlyCost`), on the assumptions issue 12
 * prices its targets with: 730 hours a month, and a new file system holding 5 GB (a template's EFS is a
 * usage row, 0 GB until used; a running deployment's metered size is used as it is).
 *
 * - typical spot (`typicalSpotMonthlyCost`): every part as in the total, but a spot host at the typical
 *   spot price of the types its group offers, from the shipped table (dated, each row citing its public
 *   source). Under price-capacity-optimized any offered type may be launched, so the figure takes the
 *   HIGHEST typical price among them: it never flatters. A type without a typical spot price in the table
 *   counts at its on-demand price (the most it can cost), and says so. An on-demand host stays as in the
 *   total.
 * - scheduled (`scheduledMonthlyCost`, only when the group has start/stop scheduled actions): the typical
 *   spot figure with the parts that exist only while a host runs — the instance, its root volume (deleted on
 *   termination) and its public IPv4 address — scaled by the running hours of the schedule (weekly hours x
 *   730 / 168, see schedule.ts); everything else (file system, secrets, load balancer, ...) stays whole.
 * - stopped (`stoppedMonthlyCost`): no host at all: only what survives a stop — the file system at its
 *   assumed size, the stored secrets, and on automation/gpu the load balancer (its hours and public IPv4
 *   addresses); CloudFront has no fixed charge.
 * Usage-based rows and prices not found are left out, as in the total.
 *
 * The scale tier: its Fargate tasks exist only while they run (withHost). In the typical-spot figure a Fargate Spot
 * task (the workers) is at the dated typical Fargate Spot price of the table (per vCPU-hour and GB-hour), an
 * on-demand task (the main) as in the total. Stopped means no AI host and no task (every service at 0, as
 * `gm-ops migrate` holds them): the RDS instance keeps billing — RDS starts a stopped instance again after seven
 * days, so a stopped deployment counts it whole — and so do its storage, the Valkey nodes, the load balancer,
 * the hosted zone, the custom metrics and alarms (the backlog function keeps publishing), the secrets and the
 * file system.
 */
import { HOURS_PER_MONTH } from '../contract';
import { Decimal } from './decimal';
import type { CostComponent, CostResourceResult } from './estimate';
import type { CostInventory, CostPart, FixedPart, InstancePart, Market } from './model';
import type { PriceBook } from './price-book';
import { displayPrice, tieredCost } from './prices';
import { scheduleHours, type ScheduleHours } from './schedule';

const HOURS = Decimal.of(HOURS_PER_MONTH);

/** The size a template's new file system is priced at in these figures (GB). */
export const ASSUMED_FILE_SYSTEM_GB = 5;

/** What a host is priced at in the typical-spot figure. */
export interface TypicalHost {
  readonly resource: string;
  readonly market: Market;
  readonly count: number;
  readonly instanceType?: string;
  /** Per instance-hour. */
  readonly price?: Decimal;
  readonly monthlyCost?: Decimal;
  readonly basis: 'typical spot' | 'on-demand: no typical spot price' | 'on-demand market' | 'price not found';
  /** Where the price comes from ("AWS spot price feed ..., as of 2026-08-06"), and its address. */
  readonly source?: string;
  readonly sourceUrl?: string;
  readonly note: string;
}

export interface ScheduledFigure {
  readonly monthlyCost?: Decimal;
  readonly hours?: ScheduleHours;
  /** Why it cannot be estimated. */
  readonly reason?: string;
}

/** What a Fargate Spot part (vCPU-hours or GB-hours of spot tasks) is priced at in the typical-spot figure. */
export interface TypicalTaskPart {
  readonly resource: string;
  readonly component: string;
  /** Per unit (vCPU-hour, GB-hour). */
  readonly price?: Decimal;
  /** "vCPU-hours", "GB-hours". */
  readonly unit: string;
  readonly monthlyCost?: Decimal;
  readonly basis: 'typical spot' | 'on-demand: no typical spot price' | 'price not found';
  readonly source?: string;
  readonly sourceUrl?: string;
  readonly note: string;
}

export interface CostScenarios {
  readonly fileSystem?: { readonly assumedGb: number; readonly monthlyCost?: Decimal; readonly note?: string };
  readonly typicalSpotMonthlyCost?: Decimal;
  readonly stoppedMonthlyCost: Decimal;
  readonly scheduled?: ScheduledFigure;
  readonly hosts: readonly TypicalHost[];
  /** Fargate Spot tasks (the scale tier's workers), per priced dimension. */
  readonly tasks: readonly TypicalTaskPart[];
  /** Components that exist only while a host runs (scaled by a schedule, gone when stopped). */
  readonly withHost: readonly string[];
  /** Components that survive a stop. */
  readonly survives: readonly string[];
}

function isPriced(component: CostComponent): component is CostComponent & { monthlyCost: Decimal } {
  return !component.priceNotFound && !component.usageBased && component.monthlyCost !== undefined;
}

/** The typical-spot price of a host: the highest typical spot price among the offered types. */
async function typicalHost(resourceName: string, part: InstancePart, component: CostComponent, book: PriceBook): Promise<TypicalHost> {
  const count = Decimal.of(part.count);
  const base = { resource: resourceName, market: part.market, count: part.count };
  if (part.market === 'on-demand') {
    if (!isPriced(component)) return { ...base, basis: 'price not found', note: 'the on-demand price of the host was not found' };
    return { ...base, instanceType: component.instanceType, price: component.price, monthlyCost: component.monthlyCost, basis: 'on-demand market', note: 'an on-demand host: as in the total' };
  }
  const candidates: { type: string; price: Decimal; basis: TypicalHost['basis']; source?: string; sourceUrl?: string }[] = [];
  const unpriced: string[] = [];
  for (const type of part.instanceTypes) {
    const typical = book.table.typicalSpot(book.region, type);
    if (typical) {
      candidates.push({ type, price: typical.price, basis: 'typical spot', source: `${typical.label}, as of ${typical.asOf}`, sourceUrl: typical.url });
      continue;
    }
    const quote = await book.list(`ec2:${type}`);
    const onDemand = quote.notFound ? undefined : displayPrice(quote.tiers);
    if (onDemand) candidates.push({ type, price: onDemand, basis: 'on-demand: no typical spot price', source: `${quote.source} on-demand price` });
    else unpriced.push(type);
  }
  if (candidates.length === 0) {
    return { ...base, basis: 'price not found', note: `no typical spot or on-demand price for ${part.instanceTypes.join(', ') || 'the host (no instance type known)'}` };
  }
  const highest = candidates.reduce((a, b) => (b.price.cmp(a.price) > 0 ? b : a));
  const fallbacks = candidates.filter((c) => c.basis !== 'typical spot').map((c) => c.type);
  const notes = [
    candidates.length > 1 ? `the highest typical price of the ${candidates.length} offered types (price-capacity-optimized may launch any of them)` : 'the one type offered',
    ...(fallbacks.length > 0 ? [`no typical spot price in the table for ${fallbacks.join(', ')} in ${book.region}: at its on-demand price`] : []),
    ...(unpriced.length > 0 ? [`no price at all for ${unpriced.join(', ')}: left out`] : []),
  ];
  return {
    ...base,
    instanceType: highest.type,
    price: highest.price,
    monthlyCost: highest.price.mul(count).mul(HOURS),
    basis: highest.basis,
    source: highest.source,
    sourceUrl: highest.sourceUrl,
    note: notes.join('; '),
  };
}

export async function costScenarios(inventory: CostInventory, results: readonly CostResourceResult[], book: PriceBook): Promise<CostScenarios> {
  let survivesCost = Decimal.ZERO;
  let hostFixedCost = Decimal.ZERO;
  let hostInstanceCost: Decimal | undefined = Decimal.ZERO;
  const hosts: TypicalHost[] = [];
  const tasks: TypicalTaskPart[] = [];
  const withHost: string[] = [];
  const survives: string[] = [];
  let fileSystem: CostScenarios['fileSystem'];

  for (const [index, resource] of inventory.resources.entries()) {
    const result = results[index];
    for (const [partIndex, part] of (resource.parts as readonly CostPart[]).entries()) {
      const component = result.components[partIndex];
      if (part.kind === 'instances') {
        const host = await typicalHost(resource.name, part, component, book);
        hosts.push(host);
        withHost.push(`${resource.name}: ${component.name}`);
        hostInstanceCost = host.monthlyCost && hostInstanceCost ? hostInstanceCost.add(host.monthlyCost) : undefined;
        continue;
      }
      if (part.kind === 'usage') {
        if (part.key !== 'efs:standard') continue;
        const quote = await book.list('efs:standard');
        const assumed = Decimal.of(ASSUMED_FILE_SYSTEM_GB);
        const monthlyCost = quote.notFound || quote.tiers.length === 0 ? undefined : tieredCost(quote.tiers, assumed);
        const previous = fileSystem?.monthlyCost ?? Decimal.ZERO;
        fileSystem = monthlyCost
          ? { assumedGb: ASSUMED_FILE_SYSTEM_GB, monthlyCost: previous.add(monthlyCost) }
          : { assumedGb: ASSUMED_FILE_SYSTEM_GB, monthlyCost: fileSystem?.monthlyCost, note: `no EFS Standard price: ${quote.notFound ?? 'not found'}` };
        if (monthlyCost) survivesCost = survivesCost.add(monthlyCost);
        survives.push(`${resource.name}: ${component.name} (assumed ${ASSUMED_FILE_SYSTEM_GB} GB)`);
        continue;
      }
      if (part.typicalSpotKey) {
        const task = typicalTask(resource.name, part.typicalSpotKey, part, component, book);
        tasks.push(task);
        withHost.push(`${resource.name}: ${component.name}`);
        hostInstanceCost = task.monthlyCost && hostInstanceCost ? hostInstanceCost.add(task.monthlyCost) : undefined;
        continue;
      }
      if (!isPriced(component)) continue;
      if (part.withHost) {
        hostFixedCost = hostFixedCost.add(component.monthlyCost);
        withHost.push(`${resource.name}: ${component.name}`);
      } else {
        survivesCost = survivesCost.add(component.monthlyCost);
        survives.push(`${resource.name}: ${component.name}`);
      }
    }
  }

  const hostRunning = hostInstanceCost?.add(hostFixedCost);
  const typicalSpotMonthlyCost = hostRunning?.add(survivesCost);
  let scheduled: ScheduledFigure | undefined;
  if (inventory.schedule) {
    const estimate = scheduleHours(inventory.schedule);
    if (!estimate.ok) scheduled = { reason: estimate.reason };
    else if (!hostRunning) scheduled = { hours: estimate.hours, reason: 'the typical price of the host is not known' };
    else scheduled = { hours: estimate.hours, monthlyCost: survivesCost.add(hostRunning.mul(estimate.hours.fraction)) };
  }
  return { fileSystem, typicalSpotMonthlyCost, stoppedMonthlyCost: survivesCost, scheduled, hosts, tasks, withHost, survives };
}

/**
 * A Fargate Spot part at the dated typical Fargate Spot price of its key (quantity as in the total), or at the
 * on-demand price it has in the total when the table has no typical price for it (the most it costs).
 */
function typicalTask(resourceName: string, key: string, part: FixedPart, component: CostComponent, book: PriceBook): TypicalTaskPart {
  const base = { resource: resourceName, component: component.name, unit: component.unit };
  const typical = book.table.typicalSpot(book.region, key);
  const monthlyQuantity = part.monthlyQuantity ?? (part.hourlyQuantity ?? Decimal.ZERO).mul(HOURS);
  if (typical) {
    return {
      ...base,
      price: typical.price,
      monthlyCost: typical.price.mul(monthlyQuantity),
      basis: 'typical spot',
      source: `${typical.label}, as of ${typical.asOf}`,
      sourceUrl: typical.url,
      note: 'the dated typical Fargate Spot price of the shipped table',
    };
  }
  if (!isPriced(component)) return { ...base, basis: 'price not found', note: 'neither a typical Fargate Spot price nor an on-demand price was found' };
  return {
    ...base,
    price: component.price,
    monthlyCost: component.monthlyCost,
    basis: 'on-demand: no typical spot price',
    source: `${component.source ?? 'offline'} on-demand price`,
    note: `no typical Fargate Spot price in the table for ${key} in ${book.region}: at the on-demand Fargate price, the most it costs`,
  };
}
