import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface N8nLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** Subnets of the load balancer. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /**
   * The host's auto scaling group, registered as the only target.
   * @default - none: the target group takes IP targets (an ECS service of the scale tier, attached by the caller)
   */
  readonly autoScalingGroup?: autoscaling.AutoScalingGroup;
  /** Who may reach the listener (CloudFront's VPC origin). */
  readonly allowedPeers: ReadonlyArray<{ readonly peer: ec2.IPeer; readonly description: string }>;
  /** Idle timeout: long enough for slow n8n requests and LLM calls. */
  readonly idleTimeout: Duration;
}

/** Port of the listener CloudFront's VPC origin reaches (HTTP: the load balancer has no name a certificate could carry). */
export const LOAD_BALANCER_PORT = 80;

/** The n8n origin: an INTERNAL load balancer (no public address, scheme `internal`) whose only target is the host's
 * n8n, checked on n8n's own readiness endpoint (`/healthz/readiness`: database connected and migrated), so requests
 * only reach an n8n that can serve them. Viewers reach it through CloudFront's VPC origin only.
 * The host's group does not act on this check (see rebootSafeHealthChecks): a reboot must not replace the host. */
export class N8nLoadBalancer extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: N8nLoadBalancerProps) {
    super(scope, id);
    if (props.allowedPeers.length === 0) {
      throw new Error('N8nLoadBalancer: allowedPeers must name at least one peer, or nobody could reach n8n');
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'GeuseMaker n8n load balancer',
      allowAllOutbound: false,
    });
    for (const { peer, description } of props.allowedPeers) {
      this.securityGroup.addIngressRule(peer, ec2.Port.tcp(LOAD_BALANCER_PORT), description);
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      internetFacing: false,
      securityGroup: this.securityGroup,
      idleTimeout: props.idleTimeout,
      dropInvalidHeaderFields: true,
    });
    this.enableAccessLogs();

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'N8n', {
      vpc: props.vpc,
      port: 5678,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: props.autoScalingGroup ? elbv2.TargetType.INSTANCE : elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: '/healthz/readiness',
        healthyHttpCodes: '200',
        interval: Duration.seconds(30),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });

    // Registered on the group itself: attaching the L2 way would also add a rule to the host security group,
    // which lives in the data stack, and switching tier must never change the data stack.
    if (props.autoScalingGroup) {
      (props.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup).targetGroupArns = [this.targetGroup.targetGroupArn];
    }

    this.loadBalancer.addListener('Http', {
      port: LOAD_BALANCER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: elbv2.ListenerAction.forward([this.targetGroup]),
      open: false,
    });
  }

  /** Access logs need the region's log delivery principal, so an environment-agnostic stack cannot have them. */
  private enableAccessLogs(): void {
    if (Token.isUnresolved(Stack.of(this).region)) {
      Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions::AwsSolutions-ELB2',
      reason: 'Environment-agnostic deployment: access logs need the region at synthesis. Set env.account and env.region in the deployment config to enable them.',
      });
      return;
    }
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      // Access logs are evidence: they stay when the compute stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'This bucket receives the load balancer access logs; logging its own accesses would need yet another bucket.',
    });
    this.loadBalancer.logAccessLogs(accessLogs);
  }
}
