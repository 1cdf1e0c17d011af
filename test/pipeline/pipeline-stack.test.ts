import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { joinAsSub } from '../../lib/pipeline/action-role-arns';
import { matchConnectionPermissionToArn } from '../../lib/pipeline/connection-permission';
import { AUTO_SCALING_GROUP_ENV, HEALTH_GATE_SCRIPT } from '../../lib/pipeline/health-gate';
import { NOTIFIED_EVENTS } from '../../lib/pipeline/notifications';
import { SYNTH_COMMANDS, cdkCliVersion } from '../../lib/pipeline/pipeline-stack';
import { GeuseDevStack } from '../../lib/tiers/dev-stack';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { tempDir } from '../helpers/temp-dirs';
import { EXAMPLE_PIPELINE, PIPELINE_ACCOUNT, SynthesizedPipeline, manifests, nagReport, synthPipeline } from './helpers';

type Resource = { Type: string; Properties: Record<string, any> };
type Action = { Name: string; RunOrder: number; ActionTypeId: { Category: string; Provider: string }; Configuration?: Record<string, any>; Namespace?: string; InputArtifacts?: Array<{ Name: string }>; OutputArtifacts?: Array<{ Name: string }> };
type PipelineStage = { Name: string; Actions: Action[] };

const ENVIRONMENTS = [
  { stage: 'dev', deployment: 'team-dev' },
  { stage: 'staging', deployment: 'team-staging' },
  { stage: 'prod', deployment: 'team' },
];

let synthesized: SynthesizedPipeline;
let template: Template;
let resources: Record<string, Resource>;
let stages: PipelineStage[];

beforeAll(() => {
  synthesized = synthPipeline('team', EXAMPLE_PIPELINE);
  template = Template.fromStack(synthesized.stack);
  resources = template.toJSON().Resources;
  stages = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages;
});

