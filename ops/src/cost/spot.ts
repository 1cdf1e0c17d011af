/**
 * Spot prices from EC2 DescribeSpotPriceHistory (Linux/UNIX): the price in effect now per instance
 * type and AZ, and the history since a host launched, integrated over time for its cost so far.
 */
import { DescribeSpotPriceHistoryCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { Decimal } from './decimal';

export const SPOT_PRODUCT = 'Linux/UNIX';
const HOUR_MS = 3_600_000;

export interface SpotPoint {
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly price: Decimal;
  /** When this price took effect (epoch ms). */
  readonly timestamp: number;
}

export interface SpotQuery {
  readonly instanceTypes: readonly string[];
  readonly availabilityZone?: string;
  readonly startTime: number;
  readonly endTime?: number;
}

/** Every price change of the query (all pages, NextToken), oldest first. */
export async function describeSpotPrices(ec2: EC2Client, query: SpotQuery): Promise<SpotPoint[]> {
  const points: SpotPoint[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: [...query.instanceTypes] as never,
        ProductDescriptions: [SPOT_PRODUCT],
        AvailabilityZone: query.availabilityZone,
        StartTime: new Date(query.startTime),
        EndTime: query.endTime !== undefined ? new Date(query.endTime) : undefined,
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    for (const entry of page?.SpotPriceHistory ?? []) {
      const price = Decimal.tryParse(entry.SpotPrice);
      if (!price || !entry.InstanceType || !entry.AvailabilityZone || !entry.Timestamp) continue;
      if (entry.ProductDescription && entry.ProductDescription !== SPOT_PRODUCT) continue;
      points.push({ instanceType: entry.InstanceType, availabilityZone: entry.AvailabilityZone, price, timestamp: entry.Timestamp.getTime() });
    }
    nextToken = page?.NextToken || undefined;
  } while (nextToken);
  return points.sort((a, b) => a.timestamp - b.timestamp);
}

/** The latest price of each instance type and AZ. */
export function latestPrices(points: readonly SpotPoint[]): SpotPoint[] {
  const latest = new Map<string, SpotPoint>();
  for (const point of points) {
    const key = `${point.instanceType}/${point.availabilityZone}`;
    const known = latest.get(key);
    if (!known || point.timestamp >= known.timestamp) latest.set(key, point);
  }
  return [...latest.values()].sort((a, b) => a.price.cmp(b.price) || a.instanceType.localeCompare(b.instanceType) || a.availabilityZone.localeCompare(b.availabilityZone));
}

export interface SpotIntegral {
  /** Cost of one instance over [from, to] at the prices in effect. */
  readonly cost: Decimal;
  readonly hours: Decimal;
  /** Set when the history did not cover the start (the first known price was used back to `from`). */
  readonly note?: string;
}

/**
 * Σ price × duration over the price changes of one type in one AZ, from `from` to `to`; each price
 * holds from its timestamp until the next change.
 */
export function integrateSpot(points: readonly SpotPoint[], from: number, to: number): SpotIntegral | undefined {
  const sorted = [...points].sort((a, b) => a.timestamp - b.timestamp);
  if (sorted.length === 0 || to <= from) return sorted.length === 0 ? undefined : { cost: Decimal.ZERO, hours: Decimal.ZERO };
  let cost = Decimal.ZERO;
  let note: string | undefined;
  if (sorted[0].timestamp > from) note = 'the spot price history starts after the launch; its first price was used before that';
  for (let i = 0; i < sorted.length; i += 1) {
    const start = i === 0 ? Math.min(from, sorted[0].timestamp) : sorted[i].timestamp;
    const end = i + 1 < sorted.length ? sorted[i + 1].timestamp : to;
    const segmentStart = Math.max(start, from);
    const segmentEnd = Math.min(end, to);
    if (segmentEnd <= segmentStart) continue;
    cost = cost.add(sorted[i].price.mul(Decimal.of(segmentEnd - segmentStart).div(HOUR_MS)));
  }
  return { cost, hours: Decimal.of(to - from).div(HOUR_MS), note };
}
