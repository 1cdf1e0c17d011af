/**
 * What a price is once found: tiers of a unit price (most prices have one tier; EFS/CloudFront style
 * beginRange/endRange pricing has several), where it came from, and how a quantity is priced on them.
 */
import { Decimal } from './decimal';

/** live: asked AWS just now; cached: asked AWS earlier (disk cache); offline: the shipped price table. */
export type PriceSourceKind = 'live' | 'cached' | 'offline';

/** One tier, in the display unit of its price key: applies to quantities in [begin, end). */
export interface PriceTier {
  readonly begin: Decimal;
  /** Undefined: no upper bound ("Inf"). */
  readonly end?: Decimal;
  readonly price: Decimal;
}

export interface PriceQuote {
  readonly key: string;
  /** Empty when the price was not found (see `notFound`). */
  readonly tiers: readonly PriceTier[];
  readonly source: PriceSourceKind;
  /** When AWS answered (live and cached quotes). */
  readonly fetchedAt?: number;
  /** Why there is no price. */
  readonly notFound?: string;
  /** The AWS description of the price dimension, when live or cached. */
  readonly description?: string;
}

/** Cost of `quantity` units over the tiers (each tier prices the part of the quantity inside it). */
export function tieredCost(tiers: readonly PriceTier[], quantity: Decimal): Decimal {
  let total = Decimal.ZERO;
  for (const tier of tiers) {
    if (quantity.cmp(tier.begin) <= 0) continue;
    const upper = tier.end ? quantity.min(tier.end) : quantity;
    total = total.add(upper.sub(tier.begin).mul(tier.price));
  }
  return total;
}

/** The price to show for a rate: the first tier with a non-zero price (a free first tier is skipped). */
export function displayPrice(tiers: readonly PriceTier[]): Decimal | undefined {
  if (tiers.length === 0) return undefined;
  return (tiers.find((t) => !t.price.isZero()) ?? tiers[0]).price;
}

/** Tiers must start at 0 and follow each other without gaps or overlaps. */
export function checkTiers(tiers: readonly PriceTier[]): string | undefined {
  if (tiers.length === 0) return 'no price dimension';
  if (!tiers[0].begin.isZero()) return `the first tier starts at ${tiers[0].begin.toString()}, not 0`;
  for (let i = 0; i < tiers.length; i += 1) {
    const tier = tiers[i];
    const next = tiers[i + 1];
    if (!next) {
      if (tier.end !== undefined) return `the last tier ends at ${tier.end.toString()} instead of having no upper bound`;
      continue;
    }
    if (!tier.end || tier.end.cmp(next.begin) !== 0) return `tier ${i + 1} does not end where tier ${i + 2} begins`;
  }
  return undefined;
}

/** Serialised form (cache files, the offline table): decimal strings. */
export interface StoredTier {
  readonly begin: string;
  readonly end?: string;
  readonly price: string;
}

export function storeTiers(tiers: readonly PriceTier[]): StoredTier[] {
  return tiers.map((t) => ({ begin: t.begin.toString(), ...(t.end ? { end: t.end.toString() } : {}), price: t.price.toString() }));
}

export function loadTiers(stored: readonly StoredTier[]): PriceTier[] {
  return stored.map((t) => ({ begin: Decimal.parse(t.begin), end: t.end !== undefined ? Decimal.parse(t.end) : undefined, price: Decimal.parse(t.price) }));
}

export function flatTier(price: Decimal): PriceTier[] {
  return [{ begin: Decimal.ZERO, price }];
}
