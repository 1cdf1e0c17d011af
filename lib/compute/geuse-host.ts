import { ArnFormat, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SECRET_PURPOSES } from '../../ops/src/contract';
import { nagEnv } from '../checks/nag-env';
import { MARKETS } from '../config/schema';
import { DeploymentSecrets } from '../data/deployment-secrets';
import { addBootstrapCommands } from './bootstrap-user-data';
import { runtimeAsset } from './runtime-asset';

export interface GeuseHostProps {
  /**
   * Name of the auto scaling group: one per deployment whatever the tier, so two compute stacks can never run
   * at once (the second fails to create).
   */
  readonly autoScalingGroupName: string;
  /** VPC of the data stack. */
  readonly vpc: ec2.IVpc;
  /** Subnets the host may launch in (public: it reaches the internet without a NAT gateway). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The host security group, owned by the data stack. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The deployment's retained file system. */
  readonly fileSystem: efs.IFileSystem;
  /** The deployment's secrets; the host may read these and no other. */
  readonly secrets: DeploymentSecrets;
  /** AMI, resolved at launch so a new release never replaces a running host. */
  readonly machineImage: ec2.IMachineImage;
  /** Instance types offered to the auto scaling group, in order of preference for on-demand. */
  readonly instanceTypes: ec2.InstanceType[];
  /**
   * Purchase option.
   * @default 'spot'
   */
  readonly market?: (typeof MARKETS)[number];
  /** How long CloudFormation waits for the bootstrap's success signal. */
  readonly bootstrapTimeout: Duration;
  /**
   * Encrypted gp3 root volume size.
   * @default 50
   */
  readonly rootVolumeGiB?: number;
  /** Non-secret runtime settings for the host (`GM_*` names). */
  readonly settings: Readonly<Record<string, string>>;
  /**
   * Always install Docker from the OS packages; false installs it only where the AMI lacks it (the GPU AMI).
   * @default true
   */
  readonly installDocker?: boolean;
  /**
   * Keep a new host out of its load balancer until the bootstrap has finished (n8n's owner exists and every
   * service is healthy): a launch lifecycle hook that the bootstrap completes as its last step.
   * @default false
   */
  readonly holdUntilBootstrapped?: boolean;
  /**
   * Health checks of the auto scaling group.
   * @default - EC2 status checks
   */
  readonly healthChecks?: autoscaling.HealthChecks;
}

/**
 * One GeuseMaker host: a launch template and an auto scaling group of exactly one, which replaces an
 * interrupted or failed host by itself. Creation and updates wait for the bootstrap's signal, and an
 * update never runs two hosts against the same data (`minInstancesInService: 0`).
 */
export class GeuseHost extends Construct {
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly role: iam.Role;
  public readonly launchTemplate: ec2.LaunchTemplate;
  private readonly settings: Record<string, string>;
  private readonly autoScalingGroupName: string;
  private ownGroupAcknowledged = false;

