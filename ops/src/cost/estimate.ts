/**
 * Prices an inventory: every part becomes a cost component (price, monthly quantity, monthly cost,
 * or "depends on usage", or "price not found"), with hourly and monthly totals (730 h), the savings of
 * spot against on-demand, and for a running host its cost since it launched.
 */
import { HOURS_PER_MONTH } from '../contract';
import { Decimal } from './decimal';
import type { CostInventory, CostPart, CostResource, FixedPart, InstancePart, Market, UsagePart } from './model';
import type { PriceBook } from './price-book';
import { priceSpec } from './catalogue';
import { displayPrice, tieredCost, type PriceQuote, type PriceSourceKind, type PriceTier } from './prices';
import { costScenarios, type CostScenarios } from './scenarios';
import { integrateSpot } from './spot';

const HOURS = Decimal.of(HOURS_PER_MONTH);
const HOUR_MS = 3_600_000;

export interface CostComponent {
  readonly name: string;
  readonly unit: string;
  readonly priceKey?: string;
  /** Per unit; the first paid tier when tiered. */
  readonly price?: Decimal;
  readonly tiers?: readonly PriceTier[];
  readonly hourlyQuantity?: Decimal;
  readonly monthlyQuantity?: Decimal;
  readonly hourlyCost?: Decimal;
  readonly monthlyCost?: Decimal;
  readonly priceNotFound: boolean;
  readonly usageBased: boolean;
  readonly source?: PriceSourceKind;
  readonly note?: string;
  /** Instances: the market, the type priced, and its on-demand price (savings). */
  readonly market?: Market;
  readonly instanceType?: string;
  readonly onDemandPrice?: Decimal;
}

export interface CostResourceResult {
  readonly name: string;
  readonly type: string;
  readonly id?: string;
  readonly stack?: string;
  readonly components: readonly CostComponent[];
  readonly hourlyCost: Decimal;
  readonly monthlyCost: Decimal;
}

export interface SinceLaunch {
  readonly instanceId?: string;
  readonly launchedAt: number;
  readonly hours: Decimal;
  readonly cost: Decimal;
  readonly note: string;
}

/** `none`: not one price was found anywhere (nothing to price, or AWS answered without prices). */
export type ReportSource = PriceSourceKind | 'none';

export interface CostReport {
  readonly kind: CostInventory['kind'];
  readonly subject: string;
  readonly region: string;
  readonly generatedAt: number;
  readonly resources: readonly CostResourceResult[];
  readonly totalHourlyCost: Decimal;
  readonly totalMonthlyCost: Decimal;
  /** The same with every spot instance at its on-demand price (undefined when an on-demand price is missing). */
  readonly onDemandMonthlyCost?: Decimal;
  readonly monthlySavings?: Decimal;
  readonly sinceLaunch?: SinceLaunch;
  readonly source: ReportSource;
  readonly sourceDetail: string;
  readonly offlineReason?: string;
  readonly spotUnavailable?: string;
  readonly priceTable: { readonly asOf: string; readonly path: string };
  readonly notPriced: CostInventory['notPriced'];
  readonly notes: readonly string[];
  readonly priceNotFound: readonly string[];
  /** Typical-spot, scheduled and stopped figures (all-in; see scenarios.ts). */
  readonly scenarios: CostScenarios;
}

function unitOf(key: string): string {
  return priceSpec(key)?.unit ?? 'units';
}

function notFoundComponent(name: string, key: string, quote: PriceQuote, usageBased: boolean): CostComponent {
  return { name, unit: unitOf(key), priceKey: key, priceNotFound: true, usageBased, source: quote.source, note: quote.notFound ?? 'price not found' };
}

