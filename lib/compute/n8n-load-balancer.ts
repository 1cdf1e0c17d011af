import { Annotations, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface N8nLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  /** Subnets of the load balancer. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The host's auto scaling group, registered as the only target. */
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** Internet-facing (automation) or internal, reached through a CloudFront VPC origin (gpu). */
  readonly internetFacing: boolean;
  /** Who may reach the listeners. */
  readonly allowedPeers: ReadonlyArray<{ readonly peer: ec2.IPeer; readonly description: string }>;
  /**
   * ACM certificate: HTTPS on 443 and HTTP redirected to it.
   * @default - plain HTTP on port 80, with a synth-time warning
   */
  readonly certificateArn?: string;
  /**
   * Warn at synthesis when there is no certificate (viewers would reach this load balancer over plain HTTP).
   * @default false - e.g. behind CloudFront, which serves viewers over HTTPS itself
   */
  readonly warnWithoutCertificate?: boolean;
  /**
   * Forward only requests that carry this header with this value (CloudFront adds it); everything else
   * gets a 403. The prefix list admits every CloudFront distribution; the header admits only ours.
   * @default - every request that reaches a listener is forwarded
   */
  readonly requiredHeader?: { readonly name: string; readonly value: string };
  /** Idle timeout: long enough for slow n8n requests and LLM calls. */
  readonly idleTimeout: Duration;
}

/** The n8n entry point: a load balancer whose only target is the host's n8n, checked on n8n's own readiness
 * endpoint (`/healthz/readiness`: database connected and migrated), so requests only reach an n8n that can serve them.
 * The host's group does not act on this check (see rebootSafeHealthChecks): a reboot must not replace the host. */
export class N8nLoadBalancer extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** `https` with a certificate, `http` otherwise. */
  public readonly protocol: 'http' | 'https';

  constructor(scope: Construct, id: string, props: N8nLoadBalancerProps) {
    super(scope, id);
    if (props.allowedPeers.length === 0) {
      throw new Error('N8nLoadBalancer: allowedPeers must name at least one peer, or nobody could reach n8n');
    }
    this.protocol = props.certificateArn ? 'https' : 'http';
    const listenerPort = props.certificateArn ? 443 : 80;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'GeuseMaker n8n load balancer',
      allowAllOutbound: false,
    });
    for (const { peer, description } of props.allowedPeers) {
      this.securityGroup.addIngressRule(peer, ec2.Port.tcp(listenerPort), description);
      if (props.certificateArn) this.securityGroup.addIngressRule(peer, ec2.Port.tcp(80), `${description} (redirected to HTTPS)`);
    }
    if (props.allowedPeers.some(({ peer }) => peer.uniqueId === ec2.Peer.anyIpv4().uniqueId)) {
      Validations.of(this.securityGroup).acknowledge({
        id: 'AwsSolutions::AwsSolutions-EC23',
        reason: 'The automation tier is chosen to serve n8n (webhooks, UI) to the internet through this load balancer only; allowedCidrs narrows it. The host itself accepts traffic from this load balancer alone.',
      });
    }

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      internetFacing: props.internetFacing,
      securityGroup: this.securityGroup,
      idleTimeout: props.idleTimeout,
      dropInvalidHeaderFields: true,
    });
    this.enableAccessLogs();

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'N8n', {
      vpc: props.vpc,
      port: 5678,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
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
    (props.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup).targetGroupArns = [this.targetGroup.targetGroupArn];

    const forward = elbv2.ListenerAction.forward([this.targetGroup]);
    const defaultAction = props.requiredHeader
      ? elbv2.ListenerAction.fixedResponse(403, { contentType: 'text/plain', messageBody: 'Forbidden' })
      : forward;
    let listener: elbv2.ApplicationListener;
    if (props.certificateArn) {
      listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction,
        open: false,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    } else {
      listener = this.loadBalancer.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction,
        open: false,
      });
      if (props.warnWithoutCertificate) {
        Annotations.of(this).addWarningV2('geusemaker:plain-http',
          'No certificateArn: n8n is served over plain HTTP; passwords and credentials cross the internet unencrypted. Set automation.certificateArn.');
      }
    }
    if (props.requiredHeader) {
      listener.addAction('FromOwnOrigin', {
        priority: 1,
        conditions: [elbv2.ListenerCondition.httpHeader(props.requiredHeader.name, [props.requiredHeader.value])],
        action: forward,
      });
    }
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
