import { App, CfnResource, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { buildApp } from '../../lib/app';
import { contextWith } from '../helpers/app';
import { Report, synthWithReport } from '../helpers/validation-report';
import { tempDir } from '../helpers/temp-dirs';

function synthesize(deployments: Record<string, unknown>, addCanary?: (app: App) => void): { error?: Error; report: Report } {
  const outdir = tempDir('geuse-checks-');
  const app = new App({ outdir, context: contextWith(deployments) });
  buildApp(app);
  addCanary?.(app);
  return synthWithReport(app, outdir);
}

const PINNED = { account: '123456789012', region: 'eu-west-1' };
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab';

/** Every shape, each under its own deployment name, so one synthesis of one app checks them all. */
const DEPLOYMENTS: Array<[string, string, Record<string, unknown>]> = [
  ['dev, defaults', 'my-stack', { tier: 'dev' }],
  ['dev, allowed CIDRs, on-demand', 'team', { tier: 'dev', allowedCidrs: ['203.0.113.0/24'], market: 'on-demand' }],
  ['dev over retained data', 'back', { tier: 'dev', retainedData: { fileSystemId: 'fs-0123456789abcdef0' } }],
  ['dev on x86_64 with a schedule', 'office', { tier: 'dev', architecture: 'x86_64', schedule: { timeZone: 'Europe/Berlin', start: '08:00', stop: '20:00' } }],
  ['automation, environment-agnostic, the distribution\'s own name', 'auto', { tier: 'automation' }],
  ['automation in a pinned account and region, own domain, access logs', 'auto-pinned', { tier: 'automation', env: PINNED, automation: { domainName: 'n8n.example.com', certificateArn: CERT } }],
  ['automation, allowed CIDRs', 'auto-team', { tier: 'automation', allowedCidrs: ['203.0.113.0/24'] }],
  ['gpu, environment-agnostic', 'big', { tier: 'gpu' }],
  ['gpu, allowed CIDRs, own domain', 'big-team', { tier: 'gpu', allowedCidrs: ['203.0.113.0/24', '198.51.100.0/25'], gpu: { domainName: 'n8n.example.com', certificateArn: CERT } }],
  ['gpu in a pinned account and region', 'big-pinned', { tier: 'gpu', env: PINNED }],
];

/** Whether a construct path lies in one of the deployment's stacks (`GeuseData-<name>/…`, `GeuseDev-<name>/…`, …). */
const inDeployment = (constructPath: string, name: string) => new RegExp(`^Geuse[A-Za-z]+-${name}/`).test(constructPath);

let all: ReturnType<typeof synthesize>;
beforeAll(() => { all = synthesize(Object.fromEntries(DEPLOYMENTS.map(([, name, settings]) => [name, settings]))); });

test('the app with every shape synthesizes: nothing fails synthesis', () => {
  expect(all.error).toBeUndefined();
});

describe.each(DEPLOYMENTS)('cdk-nag AwsSolutions and the built-in template validation over every stack (%s)', (_case, name) => {
  test('zero unacknowledged findings in its stacks (our own user-facing warnings aside)', () => {
    const isOwnWarning = (v: { ruleName: string; severity?: string }) => v.severity === 'warning' && v.ruleName.startsWith('Annotation::geusemaker:');
    for (const plugin of all.report.pluginReports) {
      const own = plugin.violations.filter((v) => v.violatingConstructs.some((c) => inDeployment(c.constructPath, name)));
      expect(own.filter((v) => !isOwnWarning(v))).toEqual([]);
    }
  });

  test('AwsSolutions really ran over its stacks and every acknowledgment carries a real reason at a construct, not a stack', () => {
    const nag = all.report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag).toBeDefined();
    const acknowledged = (nag!.suppressedViolations ?? []).filter((a) => inDeployment(a.acknowledgedAt, name));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const a of acknowledged) {
      expect(a.reason.length).toBeGreaterThan(40);
      expect(a.acknowledgedAt.split('/').length).toBeGreaterThan(1);
    }
  });
});

describe('canaries: the checks cannot pass vacuously', () => {
  let canaries: ReturnType<typeof synthesize>;
  beforeAll(() => {
    canaries = synthesize({ 'my-stack': { tier: 'dev' } }, (app) => {
      const stack = new Stack(app, 'Canary');
      const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
      const sg = new ec2.SecurityGroup(stack, 'WideOpen', { vpc });
      sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22), 'deliberately world-open SSH');
      new CfnResource(stack, 'Broken', { type: 'AWS::EC2::SecurityGroup', properties: { GroupDescription: 'x', NotAProperty: true } });
    });
  });

  test('a deliberate cdk-nag violation next to the real stacks fails synthesis', () => {
    expect(canaries.error?.message).toMatch(/AwsSolutions-EC23/);
    const violations = canaries.report.pluginReports.find((p) => p.pluginName === 'AwsSolutions')!.violations.map((v) => v.ruleName);
    expect(violations).toEqual(expect.arrayContaining(['AwsSolutions-EC23', 'AwsSolutions-VPC7']));
  });

  test('an invalid CloudFormation property fails synthesis as an error (validateAgainstDefaultRules)', () => {
    expect(canaries.error?.message).toMatch(/NotAProperty.*CloudFormation Validate/);
    const builtin = canaries.report.pluginReports.find((p) => p.pluginName === 'CloudFormation Validate');
    expect(builtin?.violations.length).toBeGreaterThan(0);
  });
});
