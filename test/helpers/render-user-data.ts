import { Template } from 'aws-cdk-lib/assertions';

/** Values standing in for what CloudFormation resolves at deploy time. */
export interface DeployTimeValues {
  readonly region: string;
  readonly account: string;
  /** By stack output name (cross-stack references) or logical id (Ref / GetAtt). */
  readonly references: (name: string) => string;
}

/** The user data script of the template's launch template, with every intrinsic resolved to `values`. */
export function renderUserData(template: Template, values: DeployTimeValues): string {
  const [launchTemplate] = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  const userData = launchTemplate.Properties.LaunchTemplateData.UserData;
  return resolve(userData['Fn::Base64'], values);
}

function resolve(node: unknown, values: DeployTimeValues): string {
  if (typeof node === 'string') return node;
  if (typeof node === 'number') return String(node);
  const intrinsic = node as Record<string, unknown>;
  if ('Fn::Join' in intrinsic) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(p, values)).join(separator);
  }
  if ('Ref' in intrinsic) {
    const ref = intrinsic.Ref as string;
    if (ref === 'AWS::Region') return values.region;
    if (ref === 'AWS::AccountId') return values.account;
    if (ref === 'AWS::Partition') return 'aws';
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    return values.references(ref);
  }
  if ('Fn::Sub' in intrinsic) {
    return (intrinsic['Fn::Sub'] as string)
      .replace(/\$\{AWS::AccountId\}/g, values.account)
      .replace(/\$\{AWS::Region\}/g, values.region)
      .replace(/\$\{AWS::Partition\}/g, 'aws');
  }
  if ('Fn::GetStackOutput' in intrinsic) {
    return values.references((intrinsic['Fn::GetStackOutput'] as { OutputName: string }).OutputName);
  }
  if ('Fn::ImportValue' in intrinsic) return values.references(resolve(intrinsic['Fn::ImportValue'], values));
  if ('Fn::GetAtt' in intrinsic) return values.references((intrinsic['Fn::GetAtt'] as string[]).join('.'));
  throw new Error(`renderUserData: unsupported intrinsic ${JSON.stringify(node).slice(0, 200)}`);
}
