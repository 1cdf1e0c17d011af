import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { automationOptionsSchema } from '../config/schema';
import { CloudFrontEntry, N8N_BEHIND_CLOUDFRONT } from '../compute/cloudfront-entry';
import { cpuInstanceTypes } from '../compute/instance-types';
import { rebootSafeHealthChecks } from '../compute/host-health-checks';
import { al2023MachineImage, GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/** CloudFront's default origin read timeout quota: the longest wait without a quota increase. */
const ORIGIN_READ_TIMEOUT = Duration.seconds(60);

/**
 * `GeuseAutomation-<name>`: n8n on the internet (or the allowed CIDRs) over HTTPS through CloudFront, whose VPC
 * origin reaches an internal load balancer. The host takes 5678 from the load balancer only, and joins it only once
 * n8n's owner exists.
 */
export class GeuseAutomationStack extends GeuseComputeStack {
  public readonly entry: CloudFrontEntry;

  constructor(scope: Construct, id: string, props: GeuseComputeStackProps) {
    super(scope, id, 'automation', props);
    const { config } = props;
    const options = config.automation ?? automationOptionsSchema.parse({});

    const host = this.createHost({
      machineImage: al2023MachineImage(config.architecture),
      instanceTypes: cpuInstanceTypes(config.instanceSize, config.architecture),
      holdUntilBootstrapped: true,
      healthChecks: rebootSafeHealthChecks(),
      settings: N8N_BEHIND_CLOUDFRONT,
    });

    this.entry = new CloudFrontEntry(this, 'Entry', {
      vpc: this.data.vpc,
      vpcSubnets: this.data.requireOriginSubnets(config.name, config.vpcId, config.tier),
      autoScalingGroup: host.autoScalingGroup,
      originReadTimeout: ORIGIN_READ_TIMEOUT,
      loadBalancerIdleTimeout: Duration.seconds(options.idleTimeoutSeconds),
      allowedCidrs: config.allowedCidrs,
      domain: options.domainName && options.certificateArn ? { name: options.domainName, certificateArn: options.certificateArn } : undefined,
      comment: `GeuseMaker ${config.name}: n8n (automation)`,
    });
    this.connectEntryToHost(this.entry.loadBalancer);
    host.setPublicUrl(this.entry.publicUrl);
    this.entry.addOutputs();
  }
}
