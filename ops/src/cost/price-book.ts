/**
 * Where every price of an estimate comes from, in this order: the disk cache (list prices 24 h, spot
 * 10 min), the live APIs (Price List in us-east-1, EC2 spot history in the deployment's region), and,
 * only when an API cannot be reached (no credentials, rejected credentials, access denied, network),
 * the shipped offline table. Each quote says which one it is; nothing offline passes as live.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { PricingClient } from '@aws-sdk/client-pricing';
import { classifyAwsError, isThrottling } from '../aws/classify-error';
import type { Clock } from '../context';
import { OpsError } from '../errors';
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

/** Why an API "cannot be reached", or undefined for errors that must surface (throttling, bugs). */
export function unreachableReason(error: unknown, api: string): string | undefined {
  if (error instanceof OpsError) return undefined;
  if (isThrottling(error)) return undefined;
  const classified = classifyAwsError(error);
  if (!classified) return undefined;
  if (classified.message.startsWith('access denied')) return `access denied to ${api}`;
  return classified.message.replace(/^cannot reach AWS/, 'network error');
}

export class PriceBook {
  private readonly cache: PriceCache;
  /** Why the Price List API / the spot history is not used, once it failed (or --offline). */
  private pricingDown?: string;
  private spotDown?: string;
  private readonly pending = new Map<string, Promise<PriceQuote>>();
  private readonly used = new Map<PriceSourceKind, number>();
  private oldestCached?: number;

  constructor(private readonly options: PriceBookOptions) {
    this.cache = options.cache ?? noCache;
    this.pricingDown = options.offlineReason;
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

  /** How many quotes came from each source, and the oldest cached answer. */
  usage(): { readonly counts: ReadonlyMap<PriceSourceKind, number>; readonly oldestCached?: number } {
    return { counts: this.used, oldestCached: this.oldestCached };
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
    if (hit) {
      this.record('cached', hit.storedAt);
      return { key, tiers: loadTiers(hit.value.tiers), source: 'cached', fetchedAt: hit.storedAt, description: hit.value.description, notFound: hit.value.notFound };
    }
    if (!this.pricingDown && this.options.pricing) {
      try {
        const price = await queryPrice(this.options.pricing(), spec.query(this.options.region), global ? undefined : this.options.region);
        const fetchedAt = this.options.clock.now();
        this.cache.set<StoredList>(cacheKey, { tiers: storeTiers(price.tiers), description: price.description, notFound: price.notFound });
        this.record('live');
        return { key, tiers: price.tiers, source: 'live', fetchedAt, description: price.description, notFound: price.notFound };
      } catch (error) {
        const reason = unreachableReason(error, 'pricing:GetProducts');
        if (!reason) throw error;
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
      this.record('cached', hit.storedAt);
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
      this.record('live');
      return { points, source: 'live', fetchedAt };
    } catch (error) {
      const reason = unreachableReason(error, 'ec2:DescribeSpotPriceHistory');
      if (!reason) throw error;
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
