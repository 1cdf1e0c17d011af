/**
 * A running deployment as a cost inventory, read from AWS: the host (its auto scaling group, type,
 * market, AZ, launch time), its volumes, the public IPv4 addresses of the host and the load balancer
 * (their network interfaces, found by security group), the EFS file system's metered size, the load
 * balancer and CloudFront of the compute stack, NAT gateways in the VPC (none by design), the secrets. A scale
 * deployment adds its ECS services, database, queue, hosted zones, alarms and custom metrics (live-scale.ts).
 */
import { ListStackResourcesCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeNatGatewaysCommand, DescribeNetworkInterfacesCommand, DescribeVolumesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, type EFSClient } from '@aws-sdk/client-efs';
import type { AwsClients } from '../aws/clients';
import { hasErrorName } from '../aws/classify-error';
import { OUTPUT_KEYS, parseSecretArns } from '../contract';
import { findDeployment } from '../discovery/deployments';
import { autoScalingGroupOf, resolveHosts, type HostInfo } from '../discovery/hosts';
import { UsageProblem } from '../errors';
import { ebsStorageKey } from './catalogue';
import { scaleCostParts, type ScaleCostParts } from './live-scale';
import { Decimal } from './decimal';
import { secretsParts } from './scale-parts';
import { CLOUDFRONT_FUNCTION_INVOCATIONS, type CostInventory, type CostPart, type CostResource } from './model';

const GIB = Decimal.of(1024 * 1024 * 1024);
const ONE = Decimal.of(1);

export interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly status?: string;
}

/** Every resource of a stack (ListStackResources, all pages); a stack name or a stack id. */
export async function listStackResources(cfn: CloudFormationClient, stack: string): Promise<StackResource[]> {
  const result: StackResource[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cfn.send(new ListStackResourcesCommand({ StackName: stack, NextToken: nextToken }));
    for (const summary of page?.StackResourceSummaries ?? []) {
      if (!summary.LogicalResourceId || !summary.ResourceType) continue;
      result.push({
        logicalId: summary.LogicalResourceId,
        type: summary.ResourceType,
        physicalId: summary.PhysicalResourceId || undefined,
        status: summary.ResourceStatus,
      });
    }
    nextToken = page?.NextToken;
  } while (nextToken);
  return result;
}

const present = (r: StackResource) => r.status !== 'DELETE_COMPLETE' && r.status !== 'CREATE_FAILED';

function formatGb(value: Decimal): string {
  const n = value.toNumber();
  return n >= 10 ? value.toFixed(1) : value.toFixed(3).replace(/\.?0+$/, '') || '0';
}

interface PublicAddresses {
  readonly host: number;
  readonly loadBalancer: number;
  readonly other: number;
  /** On the network interfaces of ECS tasks (awsvpc): priced with their service, from its running count. */
  readonly task: number;
}

/** Public IPv4 addresses on the network interfaces of these security groups, by owner. */
async function publicAddresses(ec2: EC2Client, groupIds: readonly string[]): Promise<PublicAddresses> {
  const counts = { host: 0, loadBalancer: 0, other: 0, task: 0 };
  let nextToken: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [...groupIds] }], NextToken: nextToken }));
    for (const eni of page?.NetworkInterfaces ?? []) {
      const ips = new Set<string>();
      if (eni.Association?.PublicIp) ips.add(eni.Association.PublicIp);
      for (const privateIp of eni.PrivateIpAddresses ?? []) if (privateIp.Association?.PublicIp) ips.add(privateIp.Association.PublicIp);
      const description = eni.Description ?? '';
      // A Fargate task's interface is described by its ECS attachment: "arn:aws:ecs:<region>:<account>:attachment/<id>".
      const owner = eni.Attachment?.InstanceId ? 'host' : description.startsWith('ELB ') ? 'loadBalancer' : /^arn:aws[a-z-]*:ecs:/.test(description) ? 'task' : 'other';
      for (const ip of ips) {
        if (seen.has(ip)) continue;
        seen.add(ip);
        counts[owner] += 1;
      }
    }
    nextToken = page?.NextToken;
  } while (nextToken);
  return counts;
}

