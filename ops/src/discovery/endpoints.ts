/**
 * Where a deployment is reached, from the compute stack's outputs and, for the dev tier, the current
 * host: its public IP serves n8n only when the security group lets some CIDR in on the n8n port;
 * otherwise n8n is reached through SSM port forwarding (the stack's N8nUrl is then localhost).
 * A dev stack whose N8nUrl is https (allowedCidrs given) has n8n serve HTTPS itself with a certificate
 * generated on the host: self-signed, so browsers and probes must accept it knowingly.
 */
import { OUTPUT_KEYS, SERVICES } from '../contract';
import type { HostInfo } from './hosts';
import type { StackSummary } from './stacks';

export type Reach = 'public' | 'cidrs' | 'port-forward' | 'internal';

export interface Endpoint {
  readonly label: string;
  readonly value: string;
  /** How it is reached: through the internet, from some CIDRs only, through SSM port forwarding, or not from outside the VPC. */
  readonly reach: Reach;
  readonly note?: string;
  /** Served over HTTPS with the host's self-signed certificate (dev tier with allowedCidrs). */
  readonly selfSigned?: boolean;
}

const N8N_PORT = SERVICES.find((s) => s.name === 'n8n')!.port;

/** The dev stack's N8nUrl, http://localhost:5678: the local end of an SSM port forwarding session. */
export function isLocalUrl(url: string): boolean {
  try {
    return new URL(url).hostname === 'localhost';
  } catch {
    return false;
  }
}

/** The dev tier serves n8n over HTTPS itself (self-signed) when its N8nUrl output says https. */
export function servesSelfSignedHttps(compute: StackSummary): boolean {
  return compute.role === 'dev' && (compute.outputs[OUTPUT_KEYS.n8nUrl] ?? '').startsWith('https://');
}

/** The URL users open: EntryUrl, else CloudFrontUrl, else N8nUrl, else (dev) the host's public IP if open. */
export function entryOf(compute: StackSummary | undefined, host: HostInfo | undefined): Endpoint | undefined {
  if (!compute) return undefined;
  const outputs = compute.outputs;
  for (const key of [OUTPUT_KEYS.entryUrl, OUTPUT_KEYS.cloudFrontUrl, OUTPUT_KEYS.n8nUrl]) {
    const value = outputs[key];
    if (value && /^https?:\/\//.test(value) && !isLocalUrl(value)) return { label: 'Entry', value, reach: 'public' };
  }
  const selfSigned = servesSelfSignedHttps(compute);
  const tls = selfSigned ? '; HTTPS with the host\'s self-signed certificate' : '';
  if (compute.role === 'dev' && host?.publicIp && host.state === 'running' && host.n8nOpenTo && host.n8nOpenTo.length > 0) {
    return {
      label: 'Entry',
      value: `${selfSigned ? 'https' : 'http'}://${host.publicIp}:${N8N_PORT}`,
      reach: 'cidrs',
      note: `host public IP, open to ${host.n8nOpenTo.join(', ')}${tls}`,
      ...(selfSigned ? { selfSigned } : {}),
    };
  }
  const local = outputs[OUTPUT_KEYS.n8nUrl];
  if (local && isLocalUrl(local)) {
    return {
      label: 'Entry',
      value: local,
      reach: 'port-forward',
      note: `through SSM port forwarding (run the Port forward command first)${tls}`,
      ...(selfSigned ? { selfSigned } : {}),
    };
  }
  return undefined;
}

/** Every endpoint worth showing in `status`. */
export function endpointsOf(compute: StackSummary | undefined, host: HostInfo | undefined): Endpoint[] {
  if (!compute) return [];
  const outputs = compute.outputs;
  const result: Endpoint[] = [];
  const entry = entryOf(compute, host);
  if (entry) result.push(entry);
  const add = (label: string, key: string) => {
    const value = outputs[key];
    if (value && !result.some((e) => e.value === value)) {
      result.push({ label, value, reach: isLocalUrl(value) ? 'port-forward' : 'public' });
    }
  };
  add('n8n', OUTPUT_KEYS.n8nUrl);
  add('CloudFront', OUTPUT_KEYS.cloudFrontUrl);
  const loadBalancer = outputs[OUTPUT_KEYS.loadBalancerDns];
  if (loadBalancer) {
    // Behind CloudFront the load balancer is internal: its name resolves to private addresses, CloudFront's VPC origin only.
    result.push(outputs[OUTPUT_KEYS.cloudFrontUrl]
      ? { label: 'Load balancer', value: loadBalancer, reach: 'internal', note: 'internal: reached only through CloudFront' }
      : { label: 'Load balancer', value: loadBalancer, reach: 'public' });
  }
  add('Port forward', OUTPUT_KEYS.portForwardCommand);
  return result;
}
