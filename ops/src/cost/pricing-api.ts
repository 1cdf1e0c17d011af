/**
 * The AWS Price List Query API (pricing:GetProducts): the client lives in us-east-1 and every query
 * filters the deployment's region by `regionCode`. Each price documents the product (attributes) and
 * its on-demand terms (`terms.OnDemand.<offer>.priceDimensions.<rate>` with pricePerUnit.USD, unit,
 * beginRange/endRange). Prices are parsed as decimals, tiers kept, units checked.
 */
import { GetProductsCommand, type PricingClient } from '@aws-sdk/client-pricing';
import { OpsError } from '../errors';
import { Decimal } from './decimal';
import { checkTiers, type PriceTier } from './prices';

/** The Price List API endpoint gm-ops uses, whatever the deployment's region. */
export const PRICING_API_REGION = 'us-east-1';

export interface PriceDimension {
  readonly unit?: string;
  readonly pricePerUnit?: { readonly USD?: string };
  readonly beginRange?: string;
  readonly endRange?: string;
  readonly description?: string;
  readonly rateCode?: string;
}

export interface ProductDocument {
  readonly product?: { readonly sku?: string; readonly productFamily?: string; readonly attributes?: Readonly<Record<string, string>> };
  readonly serviceCode?: string;
  readonly terms?: {
    readonly OnDemand?: Readonly<Record<string, { readonly priceDimensions?: Readonly<Record<string, PriceDimension>> }>>;
  };
  readonly publicationDate?: string;
}

/** What a GetProducts page holds in PriceList: JSON strings (or the SDK's lazy JSON strings). */
export function parsePriceList(items: unknown): ProductDocument[] {
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) throw new OpsError('unexpected Price List API answer: PriceList is not a list', 'set GM_OPS_DEBUG=1 and report it');
  return items.map((item) => {
    if (item && typeof item === 'object' && !(item instanceof String)) return item as ProductDocument;
    try {
      return JSON.parse(String(item)) as ProductDocument;
    } catch {
      throw new OpsError('unexpected Price List API answer: a PriceList entry is not JSON', 'set GM_OPS_DEBUG=1 and report it');
    }
  });
}

export interface ProductQuery {
  /** For messages: "EC2 m6i.large (Linux, shared, on-demand)". */
  readonly label: string;
  readonly serviceCode: string;
  /** TERM_MATCH filters. */
  readonly filters: Readonly<Record<string, string>>;
  /** Narrows the products the filters return (usage types that carry a region prefix, access types). */
  readonly select?: (product: ProductDocument) => boolean;
  /**
   * true: exactly one product is expected and anything else is an error (EC2 instances).
   * false: several products with the same price dimensions are the same price; different ones are an error.
   */
  readonly exactlyOne: boolean;
  /** API unit (lower case) -> factor turning the API unit price into the display unit price. */
  readonly units: Readonly<Record<string, Decimal>>;
}

export interface ProductPrice {
  readonly tiers: PriceTier[];
  readonly description?: string;
  readonly sku?: string;
  /** Why there is no price (no product matched, no on-demand term, no USD price, unexpected unit). */
  readonly notFound?: string;
}

/** Several products where one was expected: an error, never a guess. */
export class AmbiguousPrice extends OpsError {
  constructor(label: string, region: string | undefined, skus: readonly string[]) {
    super(
      `the Price List API returned ${skus.length} products for ${label}${region ? ` in ${region}` : ''} (${skus.join(', ')}), expected exactly one`,
      'gm-ops does not pick one: rerun with --offline for the shipped estimate, and report the query (GM_OPS_DEBUG=1) so its filters can be tightened',
    );
    this.name = 'AmbiguousPrice';
  }
}

/** Every product of a query (all pages). */
export async function getProducts(pricing: PricingClient, query: ProductQuery): Promise<ProductDocument[]> {
  const products: ProductDocument[] = [];
  let nextToken: string | undefined;
  do {
    const page = await pricing.send(
      new GetProductsCommand({
        ServiceCode: query.serviceCode,
        Filters: Object.entries(query.filters).map(([Field, Value]) => ({ Type: 'TERM_MATCH', Field, Value })),
        FormatVersion: 'aws_v1',
        MaxResults: 100,
        NextToken: nextToken,
      }),
    );
    products.push(...parsePriceList(page?.PriceList));
    nextToken = page?.NextToken;
  } while (nextToken);
  return products;
}