async function hostVolumes(ec2: EC2Client, instanceId: string): Promise<CostPart[]> {
  const parts: CostPart[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }], NextToken: nextToken }));
    for (const volume of page?.Volumes ?? []) {
      const type = volume.VolumeType ?? 'gp2';
      const size = volume.Size ?? 0;
      const attachment = volume.Attachments?.find((a) => a.InstanceId === instanceId);
      const device = attachment?.Device ?? 'volume';
      // Deleted with its host (an auto scaling group's root volume): gone while the deployment is stopped.
      const withHost = attachment?.DeleteOnTermination !== false;
      parts.push({ kind: 'fixed', key: ebsStorageKey(type), name: `Storage (${type}, ${device}, ${size} GB, ${volume.VolumeId ?? ''})`.replace(', )', ')'), monthlyQuantity: Decimal.of(size), withHost });
      if (type === 'gp3' && (volume.Iops ?? 3000) > 3000) {
        parts.push({ kind: 'fixed', key: 'ebs:gp3:iops', name: `Provisioned IOPS above 3000 (${device})`, monthlyQuantity: Decimal.of((volume.Iops ?? 3000) - 3000), withHost });
      }
      if (type === 'gp3' && (volume.Throughput ?? 125) > 125) {
        parts.push({ kind: 'fixed', key: 'ebs:gp3:throughput', name: `Throughput above 125 MiB/s (${device})`, monthlyQuantity: Decimal.of((volume.Throughput ?? 125) - 125), withHost });
      }
    }
    nextToken = page?.NextToken;
  } while (nextToken);
  return parts;
}

async function fileSystemResource(efs: EFSClient, fileSystemId: string, stack: string, notes: string[]): Promise<CostResource | undefined> {
  let description;
  try {
    description = (await efs.send(new DescribeFileSystemsCommand({ FileSystemId: fileSystemId })))?.FileSystems?.[0];
  } catch (error) {
    if (!hasErrorName(error, 'FileSystemNotFound')) throw error;
  }
  if (!description) {
    notes.push(`file system ${fileSystemId} (from ${stack}) was not found`);
    return undefined;
  }
  const size = description.SizeInBytes;
  const total = Decimal.of(size?.Value ?? 0);
  const ia = Decimal.of(size?.ValueInIA ?? 0);
  const archive = Decimal.of(size?.ValueInArchive ?? 0);
  const standard = size?.ValueInStandard !== undefined ? Decimal.of(size.ValueInStandard) : total.sub(ia).sub(archive);
  const elastic = description.ThroughputMode === 'elastic';
  const asOf = size?.Timestamp ? ` as of ${size.Timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z')}` : '';
  const standardGb = standard.div(GIB);
  const parts: CostPart[] = [
    { kind: 'fixed', key: 'efs:standard', name: `Storage (Standard, metered ${formatGb(standardGb)} GB${asOf})`, monthlyQuantity: standardGb },
  ];
  if (!ia.isZero()) {
    if (elastic) parts.push({ kind: 'fixed', key: 'efs:ia-et', name: `Storage (Infrequent Access, ${formatGb(ia.div(GIB))} GB)`, monthlyQuantity: ia.div(GIB) });
    else notes.push(`${fileSystemId}: Infrequent Access storage of a ${description.ThroughputMode ?? 'bursting'} file system is not priced by gm-ops`);
  }
  if (!archive.isZero()) parts.push({ kind: 'fixed', key: 'efs:archive', name: `Storage (Archive, ${formatGb(archive.div(GIB))} GB)`, monthlyQuantity: archive.div(GIB) });
  if (elastic) {
    parts.push({ kind: 'usage', key: 'efs:elastic-read', name: 'Elastic throughput reads' });
    parts.push({ kind: 'usage', key: 'efs:elastic-write', name: 'Elastic throughput writes' });
  } else if (description.ThroughputMode === 'provisioned') {
    notes.push(`${fileSystemId}: provisioned throughput is not priced by gm-ops`);
  }
  return { name: `File system ${fileSystemId}`, type: 'AWS::EFS::FileSystem', id: fileSystemId, stack, parts };
}

/**
 * The deployment's secrets, each once: those its data stack lists in its `SecretArns` output (the
 * imported ones too) and every Secrets Manager secret its stacks created (physical id: the ARN).
 */
