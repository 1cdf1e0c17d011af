/**
 * Where every price of an estimate comes from, in this order: the disk cache (list prices 24 h, spot
 * 10 min), the live APIs (Price List in us-east-1, EC2 spot history in the deployment's region), and,
 * when an API fails in any way (no credentials, access denied, network, timeout, a 5xx, an answer that is
 * not a price list, anything else) but a user interrupt, the shipped offline table, with the reason.
 * Each quote says which one it is; nothing offline passes as live.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { PricingClient } from '@aws-sdk/client-pricing';
import { classifyAwsError, isThrottling } from '../aws/classify-error';
import type { Clock } from '../context';
import { Interrupted, oneLine } from '../errors';
import { LIST_PRICE_TTL_MS, SPOT_PRICE_TTL_MS, noCache, type PriceCache } from './cache';
import { isGlobalKey, priceSpec } from './catalogue';
import { Decimal } from './decimal';
import type { OfflineTable } from './offline-table';
import { queryPrice } from './pricing-api';
import { loadTiers, storeTiers, type PriceQuote, type PriceSourceKind, type StoredTier } from './prices';
import { describeSpotPrices, latestPrices, type SpotPoint } from './spot';

export interface PriceBookOptions {
  readonly region: string;
  readonly clock: Clock;
  readonly table: OfflineTable;
  readonly cache?: PriceCache;
  /** Clients, created on first use (the Price List client must be in us-east-1). */
  readonly pricing?: () => PricingClient;
  readonly ec2?: () => EC2Client;
  /** --offline: use the table without asking AWS; the reason is shown. */
  readonly offlineReason?: string;
  /** The Price List API is not to be asked (it answered without prices before); spot history still is. */
  readonly priceListUnavailable?: string;
  /** Ctrl-C: the one failure that is not a reason to fall back to the table. */
  readonly signal?: AbortSignal;
}

export interface SpotQuote {
  readonly points: readonly SpotPoint[];
  readonly source: Exclude<PriceSourceKind, 'offline'>;
  readonly fetchedAt: number;
}

interface StoredList {
  readonly tiers: StoredTier[];
  readonly description?: string;
  readonly notFound?: string;
}

interface StoredSpot {
  readonly points: { t: string; az: string; p: string; ts: number }[];
}

const MAX_REASON = 160;

function isInterrupt(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted || error instanceof Interrupted) return true;
  return Boolean(error && typeof error === 'object' && (error as { name?: unknown }).name === 'AbortError');
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function shortened(text: string): string {
  const line = oneLine(text);
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}

/**
 * Why an API was not used, for every failure but a user interrupt (undefined): the estimate then falls
 * back to the shipped table, labelled with this reason.
 */
export function unreachableReason(error: unknown, api: string, signal?: AbortSignal): string | undefined {
  if (isInterrupt(error, signal)) return undefined;
  if (isThrottling(error)) return `${api} throttled the requests`;
  const classified = classifyAwsError(error);
  if (classified && classified.name === 'OpsError') {
    if (classified.message.startsWith('access denied')) return `access denied to ${api}`;
    if (classified.message.startsWith('AWS did not answer in time')) return `${api} did not answer in time`;
    return classified.message.replace(/^cannot reach AWS/, 'network error');
  }
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatusOf(error);
  const name = error instanceof Error && error.name && error.name !== 'Error' ? error.name : undefined;
  if (/not JSON|Unexpected token|<html|<!doctype|Deserialization error|SyntaxError/i.test(`${name ?? ''} ${message}`)) {
    return `${api} answered something that is not a price list${status ? ` (HTTP ${status})` : ''}`;
  }
  if (status !== undefined && status >= 500) return `${api} failed (HTTP ${status}${name ? ` ${name}` : ''})`;
  return shortened(`${api} failed: ${name ? `${name}: ` : ''}${message || 'unknown error'}`);
}

export class PriceBook {
  private readonly cache: PriceCache;
  /** Why the Price List API / the spot history is not used, once it failed (or --offline). */
  private pricingDown?: string;
  private spotDown?: string;
  private readonly pending = new Map<string, Promise<PriceQuote>>();
  private readonly used = new Map<PriceSourceKind, number>();
  private answeredWithoutPrice = 0;
  private fromPriceList = 0;
  private listPrices = 0;
  private oldestCached?: number;

  constructor(private readonly options: PriceBookOptions) {
    this.cache = options.cache ?? noCache;
    this.pricingDown = options.offlineReason ?? options.priceListUnavailable;
    this.spotDown = options.offlineReason;
  }

  get region(): string {
    return this.options.region;
  }

  get table(): OfflineTable {
    return this.options.table;
  }

  /** The reasons the live APIs were not used (for the footer). */
  get unreachable(): { readonly pricing?: string; readonly spot?: string } {
    return { pricing: this.pricingDown, spot: this.spotDown };
  }

  /**
   * How many prices came from each source (a live or cached answer without a price is not one: it is
   * counted in `withoutPrice`), and the oldest cached answer.
   */
  usage(): {
    readonly counts: ReadonlyMap<PriceSourceKind, number>;
    readonly withoutPrice: number;
    /** List prices the Price List API itself gave just now (not spot history). */
    readonly fromPriceList: number;
    /** List prices from the Price List API, now or earlier (cache). */
    readonly listPrices: number;
    readonly oldestCached?: number;
  } {
    return { counts: this.used, withoutPrice: this.answeredWithoutPrice, fromPriceList: this.fromPriceList, listPrices: this.listPrices, oldestCached: this.oldestCached };
  }

