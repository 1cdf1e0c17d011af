/**
 * The BacklogMetric construct: the reader in the VPC with the given security group, the publisher outside it on a
 * one-minute schedule, least-privilege permissions, the metric the scaling policy reads, and zero unacknowledged
 * cdk-nag findings (AwsSolutions, with CDK's built-in template validation, as the app runs them).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { applySecurityChecks } from '../../lib/checks/security-checks';
import { BacklogMetric, BACKLOG_METRIC_NAMESPACE } from '../../lib/scale/backlog/backlog-metric';
import { compiledBacklogRuntime } from '../../lib/scale/backlog/runtime-asset';
import { cdkJsonContext } from '../helpers/app';
import { tempDir } from '../helpers/temp-dirs';
import { Report, synthWithReport } from '../helpers/validation-report';

const SERVICE_ARN = 'arn:aws:ecs:eu-west-1:123456789012:service/geuse-demo/geuse-demo-workers';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:geusemaker/demo/queue-auth-token-AbCdEf';

function build(): { app: App; stack: Stack; backlog: BacklogMetric; functionSg: ec2.SecurityGroup } {
  const app = new App({ outdir: tempDir('gm-backlog-'), context: cdkJsonContext() });
  applySecurityChecks(app);
  const stack = new Stack(app, 'GeuseScale-demo', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    natGateways: 0,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
  });
  new ec2.FlowLog(stack, 'FlowLog', { resourceType: ec2.FlowLogResourceType.fromVpc(vpc) });
  const functionSg = new ec2.SecurityGroup(stack, 'BacklogSg', { vpc, description: 'backlog reader', allowAllOutbound: false });
  const workerService = ecs.FargateService.fromServiceArnWithCluster(stack, 'Workers', SERVICE_ARN);
  const backlog = new BacklogMetric(stack, 'Backlog', {
    deploymentName: 'demo',
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroup: functionSg,
    redisHost: 'master.geuse-demo.abc123.euw1.cache.amazonaws.com',
    redisPort: 6379,
    authToken: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', SECRET_ARN),
    workerService,
  });
  return { app, stack, backlog, functionSg };
}

let built: ReturnType<typeof build>;
let template: Template;
let report: Report;
let error: Error | undefined;

beforeAll(() => {
  built = build();
  template = Template.fromStack(built.stack);
  ({ error, report } = synthWithReport(built.app, built.app.outdir));
});

const readerArn = () => ({ 'Fn::GetAtt': [built.stack.getLogicalId(built.backlog.reader.node.defaultChild as CfnFunction), 'Arn'] });

const fn = (handler: string) => {
  const found = template.findResources('AWS::Lambda::Function', { Properties: { Handler: handler } });
  expect(Object.keys(found)).toHaveLength(1);
  return Object.values(found)[0].Properties;
};

const policyOf = (logicalIdPrefix: string) => {
  const policies = template.findResources('AWS::IAM::Policy');
  const entries = Object.entries(policies).filter(([id]) => id.startsWith(logicalIdPrefix));
  expect(entries).toHaveLength(1);
  return entries[0][1].Properties.PolicyDocument.Statement as Array<Record<string, unknown>>;
};

test('the reader runs in the VPC\'s isolated subnets with the given security group, and talks to Valkey over TLS', () => {
  const reader = fn('reader.handler');
  expect(reader.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [built.stack.getLogicalId(built.functionSg.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }]);
  const isolated = built.backlog.reader.isBoundToVpc && (built.stack.node.findChild('Vpc') as ec2.Vpc).isolatedSubnets.map((s) => ({ Ref: built.stack.getLogicalId(s.node.defaultChild as ec2.CfnSubnet) }));
  expect(reader.VpcConfig.SubnetIds).toEqual(isolated);
  expect(reader.Environment.Variables).toEqual({
    REDIS_HOST: 'master.geuse-demo.abc123.euw1.cache.amazonaws.com', REDIS_PORT: '6379', REDIS_TLS: 'true', QUEUE_BULL_PREFIX: 'bull', REDIS_TIMEOUT_MS: '3000',
  });
  expect(reader.Runtime).toBe('nodejs24.x');
  // No secret in any function's configuration: the token reaches the reader only in the publisher's Invoke payload.
  expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toMatch(/resolve:secretsmanager/);
});

test('the publisher runs outside the VPC (no NAT gateway, no interface endpoint needed) every minute, with no retries', () => {
  const publisher = fn('publisher.handler');
  expect(publisher.VpcConfig).toBeUndefined();
  expect(publisher.Environment.Variables).toEqual({
    READER_FUNCTION: readerArn(),
    AUTH_TOKEN_SECRET: SECRET_ARN,
    ECS_CLUSTER: 'arn:aws:ecs:eu-west-1:123456789012:cluster/geuse-demo',
    ECS_SERVICE: SERVICE_ARN,
    METRIC_NAMESPACE: 'GeuseMaker/Scale',
    DEPLOYMENT: 'demo',
  });
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 minute)',
    State: 'ENABLED',
    Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('BacklogPublisher'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
  });
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  template.resourceCountIs('AWS::EC2::NatGateway', 0);
});

test('least privilege: the publisher reads one secret, describes one service, invokes one function, publishes to one namespace', () => {
  const statements = policyOf('BacklogPublisherServiceRoleDefaultPolicy');
  expect(statements).toEqual([
    { Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: SECRET_ARN },
    { Sid: 'InvokeBacklogReader', Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: readerArn() },
    { Sid: 'ReadWorkerRunningCount', Action: 'ecs:DescribeServices', Effect: 'Allow', Resource: SERVICE_ARN },
    { Sid: 'PublishBacklogMetric', Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'GeuseMaker/Scale' } } },
  ]);
  // The reader's role has no inline policy at all: it calls no AWS API.
  expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => id.startsWith('BacklogReader'))).toEqual([]);
});

test('the metric for the scaling policy: BacklogPerWorker, maximum over one minute, dimension Deployment', () => {
  const { metric, waitingMetric } = built.backlog;
  expect(metric.namespace).toBe(BACKLOG_METRIC_NAMESPACE);
  expect(metric.metricName).toBe('BacklogPerWorker');
  expect(metric.statistic).toBe('Maximum');
  expect(metric.period.toSeconds()).toBe(60);
  expect(metric.dimensions).toEqual({ Deployment: 'demo' });
  expect(waitingMetric.metricName).toBe('WaitingJobs');
});

test('logs kept a month, then gone with the stack', () => {
  template.resourceCountIs('AWS::Logs::LogGroup', 3); // the reader's, the publisher's, and the test VPC's flow log
  template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  expect(Object.values(template.findResources('AWS::Logs::LogGroup')).filter((r) => r.Properties.RetentionInDays === 30)).toHaveLength(2);
});

test('cdk-nag AwsSolutions and the built-in validation: zero unacknowledged findings, each acknowledgment with a reason', () => {
  expect(error).toBeUndefined();
  for (const plugin of report.pluginReports) expect(plugin.violations).toEqual([]);
  const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions')!;
  const ours = (nag.suppressedViolations ?? []).filter((a) => a.acknowledgedAt.includes('/Backlog/'));
  expect(ours.map((a) => `${a.acknowledgedAt.replace(/^GeuseScale-demo\/Backlog\//, '')} ${a.ruleName}`).sort()).toEqual([
    'Publisher/ServiceRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Publisher/ServiceRole AwsSolutions-IAM5[Resource::*]',
    'Reader/ServiceRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'Reader/ServiceRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
  ]);
  for (const a of ours) expect(a.reason.length).toBeGreaterThan(40);
});

test('the function code is compiled at synthesis from runtime/*.ts into plain CommonJS, the same sources giving the same folder', () => {
  const dir = compiledBacklogRuntime();
  expect(compiledBacklogRuntime()).toBe(dir);
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort()).toEqual(['aws.js', 'backlog.js', 'publisher.js', 'reader.js', 'resp.js']);
  const reader = fs.readFileSync(path.join(dir, 'reader.js'), 'utf8');
  expect(reader).toMatch(/exports\.handler = handler/);
  expect(reader).toMatch(/require\("\.\/resp"\)/);
  // Only Node's own modules and the runtime's AWS SDK are required.
  const requires = fs.readdirSync(dir).filter((f) => f.endsWith('.js'))
    .flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]));
  expect(new Set(requires)).toEqual(new Set(['node:net', 'node:tls', './backlog', './resp', './reader', './aws']));
  const aws = fs.readFileSync(path.join(dir, 'aws.js'), 'utf8');
  expect([...aws.matchAll(/'(@aws-sdk\/[a-z-]+)'/g)].map((m) => m[1]).sort()).toEqual(['@aws-sdk/client-cloudwatch', '@aws-sdk/client-ecs', '@aws-sdk/client-lambda', '@aws-sdk/client-secrets-manager']);
});
