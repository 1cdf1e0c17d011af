/**
 * Every price gm-ops looks up, by key: how to ask the Price List API for it (service code, TERM_MATCH
 * filters, the selection of the product among those returned) and the unit it is shown in. The same
 * keys name the prices of the shipped offline table (ops/data/price-table.json).
 */
import { Decimal } from './decimal';
import type { ProductDocument, ProductQuery } from './pricing-api';

export interface PriceSpec {
  readonly key: string;
  /** The unit a price is shown in: "hours", "GB-months", "GB", "10k requests", ... */
  readonly unit: string;
  /** The question to the Price List API for a region. */
  query(region: string): ProductQuery;
}

const one = Decimal.of(1);

function usagetypeMatches(pattern: RegExp, extra?: (attributes: Readonly<Record<string, string>>) => boolean) {
  return (product: ProductDocument): boolean => {
    const attributes = product.product?.attributes ?? {};
    return pattern.test(attributes.usagetype ?? '') && (extra ? extra(attributes) : true);
  };
}

/** The Price List `usagetype` carries a region prefix ("EUW1-", "USE1-", or none in us-east-1 for some). */
const PREFIX = '^(?:[A-Z]{2,4}\\d?-)?';

/** EC2 Linux, shared tenancy, on-demand, no pre-installed software, no license: exactly one product. */
export function ec2OnDemandSpec(instanceType: string): PriceSpec {
  return {
    key: `ec2:${instanceType}`,
    unit: 'hours',
    query: (region) => ({
      label: `EC2 ${instanceType} (Linux, shared tenancy, on-demand)`,
      serviceCode: 'AmazonEC2',
      filters: {
        regionCode: region,
        instanceType,
        operatingSystem: 'Linux',
        tenancy: 'Shared',
        preInstalledSw: 'NA',
        licenseModel: 'No License required',
        capacitystatus: 'Used',
      },
      exactlyOne: true,
      units: { hrs: one },
    }),
  };
}

const EBS_VOLUME_TYPES = ['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard'] as const;

function ebsStorageSpec(volumeType: string): PriceSpec {
  return {
    key: `ebs:${volumeType}:storage`,
    unit: 'GB-months',
    query: (region) => ({
      label: `EBS ${volumeType} storage`,
      serviceCode: 'AmazonEC2',
      filters: { regionCode: region, productFamily: 'Storage', volumeApiName: volumeType },
      exactlyOne: false,
      units: { 'gb-mo': one },
    }),
  };
}

