/**
 * The rest of a fake AWS account for cost and restore, on top of FakeAws: EFS file systems (paginated
 * DescribeFileSystems with Marker), Secrets Manager secrets, the CloudFormation history of deleted
 * stacks and their resources, stack resources, EC2 volumes / network interfaces / NAT gateways, and the
 * auto scaling actions restore takes (terminate, set desired capacity), recorded.
 */
import {
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { ListStackResourcesCommand, ListStacksCommand, type StackResourceSummary, type StackSummary } from '@aws-sdk/client-cloudformation';
import {
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  type NatGateway,
  type NetworkInterface,
  type Volume,
} from '@aws-sdk/client-ec2';
import { DescribeFileSystemsCommand, EFSClient, type FileSystemDescription } from '@aws-sdk/client-efs';
import { DescribeSecretCommand, RestoreSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SECRET_PURPOSES, secretName } from '../../src/contract';
import { REGION, awsError, type FakeAws } from './fake-aws';

export interface FakeSecret {
  arn: string;
  deletedDate?: Date;
}

/**
 * A DescribeSecret answer as the API gives it for a secret CloudFormation created (fields of the
 * DescribeSecret API reference; DeletedDate only while the secret is scheduled for deletion).
 */
export function describeSecretOf(name: string, secret: FakeSecret): Record<string, unknown> {
  const deployment = name.split('/')[1];
  return {
    ARN: secret.arn,
    Name: name,
    Description: `GeuseMaker ${deployment}: ${name.split('/')[2]} (generated; retained with the data)`,
    LastChangedDate: new Date('2024-11-02T10:00:05Z'),
    LastAccessedDate: new Date('2025-01-12T00:00:00Z'),
    ...(secret.deletedDate ? { DeletedDate: secret.deletedDate } : {}),
    Tags: [
      { Key: 'geuse:deployment', Value: deployment },
      { Key: 'geuse:tier', Value: 'data' },
      { Key: 'aws:cloudformation:stack-name', Value: `GeuseData-${deployment}` },
      { Key: 'aws:cloudformation:logical-id', Value: 'SecretsPostgresPassword0A1B2C3D' },
    ],
    VersionIdsToStages: { '6f1b2c3d-0000-4000-8000-000000000001': ['AWSCURRENT'] },
    CreatedDate: new Date('2024-11-02T10:00:05Z'),
  };
}

export function fileSystemOf(id: string, options: { deployment?: string; sizeBytes?: number; created?: string; mountTargets?: number; state?: string; ia?: number; throughput?: string } = {}): FileSystemDescription {
  const size = options.sizeBytes ?? 3 * 1024 ** 3;
  return {
    OwnerId: '123456789012',
    CreationToken: `token-${id}`,
    FileSystemId: id,
    FileSystemArn: `arn:aws:elasticfilesystem:${REGION}:123456789012:file-system/${id}`,
    CreationTime: new Date(options.created ?? '2024-11-02T10:00:00Z'),
    LifeCycleState: (options.state ?? 'available') as never,
    Name: options.deployment ? `GeuseData-${options.deployment}/FileSystem` : undefined,
    NumberOfMountTargets: options.mountTargets ?? 0,
    SizeInBytes: { Value: size, ValueInStandard: size - (options.ia ?? 0), ValueInIA: options.ia ?? 0, ValueInArchive: 0, Timestamp: new Date('2025-01-15T11:00:00Z') },
    PerformanceMode: 'generalPurpose',
    Encrypted: true,
    ThroughputMode: (options.throughput ?? 'elastic') as never,
    Tags: options.deployment
      ? [
          { Key: 'geuse:deployment', Value: options.deployment },
          { Key: 'geuse:tier', Value: 'data' },
          { Key: 'Name', Value: `GeuseData-${options.deployment}/FileSystem` },
        ]
      : [],
  };
}

export class FakeAwsData {
  readonly fileSystems: FileSystemDescription[] = [];
  readonly secrets = new Map<string, FakeSecret>();
  /** ListStacks(DELETE_COMPLETE) history. */
  readonly deletedStacks: StackSummary[] = [];
  /** ListStackResources by stack name or stack id. */
  readonly stackResources = new Map<string, StackResourceSummary[]>();
  readonly volumes: Volume[] = [];
  readonly networkInterfaces: NetworkInterface[] = [];
  readonly natGateways: NatGateway[] = [];
  readonly terminated: { instanceId: string; decrement: boolean }[] = [];
  readonly desiredCapacity: { group: string; capacity: number }[] = [];
  readonly restoredSecrets: string[] = [];
  fileSystemPageSize = 100;
  /** Called after TerminateInstanceInAutoScalingGroup (e.g. to have the group launch a replacement). */
  onTerminate?: (instanceId: string) => void;
  onSetDesired?: (group: string, capacity: number) => void;

  readonly efs = mockClient(EFSClient);
  readonly secretsManager = mockClient(SecretsManagerClient);

  constructor(readonly aws: FakeAws) {
    this.install();
  }

  restore(): void {
    this.efs.restore();
    this.secretsManager.restore();
  }

  /** The six secrets of a deployment, present. */
  addSecrets(deployment: string, except: string[] = []): void {
    for (const { purpose } of SECRET_PURPOSES) {
      if (except.includes(purpose)) continue;
      const name = secretName(deployment, purpose);
      this.secrets.set(name, { arn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${name}-AbCdEf` });
    }
  }

  /** A deleted stack in the CloudFormation history, with its resources. */
  addDeletedStack(stackName: string, deletedAt: string, resources: StackResourceSummary[] = []): string {
    const stackId = `arn:aws:cloudformation:${REGION}:123456789012:stack/${stackName}/${(this.deletedStacks.length + 1).toString().padStart(4, '0')}-dead`;
    this.deletedStacks.push({
      StackName: stackName,
      StackId: stackId,
      StackStatus: 'DELETE_COMPLETE',
      CreationTime: new Date('2024-11-02T09:55:00Z'),
      DeletionTime: new Date(deletedAt),
    });
    this.stackResources.set(stackId, resources);
    return stackId;
  }

  private install(): void {
    const { aws } = this;
    aws.cfn.on(ListStacksCommand).callsFake((input) => {
      const filter: string[] = input.StackStatusFilter ?? [];
      const live = aws.stacks.map((s) => ({ StackName: s.StackName, StackId: s.StackId, StackStatus: s.StackStatus, CreationTime: s.CreationTime }));
      const all = [...live, ...this.deletedStacks].filter((s) => filter.length === 0 || filter.includes(String(s.StackStatus)));
      const start = input.NextToken ? Number(input.NextToken) : 0;
      return { StackSummaries: all.slice(start, start + 2), NextToken: start + 2 < all.length ? String(start + 2) : undefined };
    });
    aws.cfn.on(ListStackResourcesCommand).callsFake((input) => {
      const resources = this.stackResources.get(input.StackName ?? '');
      if (!resources) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
      return { StackResourceSummaries: resources };
    });
    aws.asg.on(TerminateInstanceInAutoScalingGroupCommand).callsFake((input) => {
      this.terminated.push({ instanceId: input.InstanceId ?? '', decrement: Boolean(input.ShouldDecrementDesiredCapacity) });
      this.onTerminate?.(input.InstanceId ?? '');
      return { Activity: { ActivityId: 'act-1', AutoScalingGroupName: 'x', Cause: 'terminate', StartTime: new Date(), StatusCode: 'InProgress' } };
    });
    aws.asg.on(SetDesiredCapacityCommand).callsFake((input) => {
      this.desiredCapacity.push({ group: input.AutoScalingGroupName ?? '', capacity: input.DesiredCapacity ?? -1 });
      this.onSetDesired?.(input.AutoScalingGroupName ?? '', input.DesiredCapacity ?? -1);
      return {};
    });
    aws.ec2.on(DescribeVolumesCommand).callsFake((input) => {
      const ids: string[] = (input.Filters ?? []).find((f: { Name?: string }) => f.Name === 'attachment.instance-id')?.Values ?? [];
      return { Volumes: this.volumes.filter((v) => v.Attachments?.some((a) => ids.includes(a.InstanceId ?? ''))) };
    });
    aws.ec2.on(DescribeNetworkInterfacesCommand).callsFake((input) => {
      const groups: string[] = (input.Filters ?? []).find((f: { Name?: string }) => f.Name === 'group-id')?.Values ?? [];
      return { NetworkInterfaces: this.networkInterfaces.filter((n) => n.Groups?.some((g) => groups.includes(g.GroupId ?? ''))) };
    });
    aws.ec2.on(DescribeNatGatewaysCommand).callsFake((input) => {
      const vpc: string[] = (input.Filter ?? []).find((f: { Name?: string }) => f.Name === 'vpc-id')?.Values ?? [];
      return { NatGateways: this.natGateways.filter((n) => vpc.includes(n.VpcId ?? '')) };
    });
    this.efs.on(DescribeFileSystemsCommand).callsFake((input) => {
      if (input.FileSystemId) {
        const found = this.fileSystems.find((f) => f.FileSystemId === input.FileSystemId);
        if (!found) throw awsError('FileSystemNotFound', `File system '${input.FileSystemId}' does not exist.`);
        return { FileSystems: [found] };
      }
      const start = input.Marker ? Number(input.Marker) : 0;
      const page = this.fileSystems.slice(start, start + this.fileSystemPageSize);
      return { FileSystems: page, NextMarker: start + this.fileSystemPageSize < this.fileSystems.length ? String(start + this.fileSystemPageSize) : undefined };
    });
    this.secretsManager.on(DescribeSecretCommand).callsFake((input) => {
      const secret = this.secrets.get(input.SecretId ?? '');
      if (!secret) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return describeSecretOf(input.SecretId ?? '', secret);
    });
    this.secretsManager.on(RestoreSecretCommand).callsFake((input) => {
      const secret = this.secrets.get(input.SecretId ?? '');
      if (!secret) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      secret.deletedDate = undefined;
      this.restoredSecrets.push(input.SecretId ?? '');
      return { ARN: secret.arn, Name: input.SecretId };
    });
  }
}

/** Probe output of a host whose services all answer (the health script's line format). */
export function healthyProbeLines(token: string, down: string[] = []): string {
  const marker = `@@gm-ops:${token}`;
  const http: [string, number][] = [['n8n', 0.012], ['ollama', 0.004], ['qdrant', 0.003], ['crawl4ai', 0.02]];
  const lines = http.map(([service, time]) =>
    down.includes(service)
      ? `${marker} probe\t${service}\thttp\t7\t000 0.000\tcurl: (7) Failed to connect`
      : `${marker} probe\t${service}\thttp\t0\t200 ${time}\t`,
  );
  lines.push(down.includes('postgres') ? `${marker} probe\tpostgres\tpg_isready\t2\t0 3ms\tno response` : `${marker} probe\tpostgres\tpg_isready\t0\t0 9ms\t`);
  return lines.join('\n');
}
