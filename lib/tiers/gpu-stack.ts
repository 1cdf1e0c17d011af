import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { gpuOptionsSchema } from '../config/schema';
import { CloudFrontOriginFacing } from '../compute/cloudfront-origin-facing';
import { rebootSafeHealthChecks } from '../compute/host-health-checks';
import { N8nLoadBalancer } from '../compute/n8n-load-balancer';
import { GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/**
 * AL2023 Deep Learning Base OSS NVIDIA AMI, resolved by EC2 at each launch. Its release notes list the NVIDIA
 * driver, the NVIDIA container toolkit and containerd, but neither Docker nor aws-cfn-bootstrap: the bootstrap
 * installs whichever of them is missing.
 */
export const GPU_AMI_PARAMETER = '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id';

/** Header CloudFront adds to every request to the load balancer, which forwards nothing without it. */
export const ORIGIN_VERIFY_HEADER = 'X-Geuse-Origin-Verify';

/** n8n's static assets: the only paths CloudFront may cache. Everything else (UI API, webhooks, push) is dynamic. */
export const CACHEABLE_PATHS = ['/assets/*', '/static/*'];

/**
 * `GeuseGpu-<name>`: a GPU host for Ollama, n8n served through CloudFront. The load balancer takes traffic from
 * CloudFront's origin-facing addresses only; the host takes 5678 from the load balancer only.
 */
export class GeuseGpuStack extends GeuseComputeStack {
  public readonly entry: N8nLoadBalancer;
  public readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: GeuseComputeStackProps) {
    super(scope, id, 'gpu', props);
    const { config } = props;
    const options = config.gpu ?? gpuOptionsSchema.parse({});

    const host = this.createHost({
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(GPU_AMI_PARAMETER, { os: ec2.OperatingSystemType.LINUX }),
      instanceTypes: options.instanceTypes.map((type) => new ec2.InstanceType(type)),
      installDocker: false,
      holdUntilBootstrapped: true,
      healthChecks: rebootSafeHealthChecks(),
      settings: { GM_N8N_BIND: '0.0.0.0', GM_N8N_PROXY_HOPS: '2' },
    });

    const cloudFront = new CloudFrontOriginFacing(this, 'CloudFrontOriginFacing');
    // CloudFront's addresses are shared by every distribution: a header only ours sends narrows it to ours.
    // The template holds a dynamic reference to the value, never the value.
    const originVerify = new secretsmanager.Secret(this, 'OriginVerify', {
      description: `GeuseMaker ${config.name}: header CloudFront sends to the load balancer (not data; replaced with this stack)`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(originVerify).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'A shared value between this stack\'s CloudFront distribution and load balancer; a new one comes with every replacement of the stack, and rotating it alone would cut CloudFront off.',
    });
    const requiredHeader = { name: ORIGIN_VERIFY_HEADER, value: originVerify.secretValue.unsafeUnwrap() };
    this.entry = new N8nLoadBalancer(this, 'Entry', {
      vpc: this.data.vpc,
      vpcSubnets: this.data.hostSubnets,
      autoScalingGroup: host.autoScalingGroup,
      internetFacing: true,
      allowedPeers: [{ peer: cloudFront.peer, description: 'CloudFront origin-facing addresses only' }],
      requiredHeader,
      // Long enough for the slowest streamed LLM answer CloudFront waits for.
      idleTimeout: Duration.seconds(Math.max(options.originReadTimeoutSeconds + 60, 300)),
    });
    this.connectEntryToHost(this.entry);

    const origin = new origins.LoadBalancerV2Origin(this.entry.loadBalancer, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      readTimeout: Duration.seconds(options.originReadTimeoutSeconds),
      keepaliveTimeout: Duration.seconds(60),
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      customHeaders: { [requiredHeader.name]: requiredHeader.value },
    });
    const dynamic: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      // Every header (Upgrade, Sec-WebSocket-*), cookie and query string reaches n8n: WebSockets and webhooks work.
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER,
      compress: true,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `GeuseMaker ${config.name}: n8n`,
      defaultBehavior: dynamic,
      additionalBehaviors: Object.fromEntries(CACHEABLE_PATHS.map((path) => [path, {
        ...dynamic,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        originRequestPolicy: undefined,
      }])),
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions::AwsSolutions-CFR1',
      reason: 'n8n serves its own team from wherever they are; access is controlled by n8n\'s login, not by country.',
    }, {
      id: 'AwsSolutions::AwsSolutions-CFR2',
      reason: 'WAF costs more than the rest of a small deployment; n8n requires a login (its owner is set up before the host joins the load balancer). Attach a web ACL by editing the distribution if needed.',
    }, {
      id: 'AwsSolutions::AwsSolutions-CFR3',
      reason: 'Requests are logged at the origin load balancer (access logs when env.region is configured) and by n8n; CloudFront standard logs would need an ACL-enabled bucket.',
    }, {
      id: 'AwsSolutions::AwsSolutions-CFR4',
      reason: 'The default *.cloudfront.net certificate fixes the viewer security policy; viewers are redirected to HTTPS and modern clients negotiate TLS 1.2 or later.',
    }, {
      id: 'AwsSolutions::AwsSolutions-CFR5',
      reason: 'CloudFront reaches the load balancer over HTTP (TLS 1.2 only if HTTPS is ever used): the load balancer has no certificate of its own and accepts CloudFront\'s origin-facing addresses only. Known gap, noted in the README.',
    });

    const publicUrl = `https://${this.distribution.distributionDomainName}`;
    host.setPublicUrl(publicUrl);
    new CfnOutput(this, OUTPUT_KEYS.cloudFrontUrl, { value: publicUrl, description: 'n8n, through CloudFront' });
    new CfnOutput(this, OUTPUT_KEYS.entryUrl, { value: publicUrl });
    new CfnOutput(this, OUTPUT_KEYS.n8nUrl, { value: publicUrl });
    new CfnOutput(this, OUTPUT_KEYS.loadBalancerDns, { value: this.entry.loadBalancer.loadBalancerDnsName });
  }
}