  constructor(scope: Construct, id: string, props: GeuseHostProps) {
    super(scope, id);
    if (props.instanceTypes.length === 0) {
      throw new Error('GeuseHost: instanceTypes must name at least one instance type');
    }
    if (props.bootstrapTimeout.toMinutes() < 1) {
      throw new Error(`GeuseHost: bootstrapTimeout must be at least 1 minute, got ${props.bootstrapTimeout.toHumanString()}`);
    }
    const market = props.market ?? 'spot';
    this.settings = { ...props.settings, GM_AUTO_SCALING_GROUP: props.autoScalingGroupName };
    this.autoScalingGroupName = props.autoScalingGroupName;
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'GeuseMaker host: SSM, its own signal, its file system, its secrets',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'Session Manager is the only way onto the host (no SSH); AWS maintains this policy as the SSM agent\'s needs change.',
    });
    props.fileSystem.grant(this.role,
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
      // root on the host sets each service directory's owner; without it EFS squashes root.
      'elasticfilesystem:ClientRootAccess');
    props.secrets.grantRead(this.role);
    const runtime = runtimeAsset(this, 'Runtime');
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadRuntimeAsset',
      actions: ['s3:GetObject'],
      resources: [Stack.of(this).formatArn({ service: 's3', region: '', account: '', resource: runtime.s3BucketName, resourceName: runtime.s3ObjectKey })],
    }));

    const userData = ec2.UserData.forLinux();
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: props.machineImage,
      userData,
      role: this.role,
      securityGroup: props.securityGroup,
      associatePublicIpAddress: true,
      requireImdsv2: true,
      // Hop limit 1: containers cannot reach the metadata service, so no workflow can take the host's role.
      httpPutResponseHopLimit: 1,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB ?? 50, {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          deleteOnTermination: true,
        }),
      }],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Resource', {
      autoScalingGroupName: props.autoScalingGroupName,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      minCapacity: 1,
      maxCapacity: 1,
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        launchTemplateOverrides: props.instanceTypes.map((instanceType) => ({ instanceType })),
        instancesDistribution: market === 'spot'
          ? {
            onDemandBaseCapacity: 0,
            onDemandPercentageAboveBaseCapacity: 0,
            spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
          }
          : {
            onDemandBaseCapacity: 1,
            onDemandPercentageAboveBaseCapacity: 100,
            onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
          },
      },
      // No capacity rebalancing: it starts the replacement before the old host stops, and the replacement
      // would only wait on the single-writer fence. The spot watcher stops cleanly within the two-minute notice.
      capacityRebalance: false,
      signals: autoscaling.Signals.waitForCount(1, { timeout: props.bootstrapTimeout }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: 0,
        waitOnResourceSignals: true,
        pauseTime: props.bootstrapTimeout,
      }),
      healthChecks: props.healthChecks,
    });
    const cfnGroup = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    const lifecycleSettings = props.holdUntilBootstrapped ? this.holdUntilBootstrapped(cfnGroup, props.bootstrapTimeout) : {};
    Validations.of(cfnGroup).acknowledge({
      id: 'AwsSolutions::AwsSolutions-EC26',
      reason: 'The root volume is encrypted in the launch template (gp3, encrypted: true, asserted by test/compute); the rule cannot read a launch template reference.',
    }, {
      id: 'AwsSolutions::AwsSolutions-AS3',
      reason: 'A group of exactly one host: replacements and failures show in CloudFormation events and gm-ops status; scaling notifications would have no subscriber.',
    });
    const signalResource = stack.getLogicalId(cfnGroup);

    // signals: the auto scaling group grants the role cloudformation:SignalResource on this stack only.
    // A bootstrap that fails outside a CloudFormation operation marks its host unhealthy to get it replaced.
    this.allowOnOwnGroup('ReplaceOwnFailedHost', 'autoscaling:SetInstanceHealth');

    addBootstrapCommands(userData, {
      runtime,
      signal: { stackName: stack.stackName, resource: signalResource, region: Aws.REGION },
      settings: () => ({
        ...this.settings,
        GM_FILE_SYSTEM_ID: props.fileSystem.fileSystemId,
        GM_SECRETS: SECRET_PURPOSES.map(({ purpose, envVar }) => `${envVar}=${props.secrets.secrets[purpose].secretName}`).join(','),
        GM_INSTALL_DOCKER: String(props.installDocker ?? true),
        ...lifecycleSettings,
      }),
    });
  }

  /** The URL n8n is reached at from outside (webhook URLs); known only once the entry point exists. */
  public setPublicUrl(url: string): void {
    this.settings.GM_N8N_PUBLIC_URL = url;
  }

  /**
   * The hook is declared on the group itself, not as a separate resource, so it already holds the very first
   * host. Without the bootstrap's CONTINUE the host is abandoned when the heartbeat runs out, and replaced.
   */
  private holdUntilBootstrapped(group: autoscaling.CfnAutoScalingGroup, timeout: Duration): Record<string, string> {
    const hookName = 'geusemaker-bootstrap';
    group.lifecycleHookSpecificationList = [{
      lifecycleHookName: hookName,
      lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      heartbeatTimeout: Math.min(timeout.toSeconds(), 7200),
      defaultResult: 'ABANDON',
    }];
    this.allowOnOwnGroup('ReleaseOwnHostToLoadBalancer', 'autoscaling:CompleteLifecycleAction');
    return { GM_LIFECYCLE_HOOK: hookName };
  }

  /** Allows `action` on this host's own auto scaling group (its ARN carries a generated id, hence the `*`). */
  private allowOnOwnGroup(sid: string, action: string): void {
    const stack = Stack.of(this);
    const env = nagEnv(stack);
    const group = `*:autoScalingGroupName/${this.autoScalingGroupName}`;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid,
      actions: [action],
      resources: [stack.formatArn({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: group, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }));
    if (this.ownGroupAcknowledged) return;
    this.ownGroupAcknowledged = true;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:${env.partition}:autoscaling:${env.region}:${env.account}:autoScalingGroup:${group}]`,
      reason: 'The host\'s own auto scaling group, by its fixed name; the wildcard stands for the group id AWS generates.',
    });
  }
}
