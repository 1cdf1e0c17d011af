import { Annotations, ArnFormat, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DERIVED_SECRET_PURPOSES, STORED_SECRET_PURPOSES, secretName } from '../../ops/src/contract';
import { nagEnv } from '../checks/nag-env';
import { DEFAULT_CPU_ROOT_VOLUME_GIB } from '../config/load-config';
import { MARKETS, Schedule } from '../config/schema';
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
   * Encrypted gp3 root volume size, GiB.
   * @default DEFAULT_CPU_ROOT_VOLUME_GIB (30)
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
  /**
   * Start and stop the host on a weekly schedule: two scheduled actions on the group.
   * @default - no schedule: the host runs until `gm-ops stop`
   */
  readonly schedule?: Schedule;
}

/** The termination lifecycle hook the host completes after its clean stop (database flushed, vectors snapshotted, fence released). */
export { CLEAN_STOP_HOOK_NAME } from '../../ops/src/contract';
import { CLEAN_STOP_HOOK_NAME } from '../../ops/src/contract';
/** How long a terminating host may take for its clean stop before auto scaling continues without it. */
const CLEAN_STOP_HEARTBEAT_SECONDS = 600;
/** The launch lifecycle hook the bootstrap completes once the host may join its load balancer. */
const BOOTSTRAP_HOOK_NAME = 'geusemaker-bootstrap';