  private recordAnswer(source: Exclude<PriceSourceKind, 'offline'>, hasPrice: boolean, storedAt?: number): void {
    if (hasPrice) this.record(source, storedAt);
    else this.answeredWithoutPrice += 1;
  }

  private record(source: PriceSourceKind, storedAt?: number): void {
    this.used.set(source, (this.used.get(source) ?? 0) + 1);
    if (source === 'cached' && storedAt !== undefined) this.oldestCached = Math.min(this.oldestCached ?? storedAt, storedAt);
  }

  /** A list price (on-demand) by catalogue key. */
  list(key: string): Promise<PriceQuote> {
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.lookupList(key);
      this.pending.set(key, pending);
    }
    return pending;
  }

  private async lookupList(key: string): Promise<PriceQuote> {
    const spec = priceSpec(key);
    if (!spec) throw new Error(`unknown price key ${key}`);
    const global = isGlobalKey(key);
    const cacheKey = `list/${global ? 'global' : this.options.region}/${key}`;
    const hit = this.cache.get<StoredList>(cacheKey, LIST_PRICE_TTL_MS);
    const cachedWithoutPrice = hit !== undefined && (hit.value.notFound !== undefined || hit.value.tiers.length === 0);
    if (hit && !(cachedWithoutPrice && this.options.priceListUnavailable)) {
      this.recordAnswer('cached', !cachedWithoutPrice, hit.storedAt);
      if (!cachedWithoutPrice) this.listPrices += 1;
      return { key, tiers: loadTiers(hit.value.tiers), source: 'cached', fetchedAt: hit.storedAt, description: hit.value.description, notFound: hit.value.notFound };
    }
    if (!this.pricingDown && this.options.pricing) {
      try {
        const price = await queryPrice(this.options.pricing(), spec.query(this.options.region), global ? undefined : this.options.region);
        const fetchedAt = this.options.clock.now();
        this.cache.set<StoredList>(cacheKey, { tiers: storeTiers(price.tiers), description: price.description, notFound: price.notFound });
        const hasPrice = !price.notFound && price.tiers.length > 0;
        this.recordAnswer('live', hasPrice);
        if (hasPrice) {
          this.fromPriceList += 1;
          this.listPrices += 1;
        }
        return { key, tiers: price.tiers, source: 'live', fetchedAt, description: price.description, notFound: price.notFound };
      } catch (error) {
        const reason = unreachableReason(error, 'pricing:GetProducts', this.options.signal);
        if (!reason) throw error instanceof Interrupted ? error : new Interrupted();
        this.pricingDown = reason;
      }
    }
    this.record('offline');
    return this.offline(key, global);
  }

  private offline(key: string, global: boolean): PriceQuote {
    const { table, region } = this.options;
    const tiers = table.lookup(region, key, global);
    if (tiers) return { key, tiers, source: 'offline' };
    const notFound = table.regions.includes(region) || global
      ? `not in the offline price table (as of ${table.asOf})`
      : `the offline price table has no prices for ${region} (it has ${table.regions.join(', ')})`;
    return { key, tiers: [], source: 'offline', notFound };
  }

  private async spot(cacheKey: string, fetch: (ec2: EC2Client) => Promise<SpotPoint[]>): Promise<SpotQuote | undefined> {
    const hit = this.cache.get<StoredSpot>(cacheKey, SPOT_PRICE_TTL_MS);
    if (hit) {
      this.recordAnswer('cached', hit.value.points.length > 0, hit.storedAt);
      return {
        points: hit.value.points.map((p) => ({ instanceType: p.t, availabilityZone: p.az, price: Decimal.parse(p.p), timestamp: p.ts })),
        source: 'cached',
        fetchedAt: hit.storedAt,
      };
    }
    if (this.spotDown || !this.options.ec2) return undefined;
    try {
      const points = await fetch(this.options.ec2());
      const fetchedAt = this.options.clock.now();
      this.cache.set<StoredSpot>(cacheKey, {
        points: points.map((p) => ({ t: p.instanceType, az: p.availabilityZone, p: p.price.toString(), ts: p.timestamp })),
      });
      this.recordAnswer('live', points.length > 0);
      return { points, source: 'live', fetchedAt };
    } catch (error) {
      const reason = unreachableReason(error, 'ec2:DescribeSpotPriceHistory', this.options.signal);
      if (!reason) throw error instanceof Interrupted ? error : new Interrupted();
      this.spotDown = reason;
      return undefined;
    }
  }

  /** The spot prices in effect now for these types (in one AZ, or every AZ of the region). */
  spotNow(instanceTypes: readonly string[], availabilityZone?: string): Promise<SpotQuote | undefined> {
    const types = [...new Set(instanceTypes)].sort();
    const cacheKey = `spot/${this.options.region}/${availabilityZone ?? 'all'}/${types.join(',')}`;
    return this.spot(cacheKey, async (ec2) => {
      // From now on: EC2 answers with the price in effect now for each type and AZ.
      return latestPrices(await describeSpotPrices(ec2, { instanceTypes: types, availabilityZone, startTime: this.options.clock.now() }));
    });
  }

  /** Every spot price in effect since `since` for one type in one AZ (for the cost since launch). */
  spotSince(instanceType: string, availabilityZone: string, since: number): Promise<SpotQuote | undefined> {
    const cacheKey = `spot-history/${this.options.region}/${availabilityZone}/${instanceType}/${since}`;
    return this.spot(cacheKey, (ec2) =>
      describeSpotPrices(ec2, { instanceTypes: [instanceType], availabilityZone, startTime: since, endTime: this.options.clock.now() }),
    );
  }
}
