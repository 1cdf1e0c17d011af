import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';

export interface ViewerAllowListProps {
  /** IPv4 networks (validated by the config: network addresses, never /0) whose viewers may reach n8n. */
  readonly allowedCidrs: readonly string[];
}

/**
 * The JavaScript (cloudfront-js-2.0) of the allow-list: viewers whose IPv4 address lies in one of `allowedCidrs`
 * pass; everyone else, IPv6 viewers included, gets a 403 at the edge. The CIDRs are the `ALLOWED_CIDRS` literal
 * and nothing else decides. `event.viewer.ip` is the viewer's address as CloudFront saw it
 * (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html).
 */
export function allowListCode(allowedCidrs: readonly string[]): string {
  return [
    `var ALLOWED_CIDRS = ${JSON.stringify(allowedCidrs)};`,
    'function ipv4ToNumber(ip) {',
    '  var parts = ip.split(".");',
    '  if (parts.length !== 4) return -1;',
    '  var value = 0;',
    '  for (var i = 0; i < 4; i++) {',
    '    if (!/^[0-9]{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return -1;',
    '    value = value * 256 + Number(parts[i]);',
    '  }',
    '  return value;',
    '}',
    'function allowed(ip) {',
    '  var address = ipv4ToNumber(ip);',
    '  if (address < 0) return false;',
    '  for (var i = 0; i < ALLOWED_CIDRS.length; i++) {',
    '    var cidr = ALLOWED_CIDRS[i].split("/");',
    '    var block = Math.pow(2, 32 - Number(cidr[1]));',
    '    if (Math.floor(address / block) === Math.floor(ipv4ToNumber(cidr[0]) / block)) return true;',
    '  }',
    '  return false;',
    '}',
    'function handler(event) {',
    '  if (allowed(event.viewer.ip)) return event.request;',
    '  return { statusCode: 403, statusDescription: "Forbidden", headers: { "content-type": { value: "text/plain" } }, body: "Forbidden" };',
    '}',
  ].join('\n');
}

/**
 * `allowedCidrs` enforced at CloudFront, in front of n8n: a CloudFront Function on viewer request. A function
 * costs $0.10 per million invocations (https://aws.amazon.com/cloudfront/pricing/); a WAF web ACL with an IP set
 * rule costs $5 a month, $1 a month per rule and $0.60 per million requests (https://aws.amazon.com/waf/pricing/)
 * for the same decision, so the function is the cheaper sound choice.
 */
export class ViewerAllowList extends Construct {
  public readonly function: cloudfront.Function;

  constructor(scope: Construct, id: string, props: ViewerAllowListProps) {
    super(scope, id);
    if (props.allowedCidrs.length === 0) {
      throw new Error('ViewerAllowList: allowedCidrs must name at least one network, or nobody could reach n8n');
    }
    this.function = new cloudfront.Function(this, 'Function', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: `n8n only for viewers from ${props.allowedCidrs.join(', ')}`.slice(0, 128),
      code: cloudfront.FunctionCode.fromInline(allowListCode(props.allowedCidrs)),
    });
  }

  /** The association every behaviour carries, so no path escapes the allow-list. */
  public get association(): cloudfront.FunctionAssociation {
    return { function: this.function, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST };
  }
}