/**
 * One GeuseMaker host: a launch template and an auto scaling group of at most one, which replaces an interrupted or
 * failed host by itself. Creation and updates wait for the bootstrap's signal, and an update never runs two hosts
 * against the same data (`minInstancesInService: 0`). The group may be stopped (desired 0) by `gm-ops stop` or a
 * schedule; a later deploy keeps whatever size the group has, and a host going away gets time for a clean stop first.
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
    props.secrets.grantReadLegacy(this.role);
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
        volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeGiB ?? DEFAULT_CPU_ROOT_VOLUME_GIB, {
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
      // Minimum 0: gm-ops stop and the schedule take the host away with desired 0. Desired 1 is the size at creation
      // only: the update policy below keeps a deploy from resetting it (see keepSizesOnUpdate).
      minCapacity: 0,
      maxCapacity: 1,
      desiredCapacity: 1,
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
    this.keepSizesOnUpdate(cfnGroup);
    const lifecycleSettings = this.declareLifecycleHooks(cfnGroup, props.holdUntilBootstrapped ?? false, props.bootstrapTimeout);
    if (props.schedule) this.addSchedule(props.schedule);
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
        GM_SECRETS: STORED_SECRET_PURPOSES.map(({ purpose, envVar }) => `${envVar}=${props.secrets.secrets[purpose].secretName}`).join(','),
        // The names a deployment made before the stored/derived layout kept these values under; the host reads such a
        // secret where it exists and otherwise derives the value from the encryption key.
        GM_DERIVED_SECRETS: DERIVED_SECRET_PURPOSES.map(({ purpose, envVar }) => `${envVar}=${secretName(props.secrets.deployment, purpose)}`).join(','),
        GM_INSTALL_DOCKER: String(props.installDocker ?? true),
        ...lifecycleSettings,
      }),
    });
  }

  /** The URL n8n is reached at from outside (webhook URLs); known only once the entry point exists. */
  public setPublicUrl(url: string): void {
    this.settings.GM_N8N_PUBLIC_URL = url;
  }

  /** A runtime setting known only after the host exists (e.g. a load balancer created later in the stack). */
  public addSetting(name: `GM_${string}`, value: string): void {
    if (name in this.settings) throw new Error(`GeuseHost: setting ${name} is already set`);
    this.settings[name] = value;
  }

  /**
   * A later deploy keeps the sizes `gm-ops stop`, `gm-ops start` or a scheduled action set: with
   * IgnoreUnmodifiedGroupSizeProperties, CloudFormation changes MinSize, MaxSize and DesiredCapacity only when the
   * template changes them (CloudFormation User Guide, UpdatePolicy attribute, AutoScalingScheduledAction policy).
   * A rolling update while the group is at 0 has no instance to replace, so it launches none and waits for no signal.
   */
  private keepSizesOnUpdate(group: autoscaling.CfnAutoScalingGroup): void {
    group.cfnOptions.updatePolicy = {
      ...group.cfnOptions.updatePolicy,
      autoScalingScheduledAction: { ignoreUnmodifiedGroupSizeProperties: true },
    };
    Annotations.of(this.autoScalingGroup).acknowledgeWarning('@aws-cdk/aws-autoscaling:desiredCapacitySet',
      'DesiredCapacity 1 is the size at creation only: the AutoScalingScheduledAction update policy keeps a deploy from resetting the size.');
  }

  /**
   * The hooks are declared on the group itself, not as separate resources, so they already hold the very first host.
   * - Termination (every tier): a host going away (gm-ops stop, a schedule, a replacement) waits in Terminating:Wait
   *   until its clean stop completes the hook, at most the heartbeat; then auto scaling continues either way.
   * - Launch (holdUntilBootstrapped): without the bootstrap's CONTINUE the host is abandoned when the heartbeat runs
   *   out, and replaced.
   */
  private declareLifecycleHooks(group: autoscaling.CfnAutoScalingGroup, holdUntilBootstrapped: boolean, timeout: Duration): Record<string, string> {
    const hooks: autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty[] = [];
    const settings: Record<string, string> = { GM_TERMINATION_HOOK: CLEAN_STOP_HOOK_NAME };
    if (holdUntilBootstrapped) {
      hooks.push({
        lifecycleHookName: BOOTSTRAP_HOOK_NAME,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        heartbeatTimeout: Math.min(timeout.toSeconds(), 7200),
        defaultResult: 'ABANDON',
      });
      settings.GM_LIFECYCLE_HOOK = BOOTSTRAP_HOOK_NAME;
    }
    hooks.push({
      lifecycleHookName: CLEAN_STOP_HOOK_NAME,
      lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      heartbeatTimeout: CLEAN_STOP_HEARTBEAT_SECONDS,
      defaultResult: 'CONTINUE',
    });
    group.lifecycleHookSpecificationList = hooks;
    this.allowOnOwnGroup('CompleteOwnLifecycleHooks', 'autoscaling:CompleteLifecycleAction');
    return settings;
  }

  /**
   * Two scheduled actions, recurring on the schedule's days in its time zone: the start one sets the template's sizes
   * (min 0, max 1, desired 1), the stop one desired 0, which the termination hook turns into a clean stop.
   */
  private addSchedule(schedule: Schedule): void {
    const recurrence = (time: string) => {
      const [hour, minute] = time.split(':').map(Number);
      return `${minute} ${hour} * * ${numericCronDays(schedule.days)}`;
    };
    const groupName = this.autoScalingGroup.autoScalingGroupName;
    // Desired capacity only: `gm-ops stop` parks the group at MaxSize 0, and a scheduled start that set MaxSize
    // would undo the stop; with MaxSize 0 the start action cannot raise the group above it.
    new autoscaling.CfnScheduledAction(this, 'ScheduledStart', {
      autoScalingGroupName: groupName,
      recurrence: recurrence(schedule.start),
      timeZone: schedule.timeZone,
      desiredCapacity: 1,
    });
    new autoscaling.CfnScheduledAction(this, 'ScheduledStop', {
      autoScalingGroupName: groupName,
      recurrence: recurrence(schedule.stop),
      timeZone: schedule.timeZone,
      desiredCapacity: 0,
    });
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

const CRON_DAY_NUMBERS: Readonly<Record<string, string>> = { SUN: '0', MON: '1', TUE: '2', WED: '3', THU: '4', FRI: '5', SAT: '6' };

/**
 * The day-of-week field with day names as numbers (0 = Sunday): EC2 Auto Scaling reads traditional Unix cron, and
 * the numeric form is the one every cron accepts (crontab(5) allows names only as single values, not in ranges).
 */
export function numericCronDays(days: string): string {
  return days.toUpperCase().replace(/[A-Z]{3}/g, (name) => CRON_DAY_NUMBERS[name] ?? name);
}
