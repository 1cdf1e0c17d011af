import { Template } from 'aws-cdk-lib/assertions';

/** One ingress rule, whether inline in a security group or a standalone AWS::EC2::SecurityGroupIngress. */
export interface IngressRule {
  readonly groupId: unknown;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrIp?: string;
  readonly cidrIpv6?: string;
  readonly sourceSecurityGroupId?: unknown;
  readonly sourcePrefixListId?: unknown;
}

export function ingressRules(template: Template): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const [logicalId, sg] of Object.entries(template.findResources('AWS::EC2::SecurityGroup'))) {
    for (const rule of sg.Properties.SecurityGroupIngress ?? []) {
      rules.push({ groupId: { 'Fn::GetAtt': [logicalId, 'GroupId'] }, ...lowerKeys(rule) });
    }
  }
  for (const resource of Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))) {
    const { GroupId, ...rest } = resource.Properties;
    rules.push({ groupId: GroupId, ...lowerKeys(rest) });
  }
  return rules;
}

export function isWorldOpen(rule: IngressRule): boolean {
  return rule.cidrIp === '0.0.0.0/0' || rule.cidrIpv6 === '::/0';
}

export function coversPort(rule: IngressRule, port: number): boolean {
  if (rule.fromPort === undefined || rule.fromPort === -1) return true;
  return rule.fromPort <= port && port <= (rule.toPort ?? rule.fromPort);
}

function lowerKeys(rule: Record<string, unknown>): Omit<IngressRule, 'groupId'> {
  return {
    fromPort: rule.FromPort as number | undefined,
    toPort: rule.ToPort as number | undefined,
    cidrIp: rule.CidrIp as string | undefined,
    cidrIpv6: rule.CidrIpv6 as string | undefined,
    sourceSecurityGroupId: rule.SourceSecurityGroupId,
    sourcePrefixListId: rule.SourcePrefixListId,
  };
}
