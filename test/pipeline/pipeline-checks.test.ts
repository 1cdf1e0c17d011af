import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as deploymentStacksModule from '../../lib/deployment-stacks';
import { DeploymentStacks } from '../../lib/deployment-stacks';
import { GeuseAutomationStack } from '../../lib/tiers/automation-stack';
import { GeuseDevStack } from '../../lib/tiers/dev-stack';
import { GeuseGpuStack } from '../../lib/tiers/gpu-stack';
import {
  EXAMPLE_PIPELINE, PIPELINE_ACCOUNT, PROD_ACCOUNT, SynthesizedPipeline, manifests, nagReport, pipelineApp, pipelineStackOf, synthPipeline,
} from './helpers';

const SMALL_PIPELINE = { ...EXAMPLE_PIPELINE, environments: { dev: {} } };

/**
 * A canary inside a stage must exist before CDK Pipelines synthesizes that stage (when the pipeline adds it), so it is
 * added where the real stacks are created: around the real addDeploymentStacks.
 */
function withStageCanary<T>(canary: (stacks: DeploymentStacks) => void, run: () => T): T {
  const original = deploymentStacksModule.addDeploymentStacks;
  const spy = jest.spyOn(deploymentStacksModule, 'addDeploymentStacks').mockImplementation((scope, config) => {
    const stacks = original(scope, config);
    if (!(scope instanceof App)) canary(stacks);
    return stacks;
  });
  try {
    return run();
  } finally {
    spy.mockRestore();
  }
}

describe('canaries: cdk-nag really checks the stacks inside the pipeline\'s stages, and the pipeline stack', () => {
  let result: SynthesizedPipeline;
  beforeAll(() => {
    result = withStageCanary((stacks) => {
      // Inside the dev stage, in the deployment's data stack: a world-open security group.
      const sg = new ec2.SecurityGroup(stacks.data, 'CanaryWideOpen', { vpc: stacks.data.vpc });
      sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22), 'deliberately world-open SSH');
      // In its compute stack: a property CloudFormation does not know (a resource cdk-nag has nothing to say about).
      new CfnResource(stacks.compute, 'Broken', { type: 'AWS::EC2::SecurityGroup', properties: { GroupDescription: 'canary', NotAProperty: true } });
    }, () => synthPipeline('team', SMALL_PIPELINE, (pipeline) => {
      // In the pipeline stack itself: a topic without encryption or SSL.
      new sns.Topic(pipeline, 'CanaryTopic');
    }));
  });

  test('synthesis fails, naming the rules', () => {
    expect(result.error?.message).toMatch(/AwsSolutions-EC23/);
    expect(result.error?.message).toMatch(/AwsSolutions-SNS3/);
    const violations = nagReport(result.report).violations;
    expect(violations.map((v) => v.ruleName).sort()).toEqual(['AwsSolutions-EC23', 'AwsSolutions-SNS3']);
  });

  test('the violation inside the stage is reported at its construct in the stage', () => {
    const ec23 = nagReport(result.report).violations.find((v) => v.ruleName === 'AwsSolutions-EC23')!;
    expect(ec23.violatingConstructs.map((c) => c.constructPath)).toEqual(['GeusePipeline-team/dev/GeuseData-team-dev/CanaryWideOpen/Resource']);
  });

  test('the violation in the pipeline stack is reported there, and nothing else is', () => {
    const violations = nagReport(result.report).violations;
    const paths = violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath));
    expect(new Set(paths)).toEqual(new Set(['GeusePipeline-team/dev/GeuseData-team-dev/CanaryWideOpen/Resource', 'GeusePipeline-team/CanaryTopic/Resource']));
    // One report per finding: the checks are registered once (on the App), not once more per stage.
    expect(result.report.pluginReports.filter((p) => p.pluginName === 'AwsSolutions')).toHaveLength(1);
    expect(violations.find((v) => v.ruleName === 'AwsSolutions-EC23')!.violatingConstructs).toHaveLength(1);
  });

  test('an invalid CloudFormation property inside a stage fails synthesis too (built-in validation)', () => {
    expect(result.error?.message).toMatch(/NotAProperty.*CloudFormation Validate/);
    const builtin = result.report.pluginReports.find((p) => p.pluginName === 'CloudFormation Validate');
    expect(builtin?.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath))).toContain('GeusePipeline-team/dev/GeuseDev-team-dev/Broken');
  });
});