async function priceFixed(part: FixedPart, book: PriceBook): Promise<CostComponent> {
  const quote = await book.list(part.key);
  if (quote.notFound || quote.tiers.length === 0) return notFoundComponent(part.name, part.key, quote, false);
  const monthlyQuantity = part.monthlyQuantity ?? (part.hourlyQuantity ?? Decimal.ZERO).mul(HOURS);
  const monthlyCost = tieredCost(quote.tiers, monthlyQuantity);
  return {
    ...quotedComponent(part, quote, false),
    hourlyQuantity: part.hourlyQuantity,
    monthlyQuantity,
    monthlyCost,
    hourlyCost: monthlyCost.div(HOURS),
  };
}

async function priceUsage(part: UsagePart, book: PriceBook): Promise<CostComponent> {
  const quote = await book.list(part.key);
  if (quote.notFound || quote.tiers.length === 0) return notFoundComponent(part.name, part.key, quote, true);
  return quotedComponent(part, quote, true);
}

/** The fields of a component whose price was found, whatever its quantity. */
function quotedComponent(part: FixedPart | UsagePart, quote: Awaited<ReturnType<PriceBook['list']>>, usageBased: boolean): CostComponent {
  return {
    name: part.name,
    unit: unitOf(part.key),
    priceKey: part.key,
    price: displayPrice(quote.tiers),
    tiers: quote.tiers.length > 1 ? quote.tiers : undefined,
    priceNotFound: false,
    usageBased,
    source: quote.source,
    note: part.note,
  };
}

interface InstancePricing {
  readonly component: CostComponent;
  readonly onDemandMonthly?: Decimal;
}

async function priceInstances(part: InstancePart, book: PriceBook, spotUnavailable: (reason: string) => void): Promise<InstancePricing> {
  const count = Decimal.of(part.count);
  const label = (type: string | undefined) =>
    `Instance usage (Linux, ${part.market}${type ? `, ${type}` : ''}${part.count > 1 ? ` x ${part.count}` : ''})`;
  if (part.instanceTypes.length === 0) {
    return {
      component: { name: label(undefined), unit: 'hours', priceNotFound: true, usageBased: false, market: part.market, note: 'no instance type known' },
    };
  }
  const onDemand = new Map<string, PriceQuote>();
  for (const type of part.instanceTypes) onDemand.set(type, await book.list(`ec2:${type}`));
  const odPrice = (type: string): Decimal | undefined => {
    const quote = onDemand.get(type);
    return quote && !quote.notFound && quote.tiers.length > 0 ? displayPrice(quote.tiers) : undefined;
  };

  let type = part.instanceTypes[0];
  let price: Decimal | undefined;
  let source: PriceSourceKind | undefined;
  let note: string | undefined;
  if (part.market === 'on-demand' && part.onDemandStrategy === 'lowest-price') {
    const priced = part.instanceTypes.filter((t) => odPrice(t)).sort((a, b) => odPrice(a)!.cmp(odPrice(b)!));
    if (priced[0]) type = priced[0];
    if (part.instanceTypes.length > 1) note = `lowest on-demand price of ${part.instanceTypes.length} types`;
  } else if (part.market === 'on-demand' && part.instanceTypes.length > 1) {
    note = `the first of ${part.instanceTypes.length} types (prioritized): ${part.instanceTypes.join(', ')}`;
  }
  if (part.market === 'spot') {
    const spot = await book.spotNow(part.instanceTypes, part.availabilityZone);
    const best = spot?.points[0];
    if (spot && best) {
      type = best.instanceType;
      price = best.price;
      source = spot.source;
      note =
        part.instanceTypes.length > 1 || !part.availabilityZone
          ? `lowest spot price now of ${part.instanceTypes.length} type${part.instanceTypes.length > 1 ? 's' : ''} in ${book.region} (${best.instanceType} in ${best.availabilityZone}); price-capacity-optimized may pick another`
          : `spot price now in ${best.availabilityZone}`;
    } else {
      const reason = book.unreachable.spot ?? (spot ? `no spot price for ${part.instanceTypes.join(', ')}${part.availabilityZone ? ` in ${part.availabilityZone}` : ''}` : 'spot prices need the live API');
      spotUnavailable(reason);
      // Price-capacity-optimized may launch any of the types: the ceiling is the dearest one's on-demand price.
      const dearest = part.instanceTypes.filter((t) => odPrice(t)).sort((a, b) => odPrice(b)!.cmp(odPrice(a)!))[0];
      if (dearest) type = dearest;
      note = part.instanceTypes.length > 1
        ? `spot price unknown (${reason}): priced at the on-demand price of ${type}, the dearest of the ${part.instanceTypes.length} types offered, the most a spot instance costs`
        : `spot price unknown (${reason}): priced at the on-demand price of ${type}, the most a spot instance costs`;
    }
  }
  if (price === undefined) {
    const quote = onDemand.get(type)!;
    if (quote.notFound || quote.tiers.length === 0) {
      return { component: { ...notFoundComponent(label(type), `ec2:${type}`, quote, false), market: part.market, instanceType: type } };
    }
    price = displayPrice(quote.tiers)!;
    source = quote.source;
  }
  const hourlyCost = price.mul(count);
  const od = odPrice(type);
  return {
    component: {
      name: label(type),
      unit: 'hours',
      priceKey: part.market === 'spot' ? `spot:${type}` : `ec2:${type}`,
      price,
      hourlyQuantity: count,
      monthlyQuantity: count.mul(HOURS),
      hourlyCost,
      monthlyCost: hourlyCost.mul(HOURS),
      priceNotFound: false,
      usageBased: false,
      source,
      note,
      market: part.market,
      instanceType: type,
      onDemandPrice: od,
    },
    onDemandMonthly: od?.mul(count).mul(HOURS),
  };
}