const FIXED: readonly PriceSpec[] = [
  {
    key: 'ebs:gp3:iops',
    unit: 'IOPS-months',
    query: (region) => ({
      label: 'EBS gp3 provisioned IOPS',
      serviceCode: 'AmazonEC2',
      filters: { regionCode: region, productFamily: 'System Operation', volumeApiName: 'gp3' },
      select: usagetypeMatches(new RegExp(`${PREFIX}EBS:VolumeP-IOPS\\.gp3$`)),
      exactlyOne: false,
      units: { 'iops-mo': one },
    }),
  },
  {
    key: 'ebs:gp3:throughput',
    unit: 'MiBps-months',
    query: (region) => ({
      label: 'EBS gp3 provisioned throughput',
      serviceCode: 'AmazonEC2',
      filters: { regionCode: region, productFamily: 'Provisioned Throughput', volumeApiName: 'gp3' },
      select: usagetypeMatches(new RegExp(`${PREFIX}EBS:VolumeP-Throughput\\.gp3$`)),
      exactlyOne: false,
      // Listed per GiBps-month (1 GiBps = 1024 MiBps) or per MiBps-month.
      units: { 'gibps-mo': Decimal.of(1).div(1024), 'mibps-mo': one, 'mbps-mo': one },
    }),
  },
  {
    key: 'efs:standard',
    unit: 'GB-months',
    query: (region) => ({
      label: 'EFS Standard storage',
      serviceCode: 'AmazonEFS',
      filters: { regionCode: region, storageClass: 'General Purpose' },
      select: usagetypeMatches(new RegExp(`${PREFIX}TimedStorage-ByteHrs$`)),
      exactlyOne: false,
      units: { 'gb-mo': one },
    }),
  },
  {
    key: 'efs:ia-et',
    unit: 'GB-months',
    query: (region) => ({
      label: 'EFS Infrequent Access storage (elastic throughput)',
      serviceCode: 'AmazonEFS',
      filters: { regionCode: region, storageClass: 'Infrequent Access-ET' },
      select: usagetypeMatches(new RegExp(`${PREFIX}IATimedStorage-ET-ByteHrs$`)),
      exactlyOne: false,
      units: { 'gb-mo': one },
    }),
  },
  {
    key: 'efs:archive',
    unit: 'GB-months',
    query: (region) => ({
      label: 'EFS Archive storage',
      serviceCode: 'AmazonEFS',
      filters: { regionCode: region, storageClass: 'Archive' },
      select: usagetypeMatches(new RegExp(`${PREFIX}ArchiveTimedStorage-ByteHrs$`)),
      exactlyOne: false,
      units: { 'gb-mo': one },
    }),
  },
  ...(['read', 'write'] as const).map(
    (access): PriceSpec => ({
      key: `efs:elastic-${access}`,
      unit: 'GB',
      query: (region) => ({
        label: `EFS elastic throughput ${access}s`,
        serviceCode: 'AmazonEFS',
        filters: { regionCode: region },
        select: usagetypeMatches(new RegExp(`${PREFIX}ETDataAccess-Bytes$`), (a) => (a.accessType ?? '').toLowerCase() === access),
        exactlyOne: false,
        units: { gb: one },
      }),
    }),
  ),
  {
    key: 'vpc:public-ipv4',
    unit: 'hours',
    query: (region) => ({
      label: 'public IPv4 address (in use)',
      serviceCode: 'AmazonVPC',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}PublicIPv4:InUseAddress$`)),
      exactlyOne: false,
      units: { hrs: one },
    }),
  },
  {
    key: 'elb:alb',
    unit: 'hours',
    query: (region) => ({
      label: 'Application Load Balancer hours',
      serviceCode: 'AWSELB',
      filters: { regionCode: region, productFamily: 'Load Balancer-Application' },
      select: usagetypeMatches(new RegExp(`${PREFIX}LoadBalancerUsage$`)),
      exactlyOne: false,
      units: { hrs: one },
    }),
  },
  {
    key: 'elb:alb-lcu',
    unit: 'LCU-hours',
    query: (region) => ({
      label: 'Application Load Balancer capacity units',
      serviceCode: 'AWSELB',
      filters: { regionCode: region, productFamily: 'Load Balancer-Application' },
      select: usagetypeMatches(new RegExp(`${PREFIX}LCUUsage$`)),
      exactlyOne: false,
      units: { 'lcu-hrs': one },
    }),
  },
  {
    key: 'nat:hours',
    unit: 'hours',
    query: (region) => ({
      label: 'NAT gateway hours',
      serviceCode: 'AmazonEC2',
      filters: { regionCode: region, productFamily: 'NAT Gateway' },
      select: usagetypeMatches(new RegExp(`${PREFIX}NatGateway-Hours$`)),
      exactlyOne: false,
      units: { hrs: one },
    }),
  },
  {
    key: 'nat:data',
    unit: 'GB',
    query: (region) => ({
      label: 'NAT gateway data processed',
      serviceCode: 'AmazonEC2',
      filters: { regionCode: region, productFamily: 'NAT Gateway' },
      select: usagetypeMatches(new RegExp(`${PREFIX}NatGateway-Bytes$`)),
      exactlyOne: false,
      units: { gb: one },
    }),
  },
  {
    key: 'secrets:secret',
    unit: 'secret-months',
    query: (region) => ({
      label: 'Secrets Manager secret',
      serviceCode: 'AWSSecretsManager',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}AWSSecretsManager-Secrets$`)),
      exactlyOne: false,
      units: { secrets: one, secret: one, 'secret-mo': one, 'secret-month': one, 'secret-months': one },
    }),
  },
  {
    key: 'secrets:api',
    unit: '10k requests',
    query: (region) => ({
      label: 'Secrets Manager API requests',
      serviceCode: 'AWSSecretsManager',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}AWSSecretsManagerAPIRequest$`)),
      exactlyOne: false,
      units: { 'api requests': Decimal.of(10000), requests: Decimal.of(10000), 'api request': Decimal.of(10000), request: Decimal.of(10000) },
    }),
  },
  {
    // CloudFront is priced by edge location, not region: United States (and Europe, at the same rates).
    key: 'cloudfront:data-out',
    unit: 'GB',
    query: () => ({
      label: 'CloudFront data transfer out to the internet (United States)',
      serviceCode: 'AmazonCloudFront',
      filters: { usagetype: 'US-DataTransfer-Out-Bytes' },
      exactlyOne: false,
      units: { gb: one },
    }),
  },
  {
    key: 'cloudfront:https-requests',
    unit: '10k requests',
    query: () => ({
      label: 'CloudFront HTTPS requests (United States)',
      serviceCode: 'AmazonCloudFront',
      filters: { usagetype: 'US-Requests-Tier2-HTTPS' },
      exactlyOne: false,
      units: { requests: Decimal.of(10000), request: Decimal.of(10000) },
    }),
  },
  {
    // Usage type as CloudFront's billing reports name it (Developer Guide, "CloudFront billing and usage reports").
    key: 'cloudfront:function-invocations',
    unit: '1M invocations',
    query: () => ({
      label: 'CloudFront Functions invocations',
      serviceCode: 'AmazonCloudFront',
      filters: { usagetype: 'Executions-CloudFrontFunctions' },
      exactlyOne: false,
      units: { invocations: Decimal.of(1000000), invocation: Decimal.of(1000000), requests: Decimal.of(1000000), request: Decimal.of(1000000), executions: Decimal.of(1000000), execution: Decimal.of(1000000) },
    }),
  },
];

/** Fargate (ECS), Linux: per vCPU-hour and per GB-hour, x86_64 or arm64 (Graviton), on-demand. */
export type FargateArchitecture = 'x86' | 'arm';

export function fargateKey(architecture: FargateArchitecture, dimension: 'vcpu' | 'gb'): string {
  return `fargate:linux-${architecture}:${dimension}`;
}

/** The key of the dated typical Fargate Spot price (ops/data/price-table.json typicalSpot), x86_64 only. */
export function fargateSpotKey(dimension: 'vcpu' | 'gb'): string {
  return `fargate-spot:linux-x86:${dimension}`;
}

const FARGATE: readonly PriceSpec[] = (['x86', 'arm'] as const).flatMap((architecture) =>
  (['vcpu', 'gb'] as const).map((dimension): PriceSpec => ({
    key: fargateKey(architecture, dimension),
    unit: dimension === 'vcpu' ? 'vCPU-hours' : 'GB-hours',
    query: (region) => ({
      label: `Fargate Linux/${architecture === 'x86' ? 'x86' : 'ARM'} per ${dimension === 'vcpu' ? 'vCPU' : 'GB'}-hour`,
      serviceCode: 'AmazonECS',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}Fargate-${architecture === 'arm' ? 'ARM-' : ''}${dimension === 'vcpu' ? 'vCPU-Hours:perCPU' : 'GB-Hours'}$`)),
      exactlyOne: false,
      units: { hours: one, hrs: one },
    }),
  })),
);

