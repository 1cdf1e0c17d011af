import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { cpuInstanceTypes } from '../compute/instance-types';
import { al2023MachineImage, GeuseComputeStack, GeuseComputeStackProps } from './compute-stack';

/**
 * `GeuseDev-<name>`: the cheapest tier. One spot host in a public subnet, no NAT gateway, no load balancer.
 * n8n is reachable on the host's port 5678 from the configured CIDRs only; with none (the default),
 * only through SSM port forwarding.
 *
 * With allowedCidrs, n8n serves HTTPS itself with a certificate generated on the host (`GM_N8N_TLS=self-signed`):
 * its auth cookie is `Secure`, so its editor cannot work over plain http on a public address, and a login must never
 * cross the internet in clear. Port forwarding then reaches the same HTTPS listener.
 */
export class GeuseDevStack extends GeuseComputeStack {
  constructor(scope: Construct, id: string, props: GeuseComputeStackProps) {
    super(scope, id, 'dev', props);
    const { allowedCidrs } = props.config;
    const exposed = allowedCidrs.length > 0;
    const scheme = exposed ? 'https' : 'http';
    this.createHost({
      machineImage: al2023MachineImage(props.config.architecture),
      instanceTypes: cpuInstanceTypes(props.config.instanceSize, props.config.architecture),
      settings: {
        GM_N8N_BIND: exposed ? '0.0.0.0' : '127.0.0.1',
        GM_N8N_TLS: exposed ? 'self-signed' : 'off',
      },
    });

    allowedCidrs.forEach((cidr, index) => {
      this.allowToHost(`N8nFromAllowedCidr${index + 1}`, { cidrIp: cidr }, 5678, `n8n from ${cidr} (allowedCidrs)`);
    });

    new CfnOutput(this, OUTPUT_KEYS.portForwardCommand, {
      value: this.portForwardCommand(),
      description: `Forward localhost:5678 to n8n on the host through SSM, then open ${scheme}://localhost:5678`,
    });
    new CfnOutput(this, OUTPUT_KEYS.n8nUrl, {
      value: `${scheme}://localhost:5678`,
      description: exposed
        ? 'n8n through SSM port forwarding; from the allowed CIDRs also at https://<host public IP>:5678 (gm-ops status shows the IP). '
          + 'n8n uses a self-signed certificate made on the host: the browser warns about it until you trust that certificate'
        : 'n8n through SSM port forwarding (run the PortForwardCommand output first)',
    });
  }
}
