/**
 * A small fake AWS account behind aws-sdk-client-mock: stacks (paginated DescribeStacks), stack
 * events, auto scaling groups, EC2 instances, SSM agents and Run Command (the script of each
 * SendCommand is handed to a per-host handler, the output is cut at 24,000 characters as SSM does).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup,
  type Instance as AsgInstance,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client, type Instance as Ec2Instance, type SecurityGroup } from '@aws-sdk/client-ec2';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SSMClient,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { EFSClient } from '@aws-sdk/client-efs';
import { PricingClient } from '@aws-sdk/client-pricing';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsClients } from '../../src/aws/clients';
import { OUTPUT_KEYS, TAG_KEYS, computeStackName, dataStackName, type Tier } from '../../src/contract';

export const REGION = 'eu-west-1';

export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

export interface HostRun {
  readonly stdout: string;
  readonly status?: 'Success' | 'Failed';
  readonly exitCode?: number;
  readonly stderr?: string;
}
export type HostHandler = (script: string, instanceId: string) => string | HostRun | Promise<string | HostRun>;

interface Invocation {
  readonly commandId: string;
  readonly instanceId: string;
  readonly script: string;
  polls: number;
  result?: HostRun;
}

export class FakeAws {
  readonly stacks: Stack[] = [];
  readonly events = new Map<string, StackEvent[]>();
  readonly groups = new Map<string, AutoScalingGroup>();
  readonly instances = new Map<string, Ec2Instance>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  /** SSM PingStatus per instance; absent = not registered. */
  readonly agents = new Map<string, string>();
  readonly hosts = new Map<string, HostHandler>();
  readonly scripts: { instanceIds: string[]; script: string }[] = [];
  /** DescribeStacks page size (the real API returns up to 100). */
  stacksPageSize = 100;
  /** GetCommandInvocation answers InvocationDoesNotExist this many times first, then InProgress once. */
  invocationNotYet = 1;
  /** Errors to throw once, per command name, before answering normally. */
  readonly failNext = new Map<string, Error[]>();

  readonly cfn = mockClient(CloudFormationClient);
  readonly asg = mockClient(AutoScalingClient);
  readonly ec2 = mockClient(EC2Client);
  readonly ssm = mockClient(SSMClient);
  private readonly invocations = new Map<string, Invocation>();
  private commandCount = 0;

  constructor() {
    this.install();
  }

  restore(): void {
    this.cfn.restore();
    this.asg.restore();
    this.ec2.restore();
    this.ssm.restore();
  }

  clients(region = REGION): AwsClients {
    const config = { region, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } };
    const clients = {
      cloudFormation: new CloudFormationClient(config),
      ec2: new EC2Client(config),
      autoScaling: new AutoScalingClient(config),
      ssm: new SSMClient(config),
      // Mocked by the tests that use them (cost, restore): aws-sdk-client-mock on the client class.
      pricing: new PricingClient({ ...config, region: 'us-east-1' }),
      efs: new EFSClient(config),
      secretsManager: new SecretsManagerClient(config),
      cloudWatch: new CloudWatchClient(config),
      region: async () => region,
    };
    return clients;
  }

  private failure(command: string): Error | undefined {
    return this.failNext.get(command)?.shift();
  }

  private install(): void {
    this.cfn.on(DescribeStacksCommand).callsFake((input) => {
      const failure = this.failure('DescribeStacks');
      if (failure) throw failure;
      if (input.StackName) {
        const stack = this.stacks.find((s) => s.StackName === input.StackName);
        if (!stack) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
        return { Stacks: [stack] };
      }
      const start = input.NextToken ? Number(input.NextToken.replace('page-', '')) : 0;
      const page = this.stacks.slice(start, start + this.stacksPageSize);
      const next = start + this.stacksPageSize;
      return { Stacks: page, NextToken: next < this.stacks.length ? `page-${next}` : undefined };
    });
    this.cfn.on(DescribeStackEventsCommand).callsFake((input) => ({ StackEvents: this.events.get(input.StackName ?? '') ?? [] }));
    this.asg.on(DescribeAutoScalingGroupsCommand).callsFake((input) => {
      const failure = this.failure('DescribeAutoScalingGroups');
      if (failure) throw failure;
      const names: string[] = input.AutoScalingGroupNames ?? [];
      return { AutoScalingGroups: names.map((n) => this.groups.get(n)).filter(Boolean) };
    });
    this.ec2.on(DescribeInstancesCommand).callsFake((input) => {
      const filters: { Name?: string; Values?: string[] }[] = input.Filters ?? [];
      const ids: string[] = filters.find((f) => f.Name === 'instance-id')?.Values ?? input.InstanceIds ?? [];
      return { Reservations: [{ Instances: ids.map((id) => this.instances.get(id)).filter(Boolean) }] };
    });
    this.ec2.on(DescribeSecurityGroupsCommand).callsFake((input) => {
      const filters: { Name?: string; Values?: string[] }[] = input.Filters ?? [];
      const ids: string[] = filters.find((f) => f.Name === 'group-id')?.Values ?? [];
      return { SecurityGroups: ids.map((id) => this.securityGroups.get(id)).filter(Boolean) };
    });
    this.ssm.on(DescribeInstanceInformationCommand).callsFake((input) => {
      const filters: { Key?: string; Values?: string[] }[] = input.Filters ?? [];
      const ids: string[] = filters.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
      return {
        InstanceInformationList: ids.filter((id) => this.agents.has(id)).map((id) => ({ InstanceId: id, PingStatus: this.agents.get(id) })),
      };
    });
    this.ssm.on(SendCommandCommand).callsFake((input) => {
      const failure = this.failure('SendCommand');
      if (failure) throw failure;
      const ids: string[] = input.InstanceIds ?? [];
      if (ids.some((id) => this.agents.get(id) !== 'Online')) throw awsError('InvalidInstanceId', 'Instances not in a valid state for account');
      if (input.DocumentName !== 'AWS-RunShellScript') throw awsError('InvalidDocument');
      const script = (input.Parameters?.commands ?? []).join('\n');
      this.scripts.push({ instanceIds: ids, script });
      const commandId = `cmd-${(this.commandCount += 1)}`;
      for (const instanceId of ids) this.invocations.set(`${commandId}/${instanceId}`, { commandId, instanceId, script, polls: 0 });
      return { Command: { CommandId: commandId } };
    });
    this.ssm.on(GetCommandInvocationCommand).callsFake(async (input) => {
      const failure = this.failure('GetCommandInvocation');
      if (failure) throw failure;
      const invocation = this.invocations.get(`${input.CommandId}/${input.InstanceId}`);
      if (!invocation) throw awsError('InvocationDoesNotExist');
      invocation.polls += 1;
      if (invocation.polls <= this.invocationNotYet) throw awsError('InvocationDoesNotExist');
      if (invocation.polls === this.invocationNotYet + 1) return { Status: 'InProgress' };
      if (!invocation.result) {
        const handler = this.hosts.get(invocation.instanceId);
        if (!handler) throw new Error(`no fake host handler for ${invocation.instanceId}`);
        const raw = await handler(invocation.script, invocation.instanceId);
        invocation.result = typeof raw === 'string' ? { stdout: raw } : raw;
      }
      const { stdout, status = 'Success', exitCode = status === 'Success' ? 0 : 1, stderr = '' } = invocation.result;
      return { Status: status, ResponseCode: exitCode, StandardOutputContent: stdout.slice(0, 24_000), StandardErrorContent: stderr.slice(0, 8_000) };
    });
  }

  // ----- builders -----

  addStack(stack: Stack): void {
    this.stacks.push(stack);
  }

  /** A compute stack with its auto scaling group and (optionally) a host. */
  addDeployment(options: {
    name: string;
    tier?: Tier;
    status?: string;
    dataStatus?: string | null;
    outputs?: Record<string, string>;
    host?: {
      id: string;
      state?: string;
      spot?: boolean;
      az?: string;
      type?: string;
      publicIp?: string;
      agent?: string;
      /** CIDRs the host security group lets in on n8n's port (the dev tier's allowedCidrs). */
      openCidrs?: string[];
    } | null;
  }): { stackName: string; group: string } {
    const tier = options.tier ?? 'dev';
    const stackName = computeStackName(tier, options.name);
    const group = `${stackName}-Host-ASG`;
    // What the CDK stacks output (lib/tiers): dev reaches n8n through SSM port forwarding.
    const tierOutputs: Record<string, string> =
      tier === 'dev'
        ? {
            [OUTPUT_KEYS.n8nUrl]: 'http://localhost:5678',
            [OUTPUT_KEYS.portForwardCommand]: `aws ssm start-session --target $(...) --document-name AWS-StartPortForwardingSession`,
          }
        : {};
    const outputs: Record<string, string> = {
      [OUTPUT_KEYS.autoScalingGroupName]: group,
      [OUTPUT_KEYS.tier]: tier,
      ...tierOutputs,
      ...options.outputs,
    };
    this.addStack(stackOf(stackName, options.status ?? 'CREATE_COMPLETE', outputs, { [TAG_KEYS.deployment]: options.name, [TAG_KEYS.tier]: tier }));
    if (options.dataStatus !== null) {
      this.addStack(
        stackOf(dataStackName(options.name), options.dataStatus ?? 'CREATE_COMPLETE', { [OUTPUT_KEYS.fileSystemId]: `fs-${options.name}` }, {
          [TAG_KEYS.deployment]: options.name,
          [TAG_KEYS.tier]: 'data',
        }),
      );
    }
    const host = options.host;
    const instances: AsgInstance[] = [];
    if (host) {
      instances.push({
        InstanceId: host.id,
        LifecycleState: 'InService',
        HealthStatus: 'Healthy',
        AvailabilityZone: host.az ?? 'eu-west-1a',
        InstanceType: host.type ?? 't3.xlarge',
        LaunchTemplate: undefined,
        ProtectedFromScaleIn: false,
      });
      this.instances.set(host.id, {
        InstanceId: host.id,
        State: { Name: (host.state ?? 'running') as never },
        InstanceType: (host.type ?? 't3.xlarge') as never,
        InstanceLifecycle: host.spot === false ? undefined : ('spot' as never),
        Placement: { AvailabilityZone: host.az ?? 'eu-west-1a' },
        PublicIpAddress: host.publicIp,
        PrivateIpAddress: '10.0.1.10',
        LaunchTime: new Date('2025-01-15T09:00:00Z'),
        SecurityGroups: [{ GroupId: `sg-${options.name}`, GroupName: 'host' }],
      });
      this.securityGroups.set(`sg-${options.name}`, {
        GroupId: `sg-${options.name}`,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
          ...(host.openCidrs?.length ? [{ IpProtocol: 'tcp', FromPort: 5678, ToPort: 5678, IpRanges: host.openCidrs.map((CidrIp) => ({ CidrIp })) }] : []),
        ],
      });
      if (host.agent !== 'NotRegistered') this.agents.set(host.id, host.agent ?? 'Online');
    }
    this.groups.set(group, {
      AutoScalingGroupName: group,
      DesiredCapacity: host ? 1 : 0,
      MinSize: 0,
      MaxSize: 1,
      Instances: instances,
      DefaultCooldown: 300,
      HealthCheckType: 'EC2',
      CreatedTime: new Date(),
      AvailabilityZones: ['eu-west-1a'],
    });
    return { stackName, group };
  }
}

export function stackOf(name: string, status: string, outputs: Record<string, string> = {}, tags: Record<string, string> = {}): Stack {
  return {
    StackName: name,
    StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/${name}/0000`,
    StackStatus: status as never,
    CreationTime: new Date('2025-01-14T10:00:00Z'),
    Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

export function eventOf(stackName: string, logicalId: string, type: string, status: string, minute: number, reason?: string): StackEvent {
  return {
    StackName: stackName,
    StackId: `arn:aws:cloudformation:${REGION}:123456789012:stack/${stackName}/0000`,
    EventId: `${logicalId}-${status}-${minute}`,
    LogicalResourceId: logicalId,
    ResourceType: type,
    ResourceStatus: status as never,
    ResourceStatusReason: reason,
    Timestamp: new Date(Date.parse('2025-01-15T10:00:00Z') + minute * 60_000),
  };
}
