import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, StackProps, Tags, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DATA_TIER, OUTPUT_KEYS, TAG_KEYS } from '../../ops/src/contract';
import { DeploymentSecrets } from './deployment-secrets';

export interface GeuseDataStackProps extends StackProps {
  /** The deployment name (`geuse:deployment` tag, resource names). */
  readonly deployment: string;
  /**
   * An existing VPC to use, looked up by id (the stack needs an explicit account and region).
   * @default - a new VPC: public subnets in two AZs, no NAT gateway
   */
  readonly vpcId?: string;
  /**
   * A file system retained from an earlier data stack: mount it (new mount targets and security group)
   * instead of creating a file system, and use the deployment's retained secrets.
   * @default - a new, retained file system and new secrets
   */
  readonly retainedFileSystemId?: string;
  /**
   * Back the file system up daily with an AWS Backup plan and a retained vault of the deployment's own.
   * @default true - false only for the throwaway deployment of a restore drill, which must leave nothing behind
   */
  readonly backUpDaily?: boolean;
}

/** The data stack output holding the id of its `index`-th (from 0) host subnet. */
export function hostSubnetOutputKey(index: number): string {
  return `HostSubnet${index + 1}Id`;
}

/** The data stack output holding the id of its `index`-th (from 0) private subnet for a CloudFront VPC origin. */
export function originSubnetOutputKey(index: number): string {
  return `OriginSubnet${index + 1}Id`;
}

/**
 * `GeuseData-<name>`: everything the data depends on, and nothing disposable.
 * The compute stacks only reference it, so replacing or deleting them never touches it.
 */