async function sinceLaunch(resource: CostResourceResult, part: InstancePart, book: PriceBook, now: number): Promise<SinceLaunch | undefined> {
  if (part.launchedAt === undefined || part.launchedAt > now) return undefined;
  const instance = resource.components.find((c) => c.market !== undefined);
  if (!instance || instance.priceNotFound || !instance.instanceType || !instance.price) return undefined;
  const hours = Decimal.of(now - part.launchedAt).div(HOUR_MS);
  let instanceCost = instance.price.mul(hours).mul(part.count);
  let note = `at the current ${instance.market} price`;
  if (part.market === 'spot' && part.availabilityZone) {
    const history = await book.spotSince(instance.instanceType, part.availabilityZone, part.launchedAt);
    const integral = history ? integrateSpot(history.points.filter((p) => p.instanceType === instance.instanceType && p.availabilityZone === part.availabilityZone), part.launchedAt, now) : undefined;
    if (integral) {
      instanceCost = integral.cost.mul(part.count);
      note = integral.note ? `at the spot prices in effect (${integral.note})` : 'at the spot prices in effect';
    }
  }
  const others = resource.components.filter((c) => c !== instance && c.monthlyCost && !c.usageBased);
  const othersCost = Decimal.sum(others.map((c) => c.monthlyCost!)).mul(hours).div(HOURS);
  return {
    instanceId: part.instanceId,
    launchedAt: part.launchedAt,
    hours,
    cost: instanceCost.add(othersCost),
    note: `instance ${note}${others.length > 0 ? '; root volume and public IPv4 pro rata' : ''}`,
  };
}

/** Where the prices came from, as a whole: offline as soon as one is, live only when one really was. */
function sourceSummary(book: PriceBook, now: number): { source: ReportSource; detail: string; offlineReason?: string } {
  const { counts, withoutPrice, listPrices, oldestCached } = book.usage();
  const live = counts.get('live') ?? 0;
  const cached = counts.get('cached') ?? 0;
  const offline = counts.get('offline') ?? 0;
  if (offline > 0) {
    const reason = book.unreachable.pricing ?? 'the Price List API was not used';
    return {
      source: 'offline',
      detail: `OFFLINE ESTIMATE from the shipped price table (as of ${book.table.asOf}), not live prices: ${reason}`,
      offlineReason: reason,
    };
  }
  if (listPrices === 0) {
    if (withoutPrice > 0) {
      return { source: 'none', detail: `no prices: AWS answered ${withoutPrice} price question${withoutPrice > 1 ? 's' : ''} for ${book.region} without a price` };
    }
    return { source: 'none', detail: 'no prices: nothing here is priced by gm-ops' };
  }
  if (cached > 0) {
    const age = oldestCached !== undefined ? Math.max(0, Math.round((now - oldestCached) / 60_000)) : undefined;
    const ageText = age === undefined ? '' : age < 90 ? `, oldest fetched ${age} min ago` : `, oldest fetched ${Math.round(age / 60)} h ago`;
    return { source: 'cached', detail: `cached: ${cached} of ${cached + live} prices from the local price cache${ageText} (AWS Price List API, ${book.region})` };
  }
  // Here every list price came from the Price List API just now.
  return { source: 'live', detail: `live: AWS Price List API (us-east-1) for ${book.region} and EC2 spot price history` };
}

