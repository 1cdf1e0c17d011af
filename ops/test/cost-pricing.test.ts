/**
 * Prices: decimals, the Price List API (filters, exactly one EC2 product, tiers, missing prices,
 * units, pages), spot history (pages, integration), the disk cache (hits, expiry on a fake clock) and
 * the offline fallback (no credentials, access denied, network) — never silently live.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { PricingClient } from '@aws-sdk/client-pricing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsClients } from '../src/aws/clients';
import { DiskPriceCache, defaultCacheDir, LIST_PRICE_TTL_MS, SPOT_PRICE_TTL_MS } from '../src/cost/cache';
import { priceSpec } from '../src/cost/catalogue';
import { Decimal } from '../src/cost/decimal';
import { estimate } from '../src/cost/estimate';
import { loadOfflineTable, parseOfflineTable } from '../src/cost/offline-table';
import { PriceBook } from '../src/cost/price-book';
import { AmbiguousPrice, parsePriceList, queryPrice } from '../src/cost/pricing-api';
import { tieredCost } from '../src/cost/prices';
import { costJson, money } from '../src/cost/render';
import { describeSpotPrices, integrateSpot, latestPrices } from '../src/cost/spot';
import { awsError } from './helpers/fake-aws';
import { FakePricing, cloudFrontProducts, ec2Product, productDocument, regionProducts, EU_WEST_1_PRICES } from './helpers/fake-pricing';
import { FakeClock } from './helpers/harness';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const pricingClient = () => new PricingClient({ region: 'us-east-1', credentials });
const ec2Client = (region = 'eu-west-1') => new EC2Client({ region, credentials });

const EU_PRICES = EU_WEST_1_PRICES;

let fake: FakePricing;
let tmp: string;
beforeEach(() => {
  fake = new FakePricing();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ops-prices-'));
});
afterEach(() => {
  fake.restore();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('decimal money', () => {
  it('adds and multiplies without float drift', () => {
    expect(Decimal.parse('0.1').add(Decimal.parse('0.2')).toString()).toBe('0.3');
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(Decimal.parse('0.0225').mul(730).toString()).toBe('16.425');
    expect(Decimal.parse('0.0960000000').mul(730).toString()).toBe('70.08');
    expect(Decimal.parse('1.0E-7').toString()).toBe('0.0000001');
    expect(Decimal.parse('16.425').toFixed(2)).toBe('16.43');
    expect(Decimal.parse('-0.005').toFixed(2)).toBe('-0.01');
    expect(Decimal.parse('80.13').div(730).toFixed(6)).toBe('0.109767');
    expect(() => Decimal.parse('abc')).toThrow('not a decimal number');
    expect(() => Decimal.parse('')).toThrow();
    expect(money(Decimal.parse('1234567.891'))).toBe('$1,234,567.89');
  });
});

describe('the Price List API', () => {
  it('EC2: the client is in us-east-1, the region is filtered by regionCode, Linux shared on-demand, capacitystatus=Used', async () => {
    expect(await createAwsClients({ region: 'eu-west-1' }, {}).pricing.config.region()).toBe('us-east-1');
    fake.add(ec2Product('eu-west-1', 'm6i.large', '0.107'), ec2Product('us-east-1', 'm6i.large', '0.096'), ec2Product('eu-west-1', 'm5.large', '0.107'));
    const price = await queryPrice(pricingClient(), priceSpec('ec2:m6i.large')!.query('eu-west-1'), 'eu-west-1');
    expect(price.notFound).toBeUndefined();
    expect(price.tiers.map((t) => t.price.toString())).toEqual(['0.107']);
    const [call] = fake.getProductsCalls();
    expect(call.ServiceCode).toBe('AmazonEC2');
    expect(Object.fromEntries((call.Filters ?? []).map((f) => [f.Field, f.Value]))).toEqual({
      regionCode: 'eu-west-1',
      instanceType: 'm6i.large',
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      preInstalledSw: 'NA',
      licenseModel: 'No License required',
      capacitystatus: 'Used',
    });
  });

  it('EC2: two products for one query are an error, not a guess', async () => {
    fake.add(ec2Product('eu-west-1', 'm6i.large', '0.107'), ec2Product('eu-west-1', 'm6i.large', '0.107', { operation: 'RunInstances:SV050' }));
    const query = priceSpec('ec2:m6i.large')!.query('eu-west-1');
    await expect(queryPrice(pricingClient(), query, 'eu-west-1')).rejects.toThrow(AmbiguousPrice);
    await expect(queryPrice(pricingClient(), query, 'eu-west-1')).rejects.toThrow(
      /returned 2 products for EC2 m6i\.large \(Linux, shared tenancy, on-demand\) in eu-west-1 \(EC2M6ILARGEEUWES, EC2M6ILARGEEUWES\), expected exactly one/,
    );
  });

  it('a tiered price (CloudFront, ranges out of order in the document) keeps its tiers and prices each slice', async () => {
    fake.add(...cloudFrontProducts());
    const price = await queryPrice(pricingClient(), priceSpec('cloudfront:data-out')!.query('eu-west-1'));
    expect(price.tiers.map((t) => `${t.begin}-${t.end ?? 'Inf'}@${t.price}`)).toEqual([
      '0-10240@0.085',
      '10240-51200@0.08',
      '51200-153600@0.06',
      '153600-512000@0.04',
      '512000-1024000@0.03',
      '1024000-5120000@0.025',
      '5120000-Inf@0.02',
    ]);
    // 10240 x 0.085 + 40960 x 0.08 + 8800 x 0.06
    expect(tieredCost(price.tiers, Decimal.of(60000)).toString()).toBe('4675.2');
    expect(tieredCost(price.tiers, Decimal.of(100)).toString()).toBe('8.5');
  });

  it('a tiered price with a gap between tiers is not a price', async () => {
    const broken = cloudFrontProducts()[0];
    fake.add({ ...broken, dimensions: broken.dimensions!.filter((d) => d.begin !== '10240') });
    const price = await queryPrice(pricingClient(), priceSpec('cloudfront:data-out')!.query('eu-west-1'));
    expect(price.notFound).toMatch(/does not end where tier 2 begins/);
  });

  it('a missing price (no USD, no on-demand term, no product, unexpected unit) is "not found", with the reason', async () => {
    const ipv4 = regionProducts('eu-west-1', EU_PRICES).find((p) => p.sku === 'IPV4EU')!;
    fake.add({ ...ipv4, dimensions: [{ unit: 'Hrs', usd: null }] });
    expect((await queryPrice(pricingClient(), priceSpec('vpc:public-ipv4')!.query('eu-west-1'))).notFound).toMatch(/no USD price in the product IPV4EU/);
    fake.products.length = 0;
    fake.add({ ...ipv4, dimensions: null });
    expect((await queryPrice(pricingClient(), priceSpec('vpc:public-ipv4')!.query('eu-west-1'))).notFound).toMatch(/has no on-demand price/);
    fake.products.length = 0;
    fake.add({ ...ipv4, dimensions: [{ unit: 'GB-Mo', usd: '0.0050000000' }] });
    expect((await queryPrice(pricingClient(), priceSpec('vpc:public-ipv4')!.query('eu-west-1'))).notFound).toMatch(/unexpected unit "GB-Mo" \(expected hrs\)/);
    fake.products.length = 0;
    expect((await queryPrice(pricingClient(), priceSpec('ec2:m6i.large')!.query('eu-west-1'))).notFound).toMatch(/no product matches \(AmazonEC2: regionCode=eu-west-1, instanceType=m6i\.large/);
  });

  it('selects the right product among those of a service (region-prefixed usage types, access types), over several pages', async () => {
    fake.pageSize = 1;
    fake.add(...regionProducts('eu-west-1', EU_PRICES));
    const book = new PriceBook({ region: 'eu-west-1', clock: new FakeClock(), table: loadOfflineTable(), pricing: pricingClient });
    const price = async (key: string) => (await book.list(key)).tiers.map((t) => t.price.toString()).join(',');
    expect(await price('vpc:public-ipv4')).toBe('0.005');
    expect(await price('elb:alb')).toBe('0.0252');
    expect(await price('elb:alb-lcu')).toBe('0.008');
    expect(await price('efs:standard')).toBe('0.33');
    expect(await price('efs:elastic-read')).toBe('0.033');
    expect(await price('efs:elastic-write')).toBe('0.066');
    expect(await price('ebs:gp3:storage')).toBe('0.088');
    expect(await price('secrets:secret')).toBe('0.4');
    // Listed per request, shown per 10k requests.
    expect(await price('secrets:api')).toBe('0.05');
    expect(await price('nat:hours')).toBe('0.048');
    // Pages: the VPC query returns the idle and in-use address products one per page.
    const vpcCalls = fake.getProductsCalls().filter((c) => c.ServiceCode === 'AmazonVPC');
    expect(vpcCalls).toHaveLength(2);
  });

  it('parses PriceList entries as JSON strings or the SDK lazy strings', () => {
    const json = productDocument(ec2Product('eu-west-1', 'm5.large', '0.107'));
    // eslint-disable-next-line no-new-wrappers
    const docs = parsePriceList([json, new String(json)]);
    expect(docs.map((d) => d.product?.attributes?.instanceType)).toEqual(['m5.large', 'm5.large']);
    expect(() => parsePriceList(['{not json'])).toThrow('a PriceList entry is not JSON');
  });
});

describe('spot prices', () => {
  beforeEach(() => {
    fake.spot.push(
      { type: 'm6i.large', az: 'eu-west-1a', price: '0.0410', at: '2025-01-15T08:00:00Z' },
      { type: 'm6i.large', az: 'eu-west-1b', price: '0.0400', at: '2025-01-15T08:30:00Z' },
      { type: 'm6i.large', az: 'eu-west-1b', price: '0.0500', at: '2025-01-15T10:30:00Z' },
      { type: 'm5.large', az: 'eu-west-1b', price: '0.0380', at: '2025-01-15T11:00:00Z' },
      { type: 'm6i.large', az: 'eu-west-1a', price: '0.0420', at: '2025-01-15T11:30:00Z' },
    );
  });

  it('reads every page of the history (NextToken) and keeps the latest price per type and AZ', async () => {
    fake.spotPageSize = 2;
    const points = await describeSpotPrices(ec2Client(), { instanceTypes: ['m6i.large', 'm5.large'], startTime: Date.parse('2025-01-15T07:00:00Z'), endTime: Date.parse('2025-01-15T12:00:00Z') });
    expect(fake.spotCalls()).toBe(3);
    expect(points).toHaveLength(5);
    expect(latestPrices(points).map((p) => `${p.instanceType}/${p.availabilityZone}=${p.price}`)).toEqual([
      'm5.large/eu-west-1b=0.038',
      'm6i.large/eu-west-1a=0.042',
      'm6i.large/eu-west-1b=0.05',
    ]);
  });

  it('integrates the prices in effect since a launch: 1.5 h at 0.04 then 1.5 h at 0.05', async () => {
    const points = await describeSpotPrices(ec2Client(), { instanceTypes: ['m6i.large'], availabilityZone: 'eu-west-1b', startTime: Date.parse('2025-01-15T09:00:00Z'), endTime: Date.parse('2025-01-15T12:00:00Z') });
    // The price in effect at the start (08:30) comes with the changes after it.
    expect(points.map((p) => p.price.toString())).toEqual(['0.04', '0.05']);
    const integral = integrateSpot(points, Date.parse('2025-01-15T09:00:00Z'), Date.parse('2025-01-15T12:00:00Z'))!;
    expect(integral.cost.toString()).toBe('0.135');
    expect(integral.hours.toString()).toBe('3');
    expect(integral.note).toBeUndefined();
  });
});

describe('the price cache', () => {
  it('the default place honours GM_OPS_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(defaultCacheDir({ GM_OPS_CACHE_DIR: '/x/prices', XDG_CACHE_HOME: '/xdg', HOME: '/home/u' })).toBe('/x/prices');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' })).toBe('/xdg/geusemaker/prices');
    expect(defaultCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/geusemaker/prices');
  });

  it('list prices: a hit for 24 hours (source "cached"), asked again after', async () => {
    fake.add(ec2Product('eu-west-1', 'm6i.large', '0.107'));
    const clock = new FakeClock();
    const book = () => new PriceBook({ region: 'eu-west-1', clock, table: loadOfflineTable(), cache: new DiskPriceCache(tmp, clock), pricing: pricingClient });
    const first = await book().list('ec2:m6i.large');
    expect(first).toMatchObject({ source: 'live', fetchedAt: clock.now() });
    clock.advance(LIST_PRICE_TTL_MS - 1);
    const second = await book().list('ec2:m6i.large');
    expect(second).toMatchObject({ source: 'cached', fetchedAt: clock.now() - (LIST_PRICE_TTL_MS - 1) });
    expect(second.tiers[0].price.toString()).toBe('0.107');
    expect(fake.getProductsCalls()).toHaveLength(1);
    clock.advance(1);
    expect((await book().list('ec2:m6i.large')).source).toBe('live');
    expect(fake.getProductsCalls()).toHaveLength(2);
    // A damaged cache file is skipped, never fatal.
    for (const file of fs.readdirSync(tmp)) fs.writeFileSync(path.join(tmp, file), '{broken');
    expect((await book().list('ec2:m6i.large')).source).toBe('live');
  });

  it('spot prices: a hit for 10 minutes', async () => {
    fake.spot.push({ type: 'm6i.large', az: 'eu-west-1b', price: '0.0400', at: '2025-01-15T08:30:00Z' });
    const clock = new FakeClock();
    const book = () => new PriceBook({ region: 'eu-west-1', clock, table: loadOfflineTable(), cache: new DiskPriceCache(tmp, clock), ec2: () => ec2Client() });
    expect((await book().spotNow(['m6i.large'], 'eu-west-1b'))!.source).toBe('live');
    clock.advance(SPOT_PRICE_TTL_MS - 1000);
    const cached = (await book().spotNow(['m6i.large'], 'eu-west-1b'))!;
    expect(cached.source).toBe('cached');
    expect(cached.points[0].price.toString()).toBe('0.04');
    expect(fake.spotCalls()).toBe(1);
    clock.advance(1000);
    expect((await book().spotNow(['m6i.large'], 'eu-west-1b'))!.source).toBe('live');
    expect(fake.spotCalls()).toBe(2);
  });
});

describe('the offline fallback', () => {
  const table = loadOfflineTable();
  const usEast = (key: string) => table.lookup('us-east-1', key, false)!.map((t) => t.price.toString()).join(',');

  it.each([
    ['no credentials', Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'no AWS credentials found'],
    ['access denied', awsError('AccessDeniedException', 'User is not authorized to perform: pricing:GetProducts'), 'access denied to pricing:GetProducts'],
    ['a network error', Object.assign(new Error('getaddrinfo ENOTFOUND api.pricing.us-east-1.amazonaws.com'), { name: 'Error', code: 'ENOTFOUND' }), 'network error'],
  ])('%s: the shipped table, labelled offline, and AWS is asked once', async (_label, error, reason) => {
    fake.pricingError = error;
    const book = new PriceBook({ region: 'us-east-1', clock: new FakeClock(), table, cache: new DiskPriceCache(tmp, new FakeClock()), pricing: pricingClient });
    const quote = await book.list('ec2:m6i.large');
    expect(quote).toMatchObject({ source: 'offline' });
    expect(quote.tiers[0].price.toString()).toBe(usEast('ec2:m6i.large'));
    expect((await book.list('elb:alb')).source).toBe('offline');
    expect(fake.getProductsCalls()).toHaveLength(1);
    expect(book.unreachable.pricing).toContain(reason);
    // Offline answers are never written to the cache as if they were live.
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('a region the table lacks: price not found, saying which regions it has', async () => {
    const book = new PriceBook({ region: 'ap-southeast-2', clock: new FakeClock(), table, offlineReason: '--offline' });
    const quote = await book.list('ec2:m6i.large');
    expect(quote.notFound).toBe(`the offline price table has no prices for ap-southeast-2 (it has ${table.regions.join(', ')})`);
  });

  it('an estimate says offline in its source, and a missing price is priceNotFound in JSON (not in the totals)', async () => {
    fake.pricingError = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const book = new PriceBook({ region: 'us-east-1', clock: new FakeClock(), table, pricing: pricingClient });
    const report = await estimate(
      {
        kind: 'template',
        subject: 'test',
        region: 'us-east-1',
        notPriced: [],
        notes: [],
        resources: [
          {
            name: 'Host',
            type: 'AWS::AutoScaling::AutoScalingGroup',
            parts: [
              { kind: 'instances', count: 1, market: 'on-demand', instanceTypes: ['m6i.large'] },
              { kind: 'instances', count: 1, market: 'on-demand', instanceTypes: ['x9z.mega'] },
              { kind: 'fixed', key: 'vpc:public-ipv4', name: 'Public IPv4 address', hourlyQuantity: Decimal.of(1) },
            ],
          },
        ],
      },
      book,
      Date.parse('2025-01-15T12:00:00Z'),
    );
    const doc = costJson(report) as { source: string; totalMonthlyCost: string; resources: { costComponents: { name: string; priceNotFound: boolean; monthlyCost: string | null; price: string | null }[] }[] };
    expect(doc.source).toBe('offline');
    const [found, missing, ip] = doc.resources[0].costComponents;
    expect(found).toMatchObject({ priceNotFound: false, price: '0.096', monthlyCost: '70.08' });
    expect(missing).toMatchObject({ name: 'Instance usage (Linux, on-demand, x9z.mega)', priceNotFound: true, monthlyCost: null, price: null });
    expect(ip).toMatchObject({ monthlyCost: '3.65' });
    expect(doc.totalMonthlyCost).toBe('73.73');
    expect(report.priceNotFound).toEqual(['Host: Instance usage (Linux, on-demand, x9z.mega)']);
  });

  it('the shipped table is valid, dated, and refuses a malformed copy', () => {
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(table.regions).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1']));
    expect(table.lookup('eu-west-1', 'cloudfront:data-out', true)!.length).toBeGreaterThan(1);
    expect(() => parseOfflineTable('{"schema":1}', 'x.json')).toThrow(/the offline price table x\.json is invalid/);
  });
});