const stage = (name: string) => {
  const found = stages.find((s) => s.Name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const logicalIdOf = (value: unknown): string => {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']![0];
};
const policyStatementsOfRole = (roleLogicalId: string): Array<Record<string, any>> =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((role: unknown) => logicalIdOf(role) === roleLogicalId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('the real pipeline app synthesizes, offline, with zero unacknowledged findings', () => {
  test('synthesis passes every check (cdk-nag AwsSolutions over the pipeline stack and every stage, built-in validation)', () => {
    expect(synthesized.error).toBeUndefined();
    for (const plugin of synthesized.report.pluginReports) expect(plugin.violations).toEqual([]);
  });

  test('cdk-nag really ran over the pipeline, and each acknowledgment has a reason at a construct below the stack', () => {
    const nag = nagReport(synthesized.report);
    const acknowledged = nag.suppressedViolations ?? [];
    const inPipeline = acknowledged.filter((a) => a.acknowledgedAt.startsWith('GeusePipeline-team/'));
    expect(inPipeline.length).toBeGreaterThan(10);
    for (const a of acknowledged) {
      expect(a.reason.length).toBeGreaterThan(40);
      expect(a.acknowledgedAt.split('/').length).toBeGreaterThan(1);
      expect(a.acknowledgedAt).not.toBe('GeusePipeline-team');
    }
    // The findings CDK Pipelines is known to raise are among them, each where it occurs.
    const rules = new Set(inPipeline.map((a) => `${a.ruleName}@${a.acknowledgedAt}`));
    expect(rules).toContain('AwsSolutions-S1@GeusePipeline-team/Pipeline/Pipeline/ArtifactsBucket');
    expect(rules).toContain('AwsSolutions-CB4@GeusePipeline-team/Pipeline/Pipeline/Build/Synth/CdkBuildProject');
    expect(rules).toContain('AwsSolutions-IAM5[Resource::*]@GeusePipeline-team/HealthGate-dev/Role');
  });

  test('no context look-up is pending anywhere in the assembly, nested stage assemblies included', () => {
    const all = manifests(synthesized.outdir);
    expect(all.length).toBe(4);
    for (const { manifest } of all) expect(manifest.missing ?? []).toEqual([]);
  });

  test('each stage deploys the deployment\'s two stacks by their contract names into the environment\'s account and region', () => {
    const stacks = manifests(synthesized.outdir).slice(1).flatMap(({ manifest }) => Object.values(manifest.artifacts)
      .filter((a) => a.type === 'aws:cloudformation:stack')
      .map((a) => [a.properties?.stackName, a.environment]));
    expect(stacks.sort()).toEqual([
      ['GeuseData-team', `aws://${PIPELINE_ACCOUNT}/eu-west-1`],
      ['GeuseData-team-dev', `aws://${PIPELINE_ACCOUNT}/eu-west-1`],
      ['GeuseData-team-staging', `aws://${PIPELINE_ACCOUNT}/eu-west-1`],
      ['GeuseDev-team', `aws://${PIPELINE_ACCOUNT}/eu-west-1`],
      ['GeuseDev-team-dev', `aws://${PIPELINE_ACCOUNT}/eu-west-1`],
      ['GeuseDev-team-staging', `aws://${PIPELINE_ACCOUNT}/eu-west-1`],
    ]);
    for (const s of synthesized.stack.stages) expect(s.stacks.compute).toBeInstanceOf(GeuseDevStack);
    expect(synthesized.stack.stages.map((s) => s.stacks.compute.config.market)).toEqual(['spot', 'on-demand', 'on-demand']);
  });

  test('the pipeline stack is GeusePipeline-<name>, pinned to the pipeline\'s account and region', () => {
    expect(synthesized.stack.stackName).toBe('GeusePipeline-team');
    expect([synthesized.stack.account, synthesized.stack.region]).toEqual([PIPELINE_ACCOUNT, 'eu-west-1']);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'GeusePipeline-team', PipelineType: 'V2' });
  });
});

describe('stages and promotion order', () => {
  test('Source, Build, UpdatePipeline, Assets, then dev, staging, prod', () => {
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'dev', 'staging', 'prod']);
  });

  test('the source is the CodeStar connection of the configured repository and branch', () => {
    const [source] = stage('Source').Actions;
    expect(source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source.Configuration).toMatchObject({ ConnectionArn: EXAMPLE_PIPELINE.source.connectionArn, FullRepositoryId: 'my-org/geusemaker', BranchName: 'main' });
  });

  test('the source may use the connection through the action of the ARN\'s own service: codeconnections:UseConnection on a codeconnections ARN (cfn-lint I3510)', () => {
    const statements = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy').flatMap((r) => r.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    const useConnection = statements.filter((st) => asList(st.Action).some((a: string) => a.endsWith(':UseConnection')));
    expect(useConnection).toEqual([{ Action: 'codeconnections:UseConnection', Effect: 'Allow', Resource: EXAMPLE_PIPELINE.source.connectionArn }]);
    expect(JSON.stringify(resources)).not.toContain('codestar-connections:');
  });

  test('every deploy action names its CloudFormation execution role with Fn::Sub, never Fn::Join (cfn-lint E3703)', () => {
    const roleArns = stages.flatMap((st) => st.Actions).map((a) => a.Configuration?.RoleArn).filter((arn) => arn !== undefined);
    expect(roleArns.length).toBe(ENVIRONMENTS.length * 2);
    for (const roleArn of roleArns) {
      expect(roleArn).toEqual({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${PIPELINE_ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${PIPELINE_ACCOUNT}-eu-west-1` });
    }
  });

  test('the synth step runs the README\'s install and test commands, then cdk synth; self-mutation uses the pinned CDK CLI', () => {
    const [synth] = stage('Build').Actions;
    const project = resources[synth.Configuration!.ProjectName.Ref];
    const spec = JSON.parse(project.Properties.Source.BuildSpec);
    expect(spec.phases.build.commands).toEqual([...SYNTH_COMMANDS]);
    expect(spec.phases.install['runtime-versions']).toEqual({ nodejs: '20' });
    // npm test needs nothing beyond Node (shellcheck belongs to `npm run lint`), so nothing else is installed.
    expect(spec.phases.install.commands ?? []).toEqual([]);
    expect(spec.artifacts['base-directory']).toBe('cdk.out');

    const [selfMutate] = stage('UpdatePipeline').Actions;
    const mutation = JSON.parse(resources[selfMutate.Configuration!.ProjectName.Ref].Properties.Source.BuildSpec);
    const pinned = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).devDependencies['aws-cdk'];
    expect(cdkCliVersion()).toBe(pinned);
    expect(mutation.phases.install.commands).toEqual([`npm install -g aws-cdk@${pinned}`]);
    expect(mutation.phases.build.commands).toEqual(['cdk -a . deploy GeusePipeline-team --require-approval=never --verbose']);
  });

  test('a manual approval runs first in prod, before every one of prod\'s deploy actions; none elsewhere', () => {
    const prod = stage('prod').Actions;
    const approvals = prod.filter((a) => a.ActionTypeId.Category === 'Approval');
    expect(approvals).toHaveLength(1);
    const deploys = prod.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
    expect(deploys.length).toBe(4);
    expect(Math.min(...deploys.map((a) => a.RunOrder))).toBeGreaterThan(approvals[0].RunOrder);
    expect(approvals[0].Configuration?.CustomData).toMatch(/Promote team \(dev tier\) to prod in 111111111111\/eu-west-1/);
    for (const name of ['dev', 'staging']) expect(stage(name).Actions.filter((a) => a.ActionTypeId.Category === 'Approval')).toEqual([]);
  });

  test('no cross-account KMS key when every environment is in the pipeline\'s account', () => {
    const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0];
    expect(pipeline.Properties.ArtifactStore.EncryptionKey).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::KMS::Key'))).toHaveLength(1); // the notifications key only
  });
});

describe.each(ENVIRONMENTS)('the health gate of $stage', ({ stage: stageName, deployment }) => {
  let gate: Action;
  let project: Resource;
  let statements: Array<Record<string, any>>;
  beforeAll(() => {
    gate = stage(stageName).Actions.find((a) => a.Name === 'HealthGate')!;
    project = resources[gate.Configuration!.ProjectName.Ref];
    statements = policyStatementsOfRole(logicalIdOf(project.Properties.ServiceRole));
  });

  test('runs after every deploy action of its stage', () => {
    const deploys = stage(stageName).Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
    expect(gate.ActionTypeId.Provider).toBe('CodeBuild');
    expect(gate.RunOrder).toBeGreaterThan(Math.max(...deploys.map((a) => a.RunOrder)));
  });

  test('gets the AutoScalingGroupName output of the compute stack deployed in its own stage', () => {
    const computeDeploy = stage(stageName).Actions.find((a) => a.Name === `GeuseDev-${deployment}.Deploy`)!;
    expect(computeDeploy.Configuration!.StackName).toBe(`GeuseDev-${deployment}`);
    expect(computeDeploy.Namespace).toBeDefined();
    expect(JSON.parse(gate.Configuration!.EnvironmentVariables)).toContainEqual({
      name: AUTO_SCALING_GROUP_ENV, type: 'PLAINTEXT', value: `#{${computeDeploy.Namespace}.${OUTPUT_KEYS.autoScalingGroupName}}`,
    });
  });

  test('installs the repository from the source artifact and runs gm-ops health through the gate script against its deployment', () => {
    const sourceArtifact = stage('Source').Actions[0].OutputArtifacts![0].Name;
    expect(gate.InputArtifacts).toEqual([{ Name: sourceArtifact }]);
    const spec = JSON.parse(project.Properties.Source.BuildSpec);
    expect(spec.phases.install.commands).toEqual(['npm ci']);
    expect(spec.phases.build.commands).toEqual([`sh ${HEALTH_GATE_SCRIPT}`]);
    expect(fs.readFileSync(path.join(__dirname, '..', '..', HEALTH_GATE_SCRIPT), 'utf8')).toMatch(/npx --no gm-ops health "\$GM_DEPLOYMENT" --region "\$GM_REGION" --json/);
    const env = Object.fromEntries(project.Properties.Environment.EnvironmentVariables.map((v: { Name: string; Value: string }) => [v.Name, v.Value]));
    expect(env).toEqual({ GM_DEPLOYMENT: deployment, GM_REGION: 'eu-west-1', GM_HEALTH_ATTEMPTS: '3', GM_HEALTH_INTERVAL_SECONDS: '30' });
  });

  test('its role may only read this deployment\'s stacks and host and run the probe document on this deployment\'s host', () => {
    const own = statements.filter((s) => s.Sid !== undefined);
    expect(own).toEqual([
      {
        Sid: 'ReadDeploymentStacks',
        Effect: 'Allow',
        Action: ['cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks'],
        Resource: ['GeuseAutomation', 'GeuseData', 'GeuseDev', 'GeuseGpu', 'GeuseScale', 'GeuseScaleData'].map((prefix) => `arn:aws:cloudformation:eu-west-1:${PIPELINE_ACCOUNT}:stack/${prefix}-${deployment}/*`),
      },
      {
        Sid: 'FindHostAndReadProbe',
        Effect: 'Allow',
        Action: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation'],
        Resource: '*',
      },
      { Sid: 'RunProbeDocument', Effect: 'Allow', Action: 'ssm:SendCommand', Resource: 'arn:aws:ssm:eu-west-1::document/AWS-RunShellScript' },
      {
        Sid: 'RunProbeOnDeploymentHost',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: `arn:aws:ec2:eu-west-1:${PIPELINE_ACCOUNT}:instance/*`,
        Condition: { StringEquals: { 'ssm:resourceTag/geuse:deployment': deployment } },
      },
    ]);
  });

  test('beyond that, only what CodeBuild itself needs: its logs, its report groups, reading the pipeline\'s artifacts', () => {
    const others = statements.filter((s) => s.Sid === undefined);
    const actions = others.flatMap((s) => asList(s.Action)).sort();
    expect(actions).toEqual([
      'codebuild:BatchPutCodeCoverages', 'codebuild:BatchPutTestCases', 'codebuild:CreateReport', 'codebuild:CreateReportGroup', 'codebuild:UpdateReport',
      'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:GetBucket*', 's3:GetObject*', 's3:List*',
    ]);
    for (const s of others) expect(s.Effect).toBe('Allow');
    // No write of any kind, no IAM, no wildcard action.
    expect(statements.flatMap((s) => asList(s.Action)).filter((a: string) => /^(iam|sts|cloudformation:(Create|Update|Delete|Execute))|\*$/.test(a) && !a.startsWith('s3:'))).toEqual([]);
  });
});

describe('notifications', () => {
  test('an SNS topic encrypted with its own rotating KMS key, SSL enforced, subscribed by the configured email', () => {
    const keyId = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { EnableKeyRotation: true } }))[0];
    expect(keyId).toBeDefined();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('CodeStar Notifications may publish to the topic and use its key through SNS only', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'codestar-notifications.amazonaws.com' } })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Principal: { Service: 'codestar-notifications.amazonaws.com' },
          Condition: { StringEquals: { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' } },
        })]),
      },
    });
  });

  test('a notification rule on the pipeline: failed executions and approvals waiting, to the topic', () => {
    const pipelineId = Object.keys(template.findResources('AWS::CodePipeline::Pipeline'))[0];
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    const rules = Object.values(template.findResources('AWS::CodeStarNotifications::NotificationRule'));
    expect(rules).toHaveLength(1);
    const rule = rules[0].Properties;
    expect(rule.EventTypeIds.sort()).toEqual([...NOTIFIED_EVENTS].sort());
    expect(rule.EventTypeIds).toEqual(expect.arrayContaining(['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-manual-approval-needed']));
    expect(JSON.stringify(rule.Resource)).toContain(pipelineId);
    expect(rule.Targets).toEqual([{ TargetType: 'SNS', TargetAddress: { Ref: topicId } }]);
  });
});