describe('environments in other accounts and regions', () => {
  const roleArn = `arn:aws:iam::${PROD_ACCOUNT}:role/geuse-health-gate`;
  let result: SynthesizedPipeline;
  let template: Template;
  beforeAll(() => {
    result = synthPipeline('team', {
      ...EXAMPLE_PIPELINE,
      environments: {
        dev: {},
        staging: { region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b'] },
        prod: { account: PROD_ACCOUNT, healthGate: { roleArn } },
      },
    });
    template = Template.fromStack(result.stack);
  });

  test('synthesize with zero unacknowledged findings', () => {
    expect(result.error).toBeUndefined();
    for (const plugin of result.report.pluginReports) expect(plugin.violations).toEqual([]);
    for (const { manifest } of manifests(result.outdir)) expect(manifest.missing ?? []).toEqual([]);
  });

  test('cross-account keys: the artifacts are encrypted with a rotating customer KMS key', () => {
    const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0].Properties;
    const stores = pipeline.ArtifactStores as Array<{ Region: string; ArtifactStore: { EncryptionKey?: { Type: string } } }>;
    expect(stores.map((s) => s.Region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    for (const store of stores) expect(store.ArtifactStore.EncryptionKey?.Type).toBe('KMS');
    expect(Object.keys(template.findResources('AWS::KMS::Key', { Properties: { EnableKeyRotation: true } })).length).toBeGreaterThanOrEqual(2);
  });

  test('the stage in another region gets its artifact bucket from a support stack of that region', () => {
    const support = Object.values(manifests(result.outdir)[0].manifest.artifacts)
      .filter((a) => a.type === 'aws:cloudformation:stack' && a.environment === `aws://${PIPELINE_ACCOUNT}/us-east-1`);
    expect(support.map((a) => a.properties?.stackName)).toEqual(['GeusePipeline-team-support-us-east-1']);
  });

  test('prod deploys into its own account through that account\'s CDK deploy role', () => {
    const stages = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages as Array<{ Name: string; Actions: Array<{ Name: string; RoleArn?: unknown; Configuration?: Record<string, unknown> }> }>;
    const deploy = stages.find((s) => s.Name === 'prod')!.Actions.find((a) => a.Name === 'GeuseDev-team.Deploy')!;
    expect(JSON.stringify(deploy.RoleArn)).toContain(`:iam::${PROD_ACCOUNT}:role/cdk-hnb659fds-deploy-role-${PROD_ACCOUNT}-eu-west-1`);
    const stack = manifests(result.outdir).flatMap(({ manifest }) => Object.values(manifest.artifacts)).find((a) => a.properties?.stackName === 'GeuseDev-team')!;
    expect(stack.environment).toBe(`aws://${PROD_ACCOUNT}/eu-west-1`);
  });

  test('the cross-account gate may only assume the configured role in the environment\'s account, and passes it to the script', () => {
    const gate = result.stack.healthGates.get('prod')!;
    const roleId = result.stack.getLogicalId(gate.role.node.defaultChild as CfnResource);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
    expect(statements.filter((s) => s.Sid !== undefined)).toEqual([{ Sid: 'AssumeHealthGateRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]);
    // A fixed name, so the role in the prod account can trust exactly arn:aws:iam::<pipeline account>:role/geuse-gate-team-prod.
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'geuse-gate-team-prod' });
    expect(Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: Match.anyValue() } }))).toEqual([roleId]);
    expect(JSON.stringify(statements)).not.toMatch(/ssm:SendCommand|cloudformation:Describe/);
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project', { Properties: { ServiceRole: { 'Fn::GetAtt': [roleId, 'Arn'] } } }));
    expect(projects).toHaveLength(1);
    expect(projects[0].Properties.Environment.EnvironmentVariables).toContainEqual({ Name: 'GM_HEALTH_ROLE_ARN', Type: 'PLAINTEXT', Value: roleArn });
  });
});