/** RDS PostgreSQL instance hours of a class, Single-AZ or Multi-AZ (the standby doubles it). */
export function rdsInstanceKey(engine: string, instanceClass: string, multiAz: boolean): string {
  return `rds:${engine}:${instanceClass}${multiAz ? ':multi-az' : ''}`;
}

function rdsInstanceSpec(key: string): PriceSpec | undefined {
  const match = /^rds:(postgres):(db\.[a-z0-9-]+\.[a-z0-9-]+)(:multi-az)?$/.exec(key);
  if (!match) return undefined;
  const [, , instanceClass, multi] = match;
  const multiAz = multi !== undefined;
  return {
    key,
    unit: 'hours',
    query: (region) => ({
      label: `RDS PostgreSQL ${instanceClass} (${multiAz ? 'Multi-AZ' : 'Single-AZ'}, on-demand)`,
      serviceCode: 'AmazonRDS',
      filters: { regionCode: region, instanceType: instanceClass, databaseEngine: 'PostgreSQL', deploymentOption: multiAz ? 'Multi-AZ' : 'Single-AZ' },
      select: usagetypeMatches(new RegExp(`${PREFIX}${multiAz ? 'Multi-AZUsage' : 'InstanceUsage'}:${instanceClass.replace(/\./g, '\\.')}$`)),
      exactlyOne: false,
      units: { hrs: one },
    }),
  };
}

