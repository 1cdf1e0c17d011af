import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { buildApp } from '../../lib/app';
import { contextWith } from '../helpers/app';
import { Report, synthWithReport } from '../helpers/validation-report';


function synthesize(deployments: Record<string, unknown>, addCanary?: (app: App) => void): { error?: Error; report: Report } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'geuse-checks-'));
  const app = new App({ outdir, context: contextWith(deployments) });
  buildApp(app);
  addCanary?.(app);
  return synthWithReport(app, outdir);
}

const PINNED = { account: '123456789012', region: 'eu-west-1' };
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab';

const DEPLOYMENTS: Array<[string, Record<string, unknown>]> = [
  ['dev, defaults', { 'my-stack': { tier: 'dev' } }],
  ['dev, allowed CIDRs, on-demand', { team: { tier: 'dev', allowedCidrs: ['203.0.113.0/24'], market: 'on-demand' } }],
  ['dev over retained data', { back: { tier: 'dev', retainedData: { fileSystemId: 'fs-0123456789abcdef0' } } }],
  ['automation, environment-agnostic, plain HTTP', { auto: { tier: 'automation' } }],
  ['automation in a pinned account and region, HTTPS, access logs', { auto: { tier: 'automation', env: PINNED, automation: { certificateArn: CERT } } }],
  ['gpu, environment-agnostic', { big: { tier: 'gpu' } }],
  ['gpu in a pinned account and region', { big: { tier: 'gpu', env: PINNED } }],
];

describe.each(DEPLOYMENTS)('cdk-nag AwsSolutions and the built-in template validation over every stack (%s)', (_name, deployments) => {
  let result: ReturnType<typeof synthesize>;
  beforeAll(() => { result = synthesize(deployments); });

  test('synthesis passes: zero unacknowledged findings (our own user-facing warnings aside)', () => {
    expect(result.error).toBeUndefined();
    const isOwnWarning = (v: { ruleName: string; severity?: string }) => v.severity === 'warning' && v.ruleName.startsWith('Annotation::geusemaker:');
    for (const plugin of result.report.pluginReports) expect(plugin.violations.filter((v) => !isOwnWarning(v))).toEqual([]);
  });

  test('AwsSolutions really ran and every acknowledgment carries a real reason at a construct, not a stack', () => {
    const nag = result.report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag).toBeDefined();
    for (const acknowledged of nag!.suppressedViolations ?? []) {
      expect(acknowledged.reason.length).toBeGreaterThan(40);
      expect(acknowledged.acknowledgedAt.split('/').length).toBeGreaterThan(1);
    }
  });
});

describe('canaries: the checks cannot pass vacuously', () => {
  test('a deliberate cdk-nag violation next to the real stacks fails synthesis', () => {
    const { error, report } = synthesize({ 'my-stack': { tier: 'dev' } }, (app) => {
      const stack = new Stack(app, 'Canary');
      const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
      const sg = new ec2.SecurityGroup(stack, 'WideOpen', { vpc });
      sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22), 'deliberately world-open SSH');
    });
    expect(error?.message).toMatch(/AwsSolutions-EC23/);
    const violations = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions')!.violations.map((v) => v.ruleName);
    expect(violations).toEqual(expect.arrayContaining(['AwsSolutions-EC23', 'AwsSolutions-VPC7']));
  });

  test('an invalid CloudFormation property fails synthesis as an error (validateAgainstDefaultRules)', () => {
    const { error, report } = synthesize({ 'my-stack': { tier: 'dev' } }, (app) => {
      const stack = new Stack(app, 'Canary');
      new CfnResource(stack, 'Broken', { type: 'AWS::EC2::SecurityGroup', properties: { GroupDescription: 'x', NotAProperty: true } });
    });
    expect(error?.message).toMatch(/NotAProperty.*CloudFormation Validate/);
    const builtin = report.pluginReports.find((p) => p.pluginName === 'CloudFormation Validate');
    expect(builtin?.violations.length).toBeGreaterThan(0);
  });
});
