/**
 * The shipped offline price table (ops/data/price-table.json): AWS list prices for a few regions with
 * an "as of" date, used — and always labelled as such — when the Price List API cannot be reached; and
 * dated typical spot prices per region and instance type, each row naming its public source, for the
 * typical-spot, scheduled and stopped figures (those always come from this table, live or offline).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { OpsError } from '../errors';
import { Decimal } from './decimal';
import { flatTier, type PriceTier } from './prices';

/** ops/data/price-table.json, from src/cost (ts-jest) and dist/cost (built) alike. */
export const PRICE_TABLE_PATH = path.join(__dirname, '..', '..', 'data', 'price-table.json');

const decimalText = z.string().refine((s) => Decimal.tryParse(s) !== undefined, { message: 'expected a decimal number as a string' });
const tieredPrice = z.array(z.strictObject({ upTo: decimalText.optional(), price: decimalText })).min(1);
const price = z.union([decimalText, tieredPrice]);
const typicalSpotRow = z.strictObject({ price: decimalText, source: z.string().min(1) });
const typicalSpotSchema = z.strictObject({
  description: z.string(),
  /** Source id -> what it is, where it was read and the date it states or was read. */
  sources: z.record(z.string(), z.strictObject({ label: z.string().min(1), url: z.string(), asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), note: z.string() })),
  regions: z.record(z.string(), z.record(z.string(), typicalSpotRow)),
  /** What has no typical spot price here (and so falls back to its on-demand price), and why. */
  missing: z.array(z.string()),
});

const tableSchema = z.object({
  schema: z.literal(1),
  currency: z.literal('USD'),
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  description: z.string(),
  sources: z.record(z.string(), z.string()),
  regions: z.record(z.string(), z.record(z.string(), price)),
  global: z.record(z.string(), price),
  typicalSpot: typicalSpotSchema.optional(),
});

type StoredPrice = z.infer<typeof price>;

/** A dated typical spot price of one instance type in one region (Linux, per hour). */
export interface TypicalSpotPrice {
  readonly price: Decimal;
  readonly sourceId: string;
  /** Short: what the source is. */
  readonly label: string;
  readonly url: string;
  readonly asOf: string;
  readonly note: string;
}

export interface OfflineTable {
  readonly asOf: string;
  readonly path: string;
  readonly regions: readonly string[];
  /** Tiers of a key in a region (global keys ignore the region); undefined when the table lacks it. */
  lookup(region: string, key: string, global: boolean): PriceTier[] | undefined;
  /** The typical spot price of a type in a region; undefined when the table has none (no source was found). */
  typicalSpot(region: string, instanceType: string): TypicalSpotPrice | undefined;
}

function toTiers(stored: StoredPrice): PriceTier[] {
  if (typeof stored === 'string') return flatTier(Decimal.parse(stored));
  const tiers: PriceTier[] = [];
  let begin = Decimal.ZERO;
  for (const tier of stored) {
    const end = tier.upTo !== undefined ? Decimal.parse(tier.upTo) : undefined;
    tiers.push({ begin, end, price: Decimal.parse(tier.price) });
    if (end) begin = end;
  }
  return tiers;
}

export function parseOfflineTable(text: string, file: string): OfflineTable {
  let data: z.infer<typeof tableSchema>;
  try {
    data = tableSchema.parse(JSON.parse(text));
  } catch (error) {
    const detail = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ') : (error as Error).message;
    throw new OpsError(`the offline price table ${file} is invalid (${detail})`, 'reinstall gm-ops or restore ops/data/price-table.json');
  }
  const spot = data.typicalSpot;
  for (const [region, rows] of Object.entries(spot?.regions ?? {})) {
    for (const [type, row] of Object.entries(rows)) {
      if (!spot?.sources[row.source]) {
        throw new OpsError(`the offline price table ${file} is invalid (typicalSpot.regions.${region}.${type}: unknown source "${row.source}")`, 'reinstall gm-ops or restore ops/data/price-table.json');
      }
    }
  }
  return {
    asOf: data.asOf,
    path: file,
    regions: Object.keys(data.regions),
    lookup(region, key, global) {
      const stored = global ? data.global[key] : data.regions[region]?.[key];
      return stored === undefined ? undefined : toTiers(stored);
    },
    typicalSpot(region, instanceType) {
      const row = spot?.regions[region]?.[instanceType];
      const source = row ? spot?.sources[row.source] : undefined;
      if (!row || !source) return undefined;
      return { price: Decimal.parse(row.price), sourceId: row.source, label: source.label, url: source.url, asOf: source.asOf, note: source.note };
    },
  };
}

let loaded: OfflineTable | undefined;

export function loadOfflineTable(file = PRICE_TABLE_PATH): OfflineTable {
  if (file === PRICE_TABLE_PATH && loaded) return loaded;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new OpsError(`cannot read the offline price table ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'reinstall gm-ops');
  }
  const table = parseOfflineTable(text, file);
  if (file === PRICE_TABLE_PATH) loaded = table;
  return table;
}