/** ElastiCache node hours of a node type for an engine (valkey, redis). */
export function elasticacheNodeKey(engine: string, nodeType: string): string {
  return `elasticache:${engine}:${nodeType}`;
}

function elasticacheNodeSpec(key: string): PriceSpec | undefined {
  const match = /^elasticache:(valkey|redis):(cache\.[a-z0-9-]+\.[a-z0-9-]+)$/.exec(key);
  if (!match) return undefined;
  const [, engine, nodeType] = match;
  return {
    key,
    unit: 'hours',
    query: (region) => ({
      label: `ElastiCache ${engine === 'valkey' ? 'Valkey' : 'Redis OSS'} ${nodeType} (node-based, on-demand)`,
      serviceCode: 'AmazonElastiCache',
      filters: { regionCode: region, instanceType: nodeType, cacheEngine: engine === 'valkey' ? 'Valkey' : 'Redis' },
      select: usagetypeMatches(new RegExp(`${PREFIX}NodeUsage:${nodeType.replace(/\./g, '\\.')}$`)),
      exactlyOne: false,
      units: { hrs: one },
    }),
  };
}

const MANAGED: readonly PriceSpec[] = [
  {
    key: 'rds:gp3:storage',
    unit: 'GB-months',
    query: (region) => ({
      label: 'RDS gp3 storage (Single-AZ)',
      serviceCode: 'AmazonRDS',
      filters: { regionCode: region, volumeType: 'General Purpose-GP3', deploymentOption: 'Single-AZ' },
      select: usagetypeMatches(new RegExp(`${PREFIX}RDS:GP3-Storage$`)),
      exactlyOne: false,
      units: { 'gb-mo': one },
    }),
  },
  {
    key: 'rds:backup',
    unit: 'GB-months',
    query: (region) => ({
      label: 'RDS backup storage beyond the free allowance',
      serviceCode: 'AmazonRDS',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}RDS:ChargedBackupUsage$`)),
      exactlyOne: false,
      units: { 'gb-mo': one },
    }),
  },
  {
    // Route 53 is global: a hosted zone costs the same whatever the region of its VPC.
    key: 'route53:hosted-zone',
    unit: 'zone-months',
    query: () => ({
      label: 'Route 53 hosted zone (first 25)',
      serviceCode: 'AmazonRoute53',
      filters: { usagetype: 'HostedZone' },
      exactlyOne: false,
      units: { 'hostedzone': one, 'hosted zone': one, zone: one },
    }),
  },
  {
    key: 'cloudwatch:metric',
    unit: 'metric-months',
    query: (region) => ({
      label: 'CloudWatch custom metrics',
      serviceCode: 'AmazonCloudWatch',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}CW:MetricMonitorUsage$`)),
      exactlyOne: false,
      units: { metrics: one, metric: one },
    }),
  },
  {
    key: 'cloudwatch:alarm',
    unit: 'alarm-months',
    query: (region) => ({
      label: 'CloudWatch standard-resolution alarms',
      serviceCode: 'AmazonCloudWatch',
      filters: { regionCode: region },
      select: usagetypeMatches(new RegExp(`${PREFIX}CW:AlarmMonitorUsage$`)),
      exactlyOne: false,
      units: { alarms: one, alarm: one },
    }),
  },
];

const BY_KEY = new Map<string, PriceSpec>([...FIXED, ...FARGATE, ...MANAGED, ...EBS_VOLUME_TYPES.map(ebsStorageSpec)].map((spec) => [spec.key, spec]));

/** The spec of a key ("ec2:<type>" for any instance type); undefined for an unknown key. */
export function priceSpec(key: string): PriceSpec | undefined {
  if (key.startsWith('ec2:')) {
    const type = key.slice(4);
    return /^[a-z0-9-]+\.[a-z0-9-]+$/.test(type) ? ec2OnDemandSpec(type) : undefined;
  }
  if (key.startsWith('rds:') && key !== 'rds:gp3:storage' && key !== 'rds:backup') return rdsInstanceSpec(key);
  if (key.startsWith('elasticache:')) return elasticacheNodeSpec(key);
  return BY_KEY.get(key);
}

/** Keys that are the same everywhere (CloudFront): looked up without a region. */
export function isGlobalKey(key: string): boolean {
  return key.startsWith('cloudfront:') || key.startsWith('route53:');
}

export function ebsStorageKey(volumeType: string): string {
  return `ebs:${volumeType}:storage`;
}