export class GeuseDataStack extends Stack {
  public readonly vpc: ec2.IVpc;
  /** Subnets the host and the mount targets live in (public: the host needs no NAT gateway). */
  public readonly hostSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };
  /**
   * Private subnets (no route to the internet) for an internal load balancer behind a CloudFront VPC origin, which
   * AWS documents for origins "in private subnets" (see lib/compute/cloudfront-entry.ts); undefined when an existing
   * VPC has none. A new VPC gets isolated ones: no NAT gateway, no cost.
   */
  public readonly originSubnets?: ec2.SubnetSelection;
  /** The host's security group: no ingress here; each tier adds its own entry rules in its own stack. */
  public readonly hostSecurityGroup: ec2.SecurityGroup;
  public readonly fileSystemSecurityGroup: ec2.SecurityGroup;
  public readonly fileSystem: efs.IFileSystem;
  public readonly secrets: DeploymentSecrets;
  public readonly deployment: string;

  constructor(scope: Construct, id: string, props: GeuseDataStackProps) {
    super(scope, id, props);
    this.deployment = props.deployment;
    Tags.of(this).add(TAG_KEYS.deployment, props.deployment);
    Tags.of(this).add(TAG_KEYS.tier, DATA_TIER);

    this.vpc = props.vpcId
      ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId })
      : this.newVpc();
    this.originSubnets = privateSubnetsOf(this.vpc);

    this.hostSecurityGroup = new ec2.SecurityGroup(this, 'HostSecurityGroup', {
      vpc: this.vpc,
      description: `GeuseMaker ${props.deployment} host (no ingress unless the tier adds it)`,
      allowAllOutbound: true,
    });

    this.fileSystemSecurityGroup = new ec2.SecurityGroup(this, 'FileSystemSecurityGroup', {
      vpc: this.vpc,
      description: `GeuseMaker ${props.deployment} EFS mount targets (NFS from the host only)`,
      allowAllOutbound: false,
    });
    this.fileSystemSecurityGroup.addIngressRule(this.hostSecurityGroup, ec2.Port.tcp(2049), 'NFS from the GeuseMaker host');

    this.fileSystem = props.retainedFileSystemId
      ? this.mountRetainedFileSystem(props.retainedFileSystemId)
      : this.newFileSystem();

    this.secrets = new DeploymentSecrets(this, 'Secrets', {
      deployment: props.deployment,
      importExisting: props.retainedFileSystemId !== undefined,
    });

    new CfnOutput(this, OUTPUT_KEYS.fileSystemId, { value: this.fileSystem.fileSystemId, description: 'Retained EFS file system holding the deployment data' });
    if (props.backUpDaily ?? true) {
      const backupRole = this.backUpDaily(this.fileSystem);
      new CfnOutput(this, OUTPUT_KEYS.backupRoleArn, { value: backupRole.roleArn, description: 'The role AWS Backup backs the file system up and restores it with (gm-ops drill)' });
    }
    new CfnOutput(this, OUTPUT_KEYS.secretArns, { value: this.secrets.arnList(), description: 'Secrets Manager secrets of the deployment (purpose=arn)' });
    // The compute stacks read the data stack through these outputs only (see DataStackReferences), so the
    // data stack's template is the same whichever tier runs on it.
    new CfnOutput(this, OUTPUT_KEYS.vpcId, { value: this.vpc.vpcId });
    const hostSubnetIds = this.vpc.selectSubnets(this.hostSubnets).subnetIds;
    new CfnOutput(this, OUTPUT_KEYS.hostSubnetIds, { value: Fn.join(',', hostSubnetIds) });
    // One output per subnet as well: the compute stacks read each one whole, never split a joined list
    // (cfn-lint E1017: Fn::Split does not take Fn::GetStackOutput).
    hostSubnetIds.forEach((subnetId, index) => new CfnOutput(this, hostSubnetOutputKey(index), { value: subnetId }));
    if (this.originSubnets) {
      this.vpc.selectSubnets(this.originSubnets).subnetIds
        .forEach((subnetId, index) => new CfnOutput(this, originSubnetOutputKey(index), { value: subnetId }));
    }
    new CfnOutput(this, OUTPUT_KEYS.hostSecurityGroupId, { value: this.hostSecurityGroup.securityGroupId });
    new CfnOutput(this, OUTPUT_KEYS.fileSystemSecurityGroupId, { value: this.fileSystemSecurityGroup.securityGroupId });
  }

  private newVpc(): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'origin', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    const flowLogs = new logs.LogGroup(this, 'VpcFlowLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('RejectedTraffic', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    return vpc;
  }

  /**
   * Daily AWS Backup recovery points of the file system, kept 35 days, in a vault of the deployment's own. Not EFS
   * automatic backups: their vault `aws/efs/automatic-backup-vault` comes with an access policy that denies
   * backup:StartRestoreJob to every principal, so a drill could never restore from it. The rule runs at 05:00 UTC,
   * after the host's nightly backup set (03:00 UTC by default), so each recovery point holds a consistent set.
   * The vault is retained: its recovery points outlive the stack, like the file system.
   */
  private backUpDaily(fileSystem: efs.IFileSystem): iam.Role {
    const vault = new backup.BackupVault(this, 'BackupVault', { removalPolicy: RemovalPolicy.RETAIN });
    const role = new iam.Role(this, 'BackupRole', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: 'AWS Backup: back up and restore the GeuseMaker file system',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForRestores'),
      ],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason: 'The role AWS Backup documents for backup jobs; AWS keeps it current with the services it backs up.',
    }, {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
      reason: 'The role AWS Backup documents for restore jobs (gm-ops drill restores into a new file system).',
    });
    const plan = new backup.BackupPlan(this, 'BackupPlan', {
      backupVault: vault,
      backupPlanRules: [new backup.BackupPlanRule({
        ruleName: 'Daily',
        scheduleExpression: events.Schedule.cron({ minute: '0', hour: '5' }),
        deleteAfter: Duration.days(35),
      })],
    });
    plan.addSelection('FileSystem', { resources: [backup.BackupResource.fromEfsFileSystem(fileSystem)], role });
    return role;
  }

  private newFileSystem(): efs.FileSystem {
    const fileSystem = new efs.FileSystem(this, 'FileSystem', {
      vpc: this.vpc,
      vpcSubnets: this.hostSubnets,
      securityGroup: this.fileSystemSecurityGroup,
      encrypted: true,
      throughputMode: efs.ThroughputMode.ELASTIC,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      // Backed up by the deployment's own plan instead (backUpDaily).
      enableAutomaticBackups: false,
      allowAnonymousAccess: false,
      // Kept on delete and on replacement, but removed if its own first creation fails.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // Said explicitly: a property removed from the template would leave an earlier stack's automatic backups on.
    (fileSystem.node.defaultChild as efs.CfnFileSystem).backupPolicy = { status: 'DISABLED' };
    fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyUnencryptedTransport',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    return fileSystem;
  }

  private mountRetainedFileSystem(fileSystemId: string): efs.IFileSystem {
    const fileSystem = efs.FileSystem.fromFileSystemAttributes(this, 'FileSystem', {
      fileSystemId,
      securityGroup: this.fileSystemSecurityGroup,
    });
    this.vpc.selectSubnets(this.hostSubnets).subnets.forEach((subnet, index) => {
      new efs.CfnMountTarget(this, `MountTarget${index + 1}`, {
        fileSystemId,
        subnetId: subnet.subnetId,
        securityGroups: [this.fileSystemSecurityGroup.securityGroupId],
      });
    });
    return fileSystem;
  }
}

/** A VPC's subnets without a route to the internet: isolated ones, else private ones with egress; undefined if none. */
function privateSubnetsOf(vpc: ec2.IVpc): ec2.SubnetSelection | undefined {
  if (vpc.isolatedSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  if (vpc.privateSubnets.length > 0) return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  return undefined;
}
