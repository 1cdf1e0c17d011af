import { CfnOutput, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { CloudFrontOriginFacing } from './cloudfront-origin-facing';
import { N8nLoadBalancer } from './n8n-load-balancer';
import { ViewerAllowList } from './viewer-allow-list';

/** n8n's static assets: the only paths CloudFront may cache. Everything else (UI API, webhooks, push) is dynamic. */
export const CACHEABLE_PATHS = ['/assets/*', '/static/*'];

/**
 * Host settings of n8n behind this entry: published beyond loopback (after its owner exists) for the load balancer,
 * its only peer; two proxies in front (CloudFront, then the load balancer, each appending to X-Forwarded-For), which
 * n8n hands to Express as `trust proxy` (n8n-io/n8n packages/cli/src/abstract-server.ts: `proxy_hops`).
 */
export const N8N_BEHIND_CLOUDFRONT: Readonly<Record<string, string>> = { GM_N8N_BIND: '0.0.0.0', GM_N8N_PROXY_HOPS: '2' };

/** The AWS documentation of CloudFront VPC origins, which the choices below follow. */
export const VPC_ORIGINS_DOC = 'https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html';

export interface CloudFrontEntryProps {
  readonly vpc: ec2.IVpc;
  /** Subnets of the internal load balancer: the data stack's private ones (no route to the internet). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /**
   * The host's auto scaling group, the load balancer's only target.
   * @default - none: the target group takes IP targets, which the caller attaches (the scale tier's ECS service)
   */
  readonly autoScalingGroup?: autoscaling.AutoScalingGroup;
  /** How long CloudFront waits for n8n's first byte (LLM answers, long webhooks). */
  readonly originReadTimeout: Duration;
  /** Idle timeout of the load balancer: at least the read timeout. */
  readonly loadBalancerIdleTimeout: Duration;
  /**
   * Viewer IPv4 networks allowed to reach n8n.
   * @default - every viewer (n8n's own login guards it)
   */
  readonly allowedCidrs?: readonly string[];
  /**
   * The user's own name and its ACM certificate (us-east-1).
   * @default - the distribution's own *.cloudfront.net name and certificate
   */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /** Comment of the distribution. */
  readonly comment: string;
}

/**
 * n8n's entry point: CloudFront serves viewers over HTTPS (HTTP is redirected) and reaches an internal load balancer
 * through a VPC origin, "a private, secure connection" that makes "CloudFront the single point of entry" (VPC_ORIGINS_DOC):
 * the load balancer has no public address, so neither a shared secret header nor an internet-facing listener is needed
 * (the same page: no "secret shared headers, or other mechanisms to restrict access to your origins").
 */
export class CloudFrontEntry extends Construct {
  public readonly loadBalancer: N8nLoadBalancer;
  public readonly distribution: cloudfront.Distribution;
  /** Present with allowedCidrs. */
  public readonly allowList?: ViewerAllowList;
  /** The URL viewers open, with a trailing slash (n8n's editor base and webhook URL). */
  public readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: CloudFrontEntryProps) {
    super(scope, id);
    // A VPC origin's traffic comes from CloudFront's origin-facing addresses, which the load balancer's security group
    // must admit: the managed prefix list com.amazonaws.global.cloudfront.origin-facing (VPC_ORIGINS_DOC, and
    // aws-cdk-lib's aws-cloudfront-origins README "Restrict traffic coming to the VPC origin"). CloudFront's own
    // CloudFront-VPCOrigins-Service-SG exists only once the first VPC origin of the VPC is deployed and CloudFormation
    // cannot name it, so the prefix list it is. It admits CloudFront alone, and only a distribution of this account can
    // have a VPC origin in this VPC ("Your VPC must be in the same AWS account as your CloudFront distribution").
    // A rule naming a managed prefix list counts as many rules as the list's maximum entries against the group's
    // rules quota (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html):
    // this group holds that one rule only.
    // VPC origins serve "Application Load Balancers ... in private subnets" (VPC_ORIGINS_DOC), so the load balancer
    // sits in the data stack's isolated subnets, which have no route to the internet; the VPC still has an internet
    // gateway attached (for the host's public subnets), which VPC origins require though they route nothing through it.
    const cloudFront = new CloudFrontOriginFacing(this, 'CloudFrontOriginFacing');
    this.loadBalancer = new N8nLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      autoScalingGroup: props.autoScalingGroup,
      allowedPeers: [{ peer: cloudFront.peer, description: 'CloudFront VPC origin (origin-facing addresses)' }],
      idleTimeout: props.loadBalancerIdleTimeout,
    });

    // HTTP to the origin: the VPC origin carries it privately inside AWS, and an internal load balancer has no name a
    // public certificate could be issued for. Viewers only ever speak HTTPS to CloudFront.
    const origin = origins.VpcOrigin.withApplicationLoadBalancer(this.loadBalancer.loadBalancer, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      readTimeout: props.originReadTimeout,
      keepaliveTimeout: Duration.seconds(60),
    });

    const allowedCidrs = props.allowedCidrs ?? [];
    if (allowedCidrs.length > 0) this.allowList = new ViewerAllowList(this, 'AllowList', { allowedCidrs });
    const functionAssociations = this.allowList ? [this.allowList.association] : undefined;

    const dynamic: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // Every header (Upgrade, Sec-WebSocket-*), cookie and query string reaches n8n: WebSockets and webhooks work.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER,
      compress: true,
      functionAssociations,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: props.comment,
      defaultBehavior: dynamic,
      additionalBehaviors: Object.fromEntries(CACHEABLE_PATHS.map((path) => [path, {
        ...dynamic,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        originRequestPolicy: undefined,
      }])),
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // The allow-list holds IPv4 networks: viewers then reach CloudFront over IPv4, so their address is comparable.
      enableIpv6: allowedCidrs.length === 0,
      ...(props.domain ? {
        domainNames: [props.domain.name],
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      } : {}),
    });
    this.publicUrl = `https://${props.domain?.name ?? this.distribution.distributionDomainName}/`;
    this.acknowledgeFindings(allowedCidrs.length > 0, props.domain !== undefined);
  }

  /** The outputs gm-ops reads: the HTTPS entry point, and the internal load balancer's name. */
  public addOutputs(): void {
    const stack = Stack.of(this);
    new CfnOutput(stack, OUTPUT_KEYS.entryUrl, { value: this.publicUrl, description: 'n8n, over HTTPS through CloudFront' });
    new CfnOutput(stack, OUTPUT_KEYS.cloudFrontUrl, { value: `https://${this.distribution.distributionDomainName}/` });
    new CfnOutput(stack, OUTPUT_KEYS.n8nUrl, { value: this.publicUrl });
    new CfnOutput(stack, OUTPUT_KEYS.loadBalancerDns, {
      value: this.loadBalancer.loadBalancer.loadBalancerDnsName,
      description: 'Internal: reached only by CloudFront\'s VPC origin',
    });
  }

  private acknowledgeFindings(allowList: boolean, ownDomain: boolean): void {
    const acknowledgments = [{
      id: 'AwsSolutions::AwsSolutions-CFR1',
      reason: 'n8n serves its own team from wherever they are; access is controlled by n8n\'s login and, when given, the allowedCidrs allow-list at the edge, not by country.',
    }, {
      id: 'AwsSolutions::AwsSolutions-CFR2',
      reason: allowList
        ? 'allowedCidrs is enforced by a CloudFront Function on every behaviour ($0.10 per million requests) instead of a WAF web ACL ($5/month + $1/rule + $0.60 per million); n8n requires a login behind it.'
        : 'A WAF web ACL costs more than the rest of a small deployment ($5/month + $1/rule + $0.60 per million requests); n8n requires a login whose owner exists before the host joins the origin. Set allowedCidrs to restrict viewers.',
    }, {
      id: 'AwsSolutions::AwsSolutions-CFR3',
      reason: 'Requests are logged at the origin load balancer (access logs when env.region is configured) and by n8n; CloudFront standard logs would need an ACL-enabled bucket.',
    }];
    if (!ownDomain) {
      acknowledgments.push({
        id: 'AwsSolutions::AwsSolutions-CFR4',
        // https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html
        reason: 'With the default *.cloudfront.net certificate CloudFront sets the security policy itself ("TLSv1 regardless of the value that you set", ViewerCertificate API reference); with domainName + certificateArn the policy is TLSv1.2_2021.',
      });
    }
    Validations.of(this.distribution).acknowledge(...acknowledgments);
  }
}
