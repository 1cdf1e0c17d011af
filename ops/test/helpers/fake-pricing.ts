/**
 * A fake AWS Price List (GetProducts, TERM_MATCH filters over a catalogue of product documents shaped
 * like the real ones: product.attributes, terms.OnDemand.<offer>.priceDimensions.<rate>, prices as
 * strings with 10 decimals, paginated) and fake EC2 spot price history (paginated with NextToken).
 */
import { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';

const pricingMock = () => mockClient(PricingClient);
const ec2Mock = () => mockClient(EC2Client);
type PricingMock = ReturnType<typeof pricingMock>;
export type Ec2Mock = ReturnType<typeof ec2Mock>;

export interface Dimension {
  readonly unit: string;
  readonly usd: string | null;
  readonly begin?: string;
  readonly end?: string;
  readonly description?: string;
}

export interface ProductSpec {
  readonly sku: string;
  readonly serviceCode: string;
  readonly family?: string;
  readonly attributes: Record<string, string>;
  /** null: no OnDemand terms at all. */
  readonly dimensions: readonly Dimension[] | null;
}

let rateCounter = 0;

/** A Price List document as GetProducts returns it (a JSON string). */
export function productDocument(spec: ProductSpec): string {
  const offer = `${spec.sku}.JRTCKXETXF`;
  const priceDimensions: Record<string, unknown> = {};
  for (const d of spec.dimensions ?? []) {
    const rateCode = `${offer}.${(rateCounter += 1).toString(36).toUpperCase().padStart(10, '6')}`;
    priceDimensions[rateCode] = {
      unit: d.unit,
      endRange: d.end ?? 'Inf',
      description: d.description ?? `${d.usd ? `$${Number(d.usd)}` : 'No price'} per ${d.unit}`,
      appliesTo: [],
      rateCode,
      beginRange: d.begin ?? '0',
      pricePerUnit: d.usd === null ? {} : { USD: d.usd },
    };
  }
  return JSON.stringify({
    product: {
      productFamily: spec.family,
      attributes: { servicecode: spec.serviceCode, locationType: 'AWS Region', ...spec.attributes },
      sku: spec.sku,
    },
    serviceCode: spec.serviceCode,
    terms:
      spec.dimensions === null
        ? {}
        : {
            OnDemand: {
              [offer]: { priceDimensions, sku: spec.sku, effectiveDate: '2026-11-01T00:00:00Z', offerTermCode: 'JRTCKXETXF', termAttributes: {} },
            },
          },
    version: '20261105200000',
    publicationDate: '2026-11-05T20:00:00Z',
  });
}

const LOCATION: Record<string, string> = { 'eu-west-1': 'EU (Ireland)', 'us-east-1': 'US East (N. Virginia)' };
const PREFIX: Record<string, string> = { 'eu-west-1': 'EU', 'us-east-1': 'USE1' };

/** An EC2 on-demand Linux instance product, as the real filters find it. */
export function ec2Product(region: string, instanceType: string, usd: string, overrides: Record<string, string> = {}): ProductSpec {
  return {
    sku: `EC2${instanceType.replace(/\W/g, '').toUpperCase()}${region.replace(/\W/g, '').toUpperCase()}${Object.keys(overrides).length}`.slice(0, 16),
    serviceCode: 'AmazonEC2',
    family: 'Compute Instance',
    attributes: {
      regionCode: region,
      location: LOCATION[region] ?? region,
      instanceType,
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      preInstalledSw: 'NA',
      licenseModel: 'No License required',
      capacitystatus: 'Used',
      marketoption: 'OnDemand',
      operation: 'RunInstances',
      usagetype: `${region === 'us-east-1' ? '' : `${PREFIX[region] ?? 'XX'}-`}BoxUsage:${instanceType}`,
      vcpu: '2',
      memory: '8 GiB',
      ...overrides,
    },
    dimensions: [{ unit: 'Hrs', usd: usd.padEnd(12, '0'), description: `$${Number(usd)} per On Demand Linux ${instanceType} Instance Hour` }],
  };
}

/** The other products a GeuseMaker deployment needs in a region, at the given prices. */
export function regionProducts(region: string, prices: {
  gp3: string;
  efsStandard: string;
  efsRead: string;
  efsWrite: string;
  ipv4: string;
  alb: string;
  lcu: string;
  secret: string;
  secretApiPerRequest: string;
  natHour: string;
  natGb: string;
}): ProductSpec[] {
  const p = PREFIX[region] ?? 'XX';
  const base = { regionCode: region, location: LOCATION[region] ?? region };
  return [
    { sku: `GP3${p}`, serviceCode: 'AmazonEC2', family: 'Storage', attributes: { ...base, volumeApiName: 'gp3', usagetype: `${p}-EBS:VolumeUsage.gp3` }, dimensions: [{ unit: 'GB-Mo', usd: prices.gp3 }] },
    { sku: `GP3IOPS${p}`, serviceCode: 'AmazonEC2', family: 'System Operation', attributes: { ...base, volumeApiName: 'gp3', usagetype: `${p}-EBS:VolumeP-IOPS.gp3` }, dimensions: [{ unit: 'IOPS-Mo', usd: '0.0055000000' }] },
    { sku: `EFSSTD${p}`, serviceCode: 'AmazonEFS', family: 'Storage', attributes: { ...base, storageClass: 'General Purpose', usagetype: `${p}-TimedStorage-ByteHrs` }, dimensions: [{ unit: 'GB-Mo', usd: prices.efsStandard }] },
    // Same storage class, other usage types: the selection must not pick these.
    { sku: `EFSSMALL${p}`, serviceCode: 'AmazonEFS', family: 'Storage', attributes: { ...base, storageClass: 'General Purpose', usagetype: `${p}-TimedStorage-SmallFiles` }, dimensions: [{ unit: 'GB-Mo', usd: '0.9900000000' }] },
    { sku: `EFSETR${p}`, serviceCode: 'AmazonEFS', family: 'Storage', attributes: { ...base, storageClass: 'General Purpose', accessType: 'Read', usagetype: `${p}-ETDataAccess-Bytes` }, dimensions: [{ unit: 'GB', usd: prices.efsRead }] },
    { sku: `EFSETW${p}`, serviceCode: 'AmazonEFS', family: 'Storage', attributes: { ...base, storageClass: 'General Purpose', accessType: 'Write', usagetype: `${p}-ETDataAccess-Bytes` }, dimensions: [{ unit: 'GB', usd: prices.efsWrite }] },
    { sku: `IPV4${p}`, serviceCode: 'AmazonVPC', family: 'VpcPublicIPv4Address', attributes: { ...base, usagetype: `${p}-PublicIPv4:InUseAddress` }, dimensions: [{ unit: 'Hrs', usd: prices.ipv4 }] },
    { sku: `IPV4IDLE${p}`, serviceCode: 'AmazonVPC', family: 'VpcPublicIPv4Address', attributes: { ...base, usagetype: `${p}-PublicIPv4:IdleAddress` }, dimensions: [{ unit: 'Hrs', usd: '0.0050000000' }] },
    { sku: `ALB${p}`, serviceCode: 'AWSELB', family: 'Load Balancer-Application', attributes: { ...base, operation: 'LoadBalancing:Application', usagetype: `${p}-LoadBalancerUsage` }, dimensions: [{ unit: 'Hrs', usd: prices.alb }] },
    { sku: `ALBTS${p}`, serviceCode: 'AWSELB', family: 'Load Balancer-Application', attributes: { ...base, operation: 'LoadBalancing:Application', usagetype: `${p}-TS-LoadBalancerUsage` }, dimensions: [{ unit: 'Hrs', usd: '0.0060000000' }] },
    { sku: `LCU${p}`, serviceCode: 'AWSELB', family: 'Load Balancer-Application', attributes: { ...base, operation: 'LoadBalancing:Application', usagetype: `${p}-LCUUsage` }, dimensions: [{ unit: 'LCU-Hrs', usd: prices.lcu }] },
    { sku: `SECRET${p}`, serviceCode: 'AWSSecretsManager', family: 'Secret', attributes: { ...base, usagetype: `${p}-AWSSecretsManager-Secrets` }, dimensions: [{ unit: 'Secrets', usd: prices.secret }] },
    { sku: `SECAPI${p}`, serviceCode: 'AWSSecretsManager', family: 'API Request', attributes: { ...base, usagetype: `${p}-AWSSecretsManagerAPIRequest` }, dimensions: [{ unit: 'API Requests', usd: prices.secretApiPerRequest }] },
    { sku: `NATH${p}`, serviceCode: 'AmazonEC2', family: 'NAT Gateway', attributes: { ...base, usagetype: `${p}-NatGateway-Hours` }, dimensions: [{ unit: 'Hrs', usd: prices.natHour }] },
    { sku: `NATB${p}`, serviceCode: 'AmazonEC2', family: 'NAT Gateway', attributes: { ...base, usagetype: `${p}-NatGateway-Bytes` }, dimensions: [{ unit: 'GB', usd: prices.natGb }] },
  ];
}

/** CloudFront data transfer out (United States): tiered, as the Price List publishes it. */
export function cloudFrontProducts(): ProductSpec[] {
  return [
    {
      sku: 'CFUSOUT',
      serviceCode: 'AmazonCloudFront',
      family: 'Data Transfer',
      attributes: { fromLocation: 'United States', transferType: 'CloudFront Outbound', usagetype: 'US-DataTransfer-Out-Bytes' },
      dimensions: [
        { unit: 'GB', usd: '0.0200000000', begin: '5120000', end: 'Inf' },
        { unit: 'GB', usd: '0.0850000000', begin: '0', end: '10240' },
        { unit: 'GB', usd: '0.0800000000', begin: '10240', end: '51200' },
        { unit: 'GB', usd: '0.0600000000', begin: '51200', end: '153600' },
        { unit: 'GB', usd: '0.0400000000', begin: '153600', end: '512000' },
        { unit: 'GB', usd: '0.0300000000', begin: '512000', end: '1024000' },
        { unit: 'GB', usd: '0.0250000000', begin: '1024000', end: '5120000' },
      ],
    },
    {
      sku: 'CFUSHTTPS',
      serviceCode: 'AmazonCloudFront',
      family: 'Request',
      attributes: { location: 'United States', requestType: 'CloudFront-Request-HTTPS-Proxy', usagetype: 'US-Requests-Tier2-HTTPS' },
      dimensions: [{ unit: 'Requests', usd: '0.0000010000' }],
    },
  ];
}

export interface SpotEntry {
  readonly type: string;
  readonly az: string;
  readonly price: string;
  readonly at: string;
}

export class FakePricing {
  readonly products: { spec: ProductSpec; json: string }[] = [];
  readonly spot: SpotEntry[] = [];
  pageSize = 100;
  spotPageSize = 1000;
  /** Thrown by every GetProducts / DescribeSpotPriceHistory call when set. */
  pricingError?: Error;
  spotError?: Error;
  readonly pricing: PricingMock;
  readonly ec2: Ec2Mock;
  private readonly ownEc2: boolean;

  /** `ec2`: an existing EC2 mock (FakeAws's) to add the spot history to; otherwise a new one. */
  constructor(ec2?: Ec2Mock) {
    this.pricing = pricingMock();
    this.ownEc2 = !ec2;
    this.ec2 = ec2 ?? ec2Mock();
    this.install();
  }

  add(...specs: ProductSpec[]): this {
    for (const spec of specs) this.products.push({ spec, json: productDocument(spec) });
    return this;
  }

  restore(): void {
    this.pricing.restore();
    if (this.ownEc2) this.ec2.restore();
  }

  private install(): void {
    this.pricing.on(GetProductsCommand).callsFake((input) => {
      if (this.pricingError) throw this.pricingError;
      const filters: { Type?: string; Field?: string; Value?: string }[] = input.Filters ?? [];
      const matching = this.products.filter(({ spec }) => {
        if (spec.serviceCode !== input.ServiceCode) return false;
        return filters.every((f) => {
          if (f.Type !== 'TERM_MATCH') throw new Error(`unexpected filter type ${f.Type}`);
          const value = f.Field === 'productFamily' ? spec.family : spec.attributes[f.Field ?? ''];
          return value === f.Value;
        });
      });
      const start = input.NextToken ? Number(input.NextToken.split(':')[1]) : 0;
      const size = Math.min(this.pageSize, input.MaxResults ?? 100);
      const page = matching.slice(start, start + size).map((p) => p.json);
      return { FormatVersion: 'aws_v1', PriceList: page, NextToken: start + size < matching.length ? `token:${start + size}` : undefined };
    });
    this.ec2.on(DescribeSpotPriceHistoryCommand).callsFake((input) => {
      if (this.spotError) throw this.spotError;
      const end = input.EndTime?.getTime() ?? Infinity;
      const start = input.StartTime?.getTime() ?? 0;
      const types: string[] = input.InstanceTypes ?? [];
      const relevant = this.spot
        .filter((e) => types.includes(e.type) && (!input.AvailabilityZone || e.az === input.AvailabilityZone))
        .filter((e) => Date.parse(e.at) <= end);
      // Like EC2: the changes inside [start, end], plus the price in effect at the start.
      const inEffect = new Map<string, SpotEntry>();
      const inside: SpotEntry[] = [];
      for (const entry of relevant) {
        if (Date.parse(entry.at) >= start) inside.push(entry);
        else {
          const key = `${entry.type}/${entry.az}`;
          const known = inEffect.get(key);
          if (!known || Date.parse(entry.at) > Date.parse(known.at)) inEffect.set(key, entry);
        }
      }
      const all = [...inEffect.values(), ...inside].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
      const offset = input.NextToken ? Number(input.NextToken.replace('spot-', '')) : 0;
      const page = all.slice(offset, offset + this.spotPageSize);
      return {
        SpotPriceHistory: page.map((e) => ({
          AvailabilityZone: e.az,
          InstanceType: e.type as never,
          ProductDescription: 'Linux/UNIX' as never,
          SpotPrice: e.price,
          Timestamp: new Date(e.at),
        })),
        NextToken: offset + this.spotPageSize < all.length ? `spot-${offset + this.spotPageSize}` : '',
      };
    });
  }

  getProductsCalls(): { ServiceCode?: string; Filters?: { Field?: string; Value?: string }[] }[] {
    return this.pricing.commandCalls(GetProductsCommand).map((c) => c.args[0].input);
  }

  spotCalls(): number {
    return this.ec2.commandCalls(DescribeSpotPriceHistoryCommand).length;
  }
}

/** Realistic eu-west-1 list prices (USD) of the non-EC2 products, as the Price List API gives them. */
export const EU_WEST_1_PRICES = {
  gp3: '0.0880000000',
  efsStandard: '0.3300000000',
  efsRead: '0.0330000000',
  efsWrite: '0.0660000000',
  ipv4: '0.0050000000',
  alb: '0.0252000000',
  lcu: '0.0080000000',
  secret: '0.4000000000',
  secretApiPerRequest: '0.0000050000',
  natHour: '0.0480000000',
  natGb: '0.0480000000',
};