// The two rewrites that make the pipeline stack lint clean, on their own.
describe('joinAsSub', () => {
  test('an empty-delimiter Fn::Join of strings, Refs and GetAtts is the same Fn::Sub', () => {
    expect(joinAsSub({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::1:role/', { 'Fn::GetAtt': ['Role', 'Arn'] }]] }))
      .toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::1:role/${Role.Arn}' });
  });

  test('a literal ${ is escaped, so CloudFormation does not substitute it', () => {
    expect(joinAsSub({ 'Fn::Join': ['', ['a${b}', { Ref: 'X' }]] })).toEqual({ 'Fn::Sub': 'a${!b}${X}' });
  });

  test.each([
    ['a plain string', 'arn:aws:iam::1:role/x'],
    ['a join with a delimiter', { 'Fn::Join': [',', ['a', 'b']] }],
    ['a join over another function', { 'Fn::Join': ['', ['a', { 'Fn::ImportValue': 'x' }]] }],
  ])('leaves %s alone', (_case, value) => {
    expect(joinAsSub(value)).toBeUndefined();
  });
});

describe('matchConnectionPermissionToArn', () => {
  const statementsFor = (connectionArn: string) => {
    const stack = new Stack(new App({ outdir: tempDir('gm-app-') }), 'S');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('codepipeline.amazonaws.com') });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codestar-connections:UseConnection'], resources: [connectionArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }));
    matchConnectionPermissionToArn(stack);
    return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  };

  test('a codeconnections ARN gets codeconnections:UseConnection; other statements are untouched', () => {
    const arn = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012';
    expect(statementsFor(arn)).toEqual([
      { Action: 'codeconnections:UseConnection', Effect: 'Allow', Resource: arn },
      { Action: 's3:GetObject', Effect: 'Allow', Resource: 'arn:aws:s3:::bucket/*' },
    ]);
  });

  test('a codestar-connections ARN keeps codestar-connections:UseConnection', () => {
    const arn = 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012';
    expect(statementsFor(arn)[0]).toEqual({ Action: 'codestar-connections:UseConnection', Effect: 'Allow', Resource: arn });
  });
});
