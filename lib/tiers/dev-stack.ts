import { Annotations, CfnOutput } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { cpuInstanceTypes } from '../compute/instance-types';
import { AL2023_AMI_PARAMETER, GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/**
 * `GeuseDev-<name>`: the cheapest tier. One spot host in a public subnet, no NAT gateway, no load balancer.
 * n8n is reachable on the host's port 5678 from the configured CIDRs only; with none (the default),
 * only through SSM port forwarding.
 */
export class GeuseDevStack extends GeuseComputeStack {
  constructor(scope: Construct, id: string, props: GeuseComputeStackProps) {
    super(scope, id, 'dev', props);
    const { allowedCidrs } = props.config;
    this.createHost({
      machineImage: ec2.MachineImage.resolveSsmParameterAtLaunch(AL2023_AMI_PARAMETER, { os: ec2.OperatingSystemType.LINUX }),
      instanceTypes: cpuInstanceTypes(props.config.instanceSize),
      settings: { GM_N8N_BIND: allowedCidrs.length > 0 ? '0.0.0.0' : '127.0.0.1' },
    });

    allowedCidrs.forEach((cidr, index) => {
      this.allowToHost(`N8nFromAllowedCidr${index + 1}`, { cidrIp: cidr }, 5678, `n8n from ${cidr} (allowedCidrs)`);
    });
    if (allowedCidrs.some((cidr) => cidr.endsWith('/0'))) {
      Annotations.of(this).addWarningV2('geusemaker:dev-world-open', `allowedCidrs includes ${allowedCidrs.find((c) => c.endsWith('/0'))}: n8n on port 5678 is open to the whole internet over plain HTTP`);
    }

    new CfnOutput(this, OUTPUT_KEYS.portForwardCommand, {
      value: this.portForwardCommand(),
      description: 'Forward localhost:5678 to n8n on the host through SSM, then open http://localhost:5678',
    });
    new CfnOutput(this, OUTPUT_KEYS.n8nUrl, {
      value: 'http://localhost:5678',
      description: allowedCidrs.length > 0
        ? 'n8n through SSM port forwarding; from the allowed CIDRs also at http://<host public IP>:5678 (gm-ops status shows it)'
        : 'n8n through SSM port forwarding (run the PortForwardCommand output first)',
    });
  }
}
