import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { gpuOptionsSchema } from '../config/schema';
import { CloudFrontEntry, N8N_BEHIND_CLOUDFRONT } from '../compute/cloudfront-entry';
import { rebootSafeHealthChecks } from '../compute/host-health-checks';
import { GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/**
 * AL2023 Deep Learning Base OSS NVIDIA AMI, resolved by EC2 at each launch. Its release notes list the NVIDIA
 * driver, the NVIDIA container toolkit and containerd, but neither Docker nor aws-cfn-bootstrap: the bootstrap
 * installs whichever of them is missing.
 */
export const GPU_AMI_PARAMETER = '/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id';

/**
 * `GeuseGpu-<name>`: a GPU host for Ollama, n8n served over HTTPS through CloudFront, whose VPC origin reaches an
 * internal load balancer; the host takes 5678 from the load balancer only.
 */
export class GeuseGpuStack extends GeuseComputeStack {
  public readonly entry: CloudFrontEntry;

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
      settings: N8N_BEHIND_CLOUDFRONT,
    });

    this.entry = new CloudFrontEntry(this, 'Entry', {
      vpc: this.data.vpc,
      vpcSubnets: this.data.requireOriginSubnets(config.name, config.vpcId, config.tier),
      autoScalingGroup: host.autoScalingGroup,
      originReadTimeout: Duration.seconds(options.originReadTimeoutSeconds),
      // Long enough for the slowest streamed LLM answer CloudFront waits for.
      loadBalancerIdleTimeout: Duration.seconds(Math.max(options.originReadTimeoutSeconds + 60, 300)),
      allowedCidrs: config.allowedCidrs,
      domain: options.domainName && options.certificateArn ? { name: options.domainName, certificateArn: options.certificateArn } : undefined,
      comment: `GeuseMaker ${config.name}: n8n (gpu)`,
    });
    this.connectEntryToHost(this.entry.loadBalancer);
    host.setPublicUrl(this.entry.publicUrl);
    this.entry.addOutputs();
  }
}