function skuOf(product: ProductDocument, index: number): string {
  return product.product?.sku ?? `product #${index + 1}`;
}

/** The on-demand tiers of one product, in display units; `notFound` says what is missing. */
export function onDemandTiers(product: ProductDocument, query: ProductQuery): ProductPrice {
  const sku = product.product?.sku;
  const terms = Object.values(product.terms?.OnDemand ?? {});
  const dimensions = terms.flatMap((term) => Object.values(term.priceDimensions ?? {}));
  if (dimensions.length === 0) return { tiers: [], sku, notFound: `${query.label}: the product ${sku ?? ''} has no on-demand price`.replace('  ', ' ') };
  const tiers: PriceTier[] = [];
  let description: string | undefined;
  for (const dimension of dimensions) {
    const unit = (dimension.unit ?? '').trim().toLowerCase();
    const factor = query.units[unit];
    if (!factor) {
      return { tiers: [], sku, notFound: `${query.label}: unexpected unit "${dimension.unit ?? ''}" (expected ${Object.keys(query.units).join(' or ')})` };
    }
    const usd = Decimal.tryParse(dimension.pricePerUnit?.USD);
    if (!usd) return { tiers: [], sku, notFound: `${query.label}: no USD price in the product ${sku ?? ''}`.trim() };
    const begin = Decimal.tryParse(dimension.beginRange ?? '0');
    const endText = dimension.endRange;
    const end = endText === undefined || endText === '' || /^inf/i.test(endText) ? undefined : Decimal.tryParse(endText);
    if (!begin || (endText !== undefined && endText !== '' && !/^inf/i.test(endText) && !end)) {
      return { tiers: [], sku, notFound: `${query.label}: unreadable price range in the product ${sku ?? ''}`.trim() };
    }
    // Ranges are in API units; the price per display unit is the API price times the factor, and a
    // range bound in API units is that bound divided by the factor in display units.
    tiers.push({ begin: begin.div(factor), end: end?.div(factor), price: usd.mul(factor) });
    description ??= dimension.description;
  }
  tiers.sort((a, b) => a.begin.cmp(b.begin));
  const problem = checkTiers(tiers);
  if (problem) return { tiers: [], sku, notFound: `${query.label}: ${problem}` };
  return { tiers, description, sku };
}

function sameTiers(a: readonly PriceTier[], b: readonly PriceTier[]): boolean {
  return (
    a.length === b.length &&
    a.every((t, i) => t.price.cmp(b[i].price) === 0 && t.begin.cmp(b[i].begin) === 0 && (t.end?.toString() ?? '') === (b[i].end?.toString() ?? ''))
  );
}

/** Applies the selection and the one-product rule to the products of a query. */
export function priceOfProducts(products: readonly ProductDocument[], query: ProductQuery, region?: string): ProductPrice {
  const matching = query.select ? products.filter(query.select) : [...products];
  if (matching.length === 0) {
    const filters = Object.entries(query.filters).map(([k, v]) => `${k}=${v}`).join(', ');
    return { tiers: [], notFound: `${query.label}: no product matches (${query.serviceCode}: ${filters})` };
  }
  if (query.exactlyOne && matching.length > 1) throw new AmbiguousPrice(query.label, region, matching.map(skuOf));
  const prices = matching.map((product) => onDemandTiers(product, query));
  const first = prices[0];
  if (prices.length > 1 && !prices.every((p) => !p.notFound && sameTiers(p.tiers, first.tiers))) {
    throw new AmbiguousPrice(query.label, region, matching.map(skuOf));
  }
  return first;
}

export async function queryPrice(pricing: PricingClient, query: ProductQuery, region?: string): Promise<ProductPrice> {
  return priceOfProducts(await getProducts(pricing, query), query, region);
}