export async function estimate(inventory: CostInventory, book: PriceBook, now: number): Promise<CostReport> {
  let spotUnavailable: string | undefined;
  const resources: CostResourceResult[] = [];
  let onDemandTotal: Decimal | undefined = Decimal.ZERO;
  let launch: SinceLaunch | undefined;
  for (const resource of inventory.resources) {
    const components: CostComponent[] = [];
    let resourceOnDemand: Decimal | undefined = Decimal.ZERO;
    for (const part of resource.parts as readonly CostPart[]) {
      if (part.kind === 'instances') {
        const priced = await priceInstances(part, book, (reason) => (spotUnavailable ??= reason));
        components.push(priced.component);
        const fallback = priced.component.market === 'on-demand' ? priced.component.monthlyCost : undefined;
        const od = priced.onDemandMonthly ?? fallback;
        resourceOnDemand = od && resourceOnDemand ? resourceOnDemand.add(od) : undefined;
      } else {
        const component = part.kind === 'fixed' ? await priceFixed(part, book) : await priceUsage(part, book);
        components.push(component);
        if (component.monthlyCost && resourceOnDemand) resourceOnDemand = resourceOnDemand.add(component.monthlyCost);
      }
    }
    const monthlyCost = Decimal.sum(components.map((c) => c.monthlyCost ?? Decimal.ZERO));
    const result: CostResourceResult = { ...pick(resource), components, monthlyCost, hourlyCost: monthlyCost.div(HOURS) };
    resources.push(result);
    onDemandTotal = onDemandTotal && resourceOnDemand ? onDemandTotal.add(resourceOnDemand) : undefined;
    const host = resource.parts.find((p): p is InstancePart => p.kind === 'instances' && p.launchedAt !== undefined);
    if (host && !launch) launch = await sinceLaunch(result, host, book, now);
  }
  const totalMonthlyCost = Decimal.sum(resources.map((r) => r.monthlyCost));
  const source = sourceSummary(book, now);
  const priceNotFound = resources.flatMap((r) => r.components.filter((c) => c.priceNotFound).map((c) => `${r.name}: ${c.name}`));
  const spotSaving = onDemandTotal ? onDemandTotal.sub(totalMonthlyCost) : undefined;
  const scenarios = await costScenarios(inventory, resources, book);
  return {
    kind: inventory.kind,
    subject: inventory.subject,
    region: inventory.region,
    generatedAt: now,
    resources,
    totalMonthlyCost,
    totalHourlyCost: totalMonthlyCost.div(HOURS),
    onDemandMonthlyCost: onDemandTotal,
    monthlySavings: spotUnavailable ? undefined : spotSaving,
    sinceLaunch: launch,
    source: source.source,
    sourceDetail: source.detail,
    offlineReason: source.offlineReason,
    spotUnavailable,
    priceTable: { asOf: book.table.asOf, path: book.table.path },
    notPriced: inventory.notPriced,
    notes: inventory.notes,
    priceNotFound,
    scenarios,
  };
}

function pick(resource: CostResource): Pick<CostResourceResult, 'name' | 'type' | 'id' | 'stack'> {
  return { name: resource.name, type: resource.type, id: resource.id, stack: resource.stack };
}
