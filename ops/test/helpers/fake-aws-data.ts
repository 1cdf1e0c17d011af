/**
 * The rest of a fake AWS account for cost and restore, on top of FakeAws: EFS file systems (paginated
 * DescribeFileSystems with Marker), Secrets Manager secrets, the CloudFormation history of deleted
 * stacks and their resources, stack resources, EC2 volumes / network interfaces / NAT gateways, and the
 * auto scaling actions restore, stop and start take (terminate, set desired capacity, update the group, suspend and
 * resume processes), recorded, with the group's scheduled actions and lifecycle hooks.
 */
import {
  DescribeLifecycleHooksCommand,
  DescribeScheduledActionsCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  type LifecycleHook,
  type ScheduledUpdateGroupAction,
  type UpdateAutoScalingGroupCommandInput,
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
  /** UpdateAutoScalingGroup inputs, as sent. */
  readonly groupUpdates: UpdateAutoScalingGroupCommandInput[] = [];
  /** SuspendProcesses / ResumeProcesses calls, in order. */
  readonly processCalls: { call: 'suspend' | 'resume'; group: string; processes: string[] }[] = [];
  /** DescribeScheduledActions by group name. */
  readonly scheduledActions = new Map<string, ScheduledUpdateGroupAction[]>();
  /** DescribeLifecycleHooks by group name. */
  readonly lifecycleHooks = new Map<string, LifecycleHook[]>();
  /** Called after UpdateAutoScalingGroup changed the group (e.g. to start the scale-in). */
  onUpdateGroup?: (group: string, input: UpdateAutoScalingGroupCommandInput) => void;
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

  /**
   * The secrets of a deployment, present: its stored ones (what its data stack keeps: the n8n encryption key and the
   * owner password), or with `legacy` all six, as a deployment made before the host derived the other four.
   */
  addSecrets(deployment: string, options: { readonly legacy?: boolean; readonly except?: readonly string[] } = {}): void {
    for (const { purpose, source } of SECRET_PURPOSES) {
      if (options.except?.includes(purpose) || (source === 'derived' && !options.legacy)) continue;
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
      const group = aws.groups.get(input.AutoScalingGroupName ?? '');
      // As Auto Scaling answers a desired capacity outside the group's bounds.
      if (group && (input.DesiredCapacity ?? 0) > (group.MaxSize ?? Infinity)) {
        throw awsError('ValidationError', `New SetDesiredCapacity value ${input.DesiredCapacity} is above max value ${group.MaxSize} for the AutoScalingGroup.`);
      }
      if (group && (input.DesiredCapacity ?? 0) < (group.MinSize ?? 0)) {
        throw awsError('ValidationError', `New SetDesiredCapacity value ${input.DesiredCapacity} is below min value ${group.MinSize} for the AutoScalingGroup.`);
      }
      this.desiredCapacity.push({ group: input.AutoScalingGroupName ?? '', capacity: input.DesiredCapacity ?? -1 });
      this.onSetDesired?.(input.AutoScalingGroupName ?? '', input.DesiredCapacity ?? -1);
      return {};
    });
    const groupOrFail = (name: string | undefined) => {
      const group = aws.groups.get(name ?? '');
      if (!group) throw awsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
      return group;
    };
    aws.asg.on(UpdateAutoScalingGroupCommand).callsFake((input) => {
      const failure = aws.failNext.get('UpdateAutoScalingGroup')?.shift();
      if (failure) throw failure;
      const group = groupOrFail(input.AutoScalingGroupName);
      const min = input.MinSize ?? group.MinSize ?? 0;
      const max = input.MaxSize ?? group.MaxSize ?? 0;
      const desired = input.DesiredCapacity ?? group.DesiredCapacity ?? 0;
      // The API's own check (UpdateAutoScalingGroup, ValidationError).
      if (desired < min || desired > max) throw awsError('ValidationError', `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`);
      this.groupUpdates.push(input);
      Object.assign(group, { MinSize: min, MaxSize: max, DesiredCapacity: desired });
      this.onUpdateGroup?.(input.AutoScalingGroupName ?? '', input);
      return {};
    });
    const processes = (call: 'suspend' | 'resume') => (input: { AutoScalingGroupName?: string; ScalingProcesses?: string[] }) => {
      const group = groupOrFail(input.AutoScalingGroupName);
      const names = input.ScalingProcesses ?? ['Launch', 'Terminate', 'AddToLoadBalancer', 'AlarmNotification', 'AZRebalance', 'HealthCheck', 'InstanceRefresh', 'ReplaceUnhealthy', 'ScheduledActions'];
      this.processCalls.push({ call, group: input.AutoScalingGroupName ?? '', processes: names });
      const kept = (group.SuspendedProcesses ?? []).filter((p) => !names.includes(p.ProcessName ?? ''));
      group.SuspendedProcesses =
        call === 'suspend' ? [...kept, ...names.map((ProcessName) => ({ ProcessName, SuspensionReason: 'User suspended at 2025-01-15T12:00:00Z' }))] : kept;
      return {};
    };
    aws.asg.on(SuspendProcessesCommand).callsFake(processes('suspend'));
    aws.asg.on(ResumeProcessesCommand).callsFake(processes('resume'));
    aws.asg.on(DescribeScheduledActionsCommand).callsFake((input) => {
      groupOrFail(input.AutoScalingGroupName);
      return { ScheduledUpdateGroupActions: this.scheduledActions.get(input.AutoScalingGroupName ?? '') ?? [] };
    });
    aws.asg.on(DescribeLifecycleHooksCommand).callsFake((input) => {
      groupOrFail(input.AutoScalingGroupName);
      const names: string[] | undefined = input.LifecycleHookNames;
      const hooks = this.lifecycleHooks.get(input.AutoScalingGroupName ?? '') ?? [];
      return { LifecycleHooks: hooks.filter((h) => !names || names.includes(h.LifecycleHookName ?? '')) };
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

/** The clean-stop hook of a compute stack's group, as DescribeLifecycleHooks reports it (lib/compute). */
export function cleanStopHookOf(group: string): LifecycleHook {
  return {
    LifecycleHookName: 'geusemaker-clean-stop',
    AutoScalingGroupName: group,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    HeartbeatTimeout: 600,
    GlobalTimeout: 60_000,
    DefaultResult: 'CONTINUE',
  };
}

/** A deployment's schedule as two scheduled actions (DescribeScheduledActions), 08:00-20:00 on weekdays. */
export function scheduleOf(group: string, timeZone = 'Europe/Paris'): ScheduledUpdateGroupAction[] {
  const action = (name: string, recurrence: string, desired: number, next: string): ScheduledUpdateGroupAction => ({
    AutoScalingGroupName: group,
    ScheduledActionName: name,
    ScheduledActionARN: `arn:aws:autoscaling:${REGION}:123456789012:scheduledUpdateGroupAction:0000-${name}:autoScalingGroupName/${group}:scheduledActionName/${name}`,
    Time: new Date(next),
    StartTime: new Date(next),
    Recurrence: recurrence,
    DesiredCapacity: desired,
    TimeZone: timeZone,
  });
  return [action('Start', '0 8 * * 1-5', 1, '2025-01-16T07:00:00Z'), action('Stop', '0 20 * * 1-5', 0, '2025-01-15T19:00:00Z')];
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