export function deploymentSecrets(secretArnsOutput: string | undefined, stackResources: readonly StackResource[]): Set<string> {
  const arns = new Set(Object.values(parseSecretArns(secretArnsOutput ?? '')).filter((arn): arn is string => Boolean(arn)));
  for (const resource of stackResources) {
    if (resource.type === 'AWS::SecretsManager::Secret' && present(resource)) arns.add(resource.physicalId ?? resource.logicalId);
  }
  return arns;
}

export async function deploymentInventory(clients: AwsClients, name: string): Promise<CostInventory> {
  const region = await clients.region();
  if (!region) throw new UsageProblem('no AWS region configured', 'pass --region, set AWS_REGION, or set a region in your AWS profile');
  const deployment = await findDeployment(clients.cloudFormation, name, region);
  const { compute, data } = deployment;
  const [computeResources, dataResources] = await Promise.all([
    compute ? listStackResources(clients.cloudFormation, compute.stackName) : Promise.resolve([]),
    data ? listStackResources(clients.cloudFormation, data.stackName) : Promise.resolve([]),
  ]);
  const resources: CostResource[] = [];
  const notes: string[] = [];

  // The host.
  let host: HostInfo | undefined;
  const group = autoScalingGroupOf(compute);
  if (compute && group) {
    host = (await resolveHosts(clients.autoScaling, clients.ec2, [group])).get(group)?.host;
  }
  const hostParts: CostPart[] = [];
  if (host && host.state !== 'terminated' && host.state !== 'shutting-down') {
    if (host.state === 'running' || host.state === 'pending') {
      hostParts.push({
        kind: 'instances',
        count: 1,
        market: host.market,
        instanceTypes: host.instanceType ? [host.instanceType] : [],
        availabilityZone: host.availabilityZone,
        launchedAt: host.launchedAt,
        instanceId: host.instanceId,
      });
    } else {
      notes.push(`host ${host.instanceId} is ${host.state}: no instance charge while it is not running (its volumes still cost)`);
    }
    hostParts.push(...(await hostVolumes(clients.ec2, host.instanceId)));
  } else if (compute) {
    notes.push(`no running host in ${group ?? 'the auto scaling group'}: nothing is charged for compute right now`);
  } else {
    notes.push('no compute stack: the data stack alone');
  }

  // Public IPv4: the network interfaces of the host's and the compute stack's security groups.
  const groupIds = [
    data?.outputs[OUTPUT_KEYS.hostSecurityGroupId],
    ...computeResources.filter((r) => r.type === 'AWS::EC2::SecurityGroup' && present(r)).map((r) => r.physicalId),
  ].filter((id): id is string => Boolean(id && id.startsWith('sg-')));
  let addresses: PublicAddresses = { host: host?.publicIp && host.state === 'running' ? 1 : 0, loadBalancer: 0, other: 0, task: 0 };
  if (groupIds.length > 0) addresses = await publicAddresses(clients.ec2, [...new Set(groupIds)]);
  if (addresses.host > 0) {
    hostParts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 address${addresses.host > 1 ? `es (${addresses.host})` : ''}`, hourlyQuantity: Decimal.of(addresses.host), withHost: true });
  }
  if (hostParts.length > 0 && host) {
    resources.push({ name: `Host ${host.instanceId}`, type: 'EC2 instance', id: host.instanceId, stack: compute?.stackName, parts: hostParts });
  }

  // Load balancers and CloudFront of the compute stack.
  const loadBalancers = computeResources.filter((r) => r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && present(r));
  for (const [index, lb] of loadBalancers.entries()) {
    const parts: CostPart[] = [
      { kind: 'fixed', key: 'elb:alb', name: 'Application load balancer', hourlyQuantity: ONE },
      { kind: 'usage', key: 'elb:alb-lcu', name: 'Load balancer capacity units (LCU)' },
    ];
    if (index === 0 && addresses.loadBalancer > 0) {
      parts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 addresses (one per AZ, ${addresses.loadBalancer})`, hourlyQuantity: Decimal.of(addresses.loadBalancer) });
    }
    const id = lb.physicalId?.split('/').slice(-2, -1)[0] ?? lb.logicalId;
    resources.push({ name: `Load balancer ${id}`, type: lb.type, id: lb.physicalId ?? lb.logicalId, stack: compute?.stackName, parts });
  }
  if (addresses.other > 0) {
    resources.push({
      name: 'Other public IPv4 addresses',
      type: 'Public IPv4',
      parts: [{ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 addresses (${addresses.other})`, hourlyQuantity: Decimal.of(addresses.other) }],
    });
  }
  for (const distribution of computeResources.filter((r) => r.type === 'AWS::CloudFront::Distribution' && present(r))) {
    resources.push({
      name: `CloudFront ${distribution.physicalId ?? distribution.logicalId}`,
      type: distribution.type,
      id: distribution.physicalId,
      stack: compute?.stackName,
      parts: [
        { kind: 'usage', key: 'cloudfront:data-out', name: 'Data transfer out to the internet (US, Europe)' },
        { kind: 'usage', key: 'cloudfront:https-requests', name: 'HTTPS requests (US, Europe)' },
      ],
    });
  }

  for (const allowList of computeResources.filter((r) => r.type === 'AWS::CloudFront::Function' && present(r))) {
    resources.push({
      name: `CloudFront Function ${allowList.logicalId}`,
      type: allowList.type,
      id: allowList.physicalId,
      stack: compute?.stackName,
      parts: [CLOUDFRONT_FUNCTION_INVOCATIONS],
    });
  }

  // The scale tier: ECS services, hosted zones, custom metrics, alarms; its database and queue whatever the compute.
  const scale: ScaleCostParts = await scaleCostParts(clients, {
    name,
    compute: compute?.role === 'scale' ? compute : undefined,
    computeResources,
    listResources: (stack) => listStackResources(clients.cloudFormation, stack),
  });
  resources.push(...scale.resources);
  notes.push(...scale.notes);

  // The data: EFS, NAT gateways of the VPC, secrets.
  const fileSystemId = data?.outputs[OUTPUT_KEYS.fileSystemId] || dataResources.find((r) => r.type === 'AWS::EFS::FileSystem' && present(r))?.physicalId;
  if (fileSystemId && data) {
    const fileSystem = await fileSystemResource(clients.efs, fileSystemId, data.stackName, notes);
    if (fileSystem) resources.push(fileSystem);
  }
  const vpcId = data?.outputs[OUTPUT_KEYS.vpcId];
  if (vpcId) {
    let nextToken: string | undefined;
    do {
      const page = await clients.ec2.send(
        new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'state', Values: ['pending', 'available'] }], NextToken: nextToken }),
      );
      for (const nat of page?.NatGateways ?? []) {
        const publicIps = (nat.NatGatewayAddresses ?? []).filter((a) => a.PublicIp).length;
        const parts: CostPart[] = [
          { kind: 'fixed', key: 'nat:hours', name: 'NAT gateway', hourlyQuantity: ONE },
          { kind: 'usage', key: 'nat:data', name: 'Data processed' },
        ];
        if (publicIps > 0) parts.push({ kind: 'fixed', key: 'vpc:public-ipv4', name: `Public IPv4 address${publicIps > 1 ? `es (${publicIps})` : ''}`, hourlyQuantity: Decimal.of(publicIps) });
        resources.push({ name: `NAT gateway ${nat.NatGatewayId ?? ''}`.trim(), type: 'AWS::EC2::NatGateway', id: nat.NatGatewayId, stack: data?.stackName, parts });
      }
      nextToken = page?.NextToken;
    } while (nextToken);
  }
  const secrets = deploymentSecrets(data?.outputs[OUTPUT_KEYS.secretArns], [...dataResources, ...computeResources, ...scale.dataResources]);
  for (const arn of scale.secretArns) secrets.add(arn);
  const secretCount = secrets.size;
  if (secretCount > 0) {
    resources.push({
      name: `Secrets (${secretCount})`,
      type: 'AWS::SecretsManager::Secret',
      stack: data?.stackName,
      parts: secretsParts(secretCount),
    });
  }
  return { kind: 'deployment', subject: name, region, resources, notPriced: [], notes };
}
