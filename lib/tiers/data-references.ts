import { Annotations, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { configProblem } from '../config/config-error';
import { DEPLOYMENTS_CONTEXT_KEY } from '../config/load-config';
import { GeuseDataStack, hostSubnetOutputKey, originSubnetOutputKey } from '../data/data-stack';
import { DeploymentSecrets } from '../data/deployment-secrets';

/**
 * The data stack as a compute stack sees it: read from the data stack's declared outputs and the secrets' fixed
 * names, never through direct references. Direct references would make the data stack publish whatever each tier
 * happens to use, so switching tier would change the data stack.
 */
export class DataStackReferences extends Construct {
  public readonly vpc: ec2.IVpc;
  public readonly hostSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PUBLIC };
  /** The data stack's private subnets for an internal load balancer; undefined when its VPC has none. */
  public readonly originSubnets?: ec2.SubnetSelection;
  public readonly hostSecurityGroup: ec2.ISecurityGroup;
  public readonly fileSystem: efs.IFileSystem;
  public readonly secrets: DeploymentSecrets;

  constructor(scope: Construct, id: string, data: GeuseDataStack) {
    super(scope, id);
    const output = (key: string) => Fn.getStackOutput(data.stackName, key);
    const subnets = data.vpc.selectSubnets(data.hostSubnets);
    const originSubnetIds = data.originSubnets ? data.vpc.selectSubnets(data.originSubnets).subnetIds : [];

    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: output(OUTPUT_KEYS.vpcId),
      availabilityZones: subnets.availabilityZones,
      publicSubnetIds: subnets.subnetIds.map((_id, index) => output(hostSubnetOutputKey(index))),
      isolatedSubnetIds: originSubnetIds.length > 0 ? originSubnetIds.map((_id, index) => output(originSubnetOutputKey(index))) : undefined,
    });
    if (originSubnetIds.length > 0) this.originSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId',
      'The compute stacks only place instances and load balancers in these subnets; they never read a route table.');
    this.hostSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(this, 'HostSecurityGroup',
      output(OUTPUT_KEYS.hostSecurityGroupId), { mutable: false });
    this.fileSystem = efs.FileSystem.fromFileSystemAttributes(this, 'FileSystem', {
      fileSystemId: output(OUTPUT_KEYS.fileSystemId),
      securityGroup: ec2.SecurityGroup.fromSecurityGroupId(this, 'FileSystemSecurityGroup',
        output(OUTPUT_KEYS.fileSystemSecurityGroupId), { mutable: false }),
    });
    this.secrets = new DeploymentSecrets(this, 'Secrets', { deployment: data.deployment, importExisting: true });
  }

  /** The private subnets for a load balancer behind CloudFront, or one configuration line saying why there are none. */
  public requireOriginSubnets(deployment: string, vpcId: string | undefined, tier: string): ec2.SubnetSelection {
    if (this.originSubnets) return this.originSubnets;
    throw configProblem(`${DEPLOYMENTS_CONTEXT_KEY}.${deployment}.vpcId`, vpcId,
      `the ${tier} tier puts its load balancer in private subnets behind a CloudFront VPC origin, and this VPC has none: `
      + 'add private subnets to it, or leave vpcId out for a new VPC');
  }
}