describe('a pipeline on CodeCommit with gates turned off', () => {
  test('synthesizes cleanly; the CodeCommit repository and branch are the source; no gate without healthGate', () => {
    const result = synthPipeline('ops', {
      account: PIPELINE_ACCOUNT,
      region: 'eu-west-1',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      source: { type: 'codecommit', repository: 'geusemaker', branch: 'main' },
      environments: { dev: {}, prod: { healthGate: { enabled: false } } },
    });
    expect(result.error).toBeUndefined();
    const template = Template.fromStack(result.stack);
    const stages = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0].Properties.Stages as Array<{ Name: string; Actions: Array<{ Name: string; ActionTypeId: { Provider: string }; Configuration?: Record<string, unknown> }> }>;
    expect(stages[0].Actions[0]).toMatchObject({ ActionTypeId: { Provider: 'CodeCommit' }, Configuration: { RepositoryName: 'geusemaker', BranchName: 'main' } });
    expect(stages.find((s) => s.Name === 'dev')!.Actions.map((a) => a.Name)).toContain('HealthGate');
    expect(stages.find((s) => s.Name === 'prod')!.Actions.map((a) => a.Name)).not.toContain('HealthGate');
    expect(template.findResources('AWS::SNS::Subscription')).toEqual({});
  });
});

describe('each environment\'s compute stack is of the tier configured for it', () => {
  test('dev, gpu and automation stages hold GeuseDev-, GeuseGpu- and GeuseAutomation- stacks with their resources', () => {
    const certificateArn = 'arn:aws:acm:us-east-1:111111111111:certificate/12345678-1234-1234-1234-123456789012';
    // Built only (not synthesized as an app): the stages' own assemblies exist once the pipeline is built.
    const { app } = pipelineApp({
      team: {
        ...EXAMPLE_PIPELINE,
        environments: {
          dev: {},
          staging: { deployment: { tier: 'gpu' } },
          prod: { deployment: { tier: 'automation', automation: { certificateArn, domainName: 'n8n.example.com' } } },
        },
      },
    });
    const stages = pipelineStackOf(app, 'team').stages;
    expect(stages.map((s) => s.stacks.compute.stackName)).toEqual(['GeuseDev-team-dev', 'GeuseGpu-team-staging', 'GeuseAutomation-team']);
    expect(stages[0].stacks.compute).toBeInstanceOf(GeuseDevStack);
    expect(stages[1].stacks.compute).toBeInstanceOf(GeuseGpuStack);
    expect(stages[2].stacks.compute).toBeInstanceOf(GeuseAutomationStack);
    const prod = stages[2].synth().getStackByName('GeuseAutomation-team');
    expect(prod.environment).toMatchObject({ account: PIPELINE_ACCOUNT, region: 'eu-west-1' });
    expect(Object.values(prod.template.Resources as Record<string, { Type: string }>).map((r) => r.Type))
      .toEqual(expect.arrayContaining(['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::AutoScaling::AutoScalingGroup']));
    const staging = stages[1].synth().getStackByName('GeuseGpu-team-staging');
    expect(Object.values(staging.template.Resources as Record<string, { Type: string }>).map((r) => r.Type)).toContain('AWS::CloudFront::Distribution');
  });
});

test('the workspace wiring the gate relies on: npm ci links the repository\'s own gm-ops', () => {
  // `npm ci` links the ops workspace's gm-ops bin, so `npx --no gm-ops` in the gate runs the repository's own CLI.
  const root = path.join(__dirname, '..', '..');
  expect(JSON.parse(fs.readFileSync(path.join(root, 'ops', 'package.json'), 'utf8')).bin).toEqual({ 'gm-ops': 'bin/gm-ops.js' });
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  expect(lock.packages['node_modules/@geusemaker/ops']).toEqual({ resolved: 'ops', link: true });
  expect(lock.packages.ops.bin).toEqual({ 'gm-ops': 'bin/gm-ops.js' });
});
