import { CfnOutput, Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { OUTPUT_KEYS, TAG_KEYS, Tier, autoScalingGroupName } from '../../ops/src/contract';
import { DeploymentConfig } from '../config/load-config';
import { Architecture, backupOptionsSchema } from '../config/schema';
import { GeuseDataStack } from '../data/data-stack';
import { GeuseHost, GeuseHostProps } from '../compute/geuse-host';
import { N8nLoadBalancer } from '../compute/n8n-load-balancer';
import { DataStackReferences } from './data-references';

export interface GeuseComputeStackProps extends StackProps {
  /** The validated deployment. */
  readonly config: DeploymentConfig;
  /** The deployment's data stack; this stack depends on it and never changes it. */
  readonly data: GeuseDataStack;
}

/** What a tier decides about its host. */
export type TierHostOptions = Pick<GeuseHostProps, 'machineImage' | 'instanceTypes' | 'installDocker' | 'healthChecks' | 'holdUntilBootstrapped'> & {
  /** Extra non-secret settings for the host. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * The host's auto scaling group name.
   * @default - autoScalingGroupName(deployment), the name every single-host tier shares
   */
  readonly autoScalingGroupName?: string;
};

/**
 * Resource types whose CloudFormation schema has no `Tags` property, although aws-cdk-lib renders tags for them
 * (cfn-lint E3002). CloudFormation Template Reference, AWS::ElasticLoadBalancingV2::Listener and ::ListenerRule:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticloadbalancingv2-listener.html
 */
export const UNTAGGABLE_RESOURCE_TYPES = ['AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerRule'] as const;

/** Amazon Linux 2023, resolved by EC2 at each launch: a new AMI release never replaces a running host. */
export const AL2023_AMI_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
/** Amazon Linux 2023 for arm64 (Graviton), resolved the same way (the name as aws-cdk-lib's AmazonLinux2023 documents it). */
export const AL2023_ARM64_AMI_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

/** The AL2023 AMI of a CPU host of `architecture`, resolved by EC2 at each launch. */
export function al2023MachineImage(architecture: Architecture): ec2.IMachineImage {
  const parameter = architecture === 'arm64' ? AL2023_ARM64_AMI_PARAMETER : AL2023_AMI_PARAMETER;
  return ec2.MachineImage.resolveSsmParameterAtLaunch(parameter, { os: ec2.OperatingSystemType.LINUX });
}

/**
 * Base of the disposable compute stacks (`GeuseDev-`, `GeuseAutomation-`, `GeuseGpu-<name>`): the host
 * over the data stack's VPC, file system and secrets, tagged and with the outputs gm-ops reads.
 */
export abstract class GeuseComputeStack extends Stack {
  public readonly config: DeploymentConfig;
  /** The deployment's data, read through the data stack's outputs. */
  public readonly data: DataStackReferences;
  private hostConstruct?: GeuseHost;

  protected constructor(scope: Construct, id: string, tier: Tier, props: GeuseComputeStackProps) {
    super(scope, id, props);
    if (props.config.tier !== tier) {
      throw new Error(`${id}: the deployment's tier is ${props.config.tier}, not ${tier}`);
    }
    this.config = props.config;
    this.data = new DataStackReferences(this, 'Data', props.data);
    this.addStackDependency(props.data, 'the host mounts the data stack\'s file system and reads its secrets');
    Tags.of(this).add(TAG_KEYS.deployment, props.config.name, { excludeResourceTypes: [...UNTAGGABLE_RESOURCE_TYPES] });
    Tags.of(this).add(TAG_KEYS.tier, tier, { excludeResourceTypes: [...UNTAGGABLE_RESOURCE_TYPES] });
    new CfnOutput(this, OUTPUT_KEYS.tier, { value: tier });
  }

  public get host(): GeuseHost {
    if (!this.hostConstruct) throw new Error(`${this.stackName}: the host has not been created yet`);
    return this.hostConstruct;
  }

  /** Creates the host; each tier calls this once with its own choices. */
  protected createHost(options: TierHostOptions): GeuseHost {
    const { config, data } = this;
    const backups = config.backups ?? backupOptionsSchema.parse({});
    this.hostConstruct = new GeuseHost(this, 'Host', {
      autoScalingGroupName: options.autoScalingGroupName ?? autoScalingGroupName(config.name),
      vpc: data.vpc,
      vpcSubnets: data.hostSubnets,
      securityGroup: data.hostSecurityGroup,
      fileSystem: data.fileSystem,
      secrets: data.secrets,
      machineImage: options.machineImage,
      instanceTypes: options.instanceTypes,
      installDocker: options.installDocker,
      healthChecks: options.healthChecks,
      holdUntilBootstrapped: options.holdUntilBootstrapped,
      market: config.market,
      bootstrapTimeout: Duration.minutes(config.bootstrapTimeoutMinutes),
      rootVolumeGiB: config.rootVolumeGiB,
      schedule: config.schedule,
      settings: {
        GM_DEPLOYMENT: config.name,
        GM_TIER: config.tier,
        GM_MODELS: config.models.join(' '),
        GM_QDRANT_SNAPSHOT_MINUTES: String(config.qdrantSnapshotMinutes),
        GM_BACKUP_SCHEDULE: backups.schedule,
        GM_BACKUP_KEEP: String(backups.keep),
        // The watchdog never acts within this long of a boot (docker/host/watchdog.sh).
        GM_BOOTSTRAP_TIMEOUT_MINUTES: String(config.bootstrapTimeoutMinutes),
        GM_N8N_BIND: '127.0.0.1',
        GM_N8N_TLS: 'off',
        GM_N8N_PUBLIC_URL: '',
        GM_N8N_OWNER_EMAIL: config.n8nOwnerEmail,
        ...options.settings,
      },
    });
    new CfnOutput(this, OUTPUT_KEYS.autoScalingGroupName, { value: this.hostConstruct.autoScalingGroup.autoScalingGroupName });
    // gm-ops restore never replaces a host younger than this (plus a margin): it may still be booting.
    new CfnOutput(this, OUTPUT_KEYS.bootstrapTimeoutMinutes, { value: String(config.bootstrapTimeoutMinutes) });
    return this.hostConstruct;
  }

  /** Allows `port` on the host from `peer` only; the rule lives in this stack, so the data stack never changes. */
  protected allowToHost(id: string, peer: { cidrIp?: string; sourceSecurityGroupId?: string }, port: number, description: string): ec2.CfnSecurityGroupIngress {
    return new ec2.CfnSecurityGroupIngress(this, id, {
      groupId: this.data.hostSecurityGroup.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: port,
      toPort: port,
      description,
      ...peer,
    });
  }

  /** n8n on the host takes 5678 from the load balancer only, and the load balancer sends nothing else anywhere. */
  protected connectEntryToHost(entry: N8nLoadBalancer): void {
    const hostSecurityGroupId = this.data.hostSecurityGroup.securityGroupId;
    entry.securityGroup.addEgressRule(ec2.Peer.securityGroupId(hostSecurityGroupId), ec2.Port.tcp(5678), 'n8n on the GeuseMaker host');
    this.allowToHost('N8nFromLoadBalancer', { sourceSecurityGroupId: entry.securityGroup.securityGroupId }, 5678, 'n8n from the load balancer only');
  }

  /** The command that forwards a local port to the host's n8n through SSM Session Manager. */
  protected portForwardCommand(localPort = 5678): string {
    const asg = this.host.autoScalingGroup.autoScalingGroupName;
    return `aws ssm start-session --region ${this.region} --document-name AWS-StartPortForwardingSession `
      + `--parameters portNumber=5678,localPortNumber=${localPort} --target $(aws autoscaling describe-auto-scaling-groups `
      + `--region ${this.region} --auto-scaling-group-names ${asg} --query "AutoScalingGroups[0].Instances[0].InstanceId" --output text)`;
  }
}
