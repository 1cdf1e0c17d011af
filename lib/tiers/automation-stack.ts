import { CfnOutput, Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { cpuInstanceTypes } from '../compute/instance-types';
import { rebootSafeHealthChecks } from '../compute/host-health-checks';
import { N8nLoadBalancer } from '../compute/n8n-load-balancer';
import { AL2023_AMI_PARAMETER, GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/**
 * `GeuseAutomation-<name>`: n8n on the internet (or the allowed CIDRs) through an application load balancer.
 * The host takes 5678 from the load balancer only, and joins it only once n8n's owner exists.
 */
export class GeuseAutomationStack extends GeuseComputeStack {
  public readonly entry: N8nLoadBalancer;

  constructor(scope: Construct, id: string, props: GeuseComputeStackProps) {
    super(scope, id, 'automation', props);
    const { config } = props;
    const options = config.automation ?? { idleTimeoutSeconds: 900 };

    const host = this.createHost({
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(AL2023_AMI_PARAMETER, { os: ec2.OperatingSystemType.LINUX }),
      instanceTypes: cpuInstanceTypes(config.instanceSize),
      holdUntilBootstrapped: true,
      healthChecks: rebootSafeHealthChecks(),
      settings: { GM_N8N_BIND: '0.0.0.0', GM_N8N_PROXY_HOPS: '1' },
    });

    const cidrs = config.allowedCidrs.length > 0 ? config.allowedCidrs : ['0.0.0.0/0'];
    this.entry = new N8nLoadBalancer(this, 'Entry', {
      vpc: this.data.vpc,
      vpcSubnets: this.data.hostSubnets,
      autoScalingGroup: host.autoScalingGroup,
      internetFacing: true,
      allowedPeers: cidrs.map((cidr) => ({ peer: ec2.Peer.ipv4(cidr), description: cidr === '0.0.0.0/0' ? 'the internet (automation tier)' : `allowedCidrs ${cidr}` })),
      certificateArn: options.certificateArn,
      warnWithoutCertificate: true,
      idleTimeout: Duration.seconds(options.idleTimeoutSeconds),
    });
    this.connectEntryToHost(this.entry);

    const publicUrl = options.domainName
      ? `${this.entry.protocol}://${options.domainName}`
      : `${this.entry.protocol}://${this.entry.loadBalancer.loadBalancerDnsName}`;
    host.setPublicUrl(publicUrl);
    new CfnOutput(this, OUTPUT_KEYS.entryUrl, { value: publicUrl, description: 'n8n, through the load balancer' });
    new CfnOutput(this, OUTPUT_KEYS.n8nUrl, { value: publicUrl });
    new CfnOutput(this, OUTPUT_KEYS.loadBalancerDns, { value: this.entry.loadBalancer.loadBalancerDnsName });
  }
}
