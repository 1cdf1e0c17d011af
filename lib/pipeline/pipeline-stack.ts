import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { PipelineConfig, SourceConfig } from '../config/pipeline-schema';
import { writeActionRoleArnsWithSub } from './action-role-arns';
import { matchConnectionPermissionToArn } from './connection-permission';
import { GeuseEnvironmentStage } from './environment-stage';
import { HealthGate } from './health-gate';
import { PipelineNotifications } from './notifications';
import { acknowledgePipelineFindings } from './pipeline-acknowledgments';

/** The README's install and test commands, then the synthesis the pipeline deploys from. */
export const SYNTH_COMMANDS = ['npm ci', 'npm test', 'npx cdk synth'] as const;

/** Node.js major version of every CodeBuild project (the repository's engines: >=20). */
export const NODE_MAJOR = '20';

export interface GeusePipelineStackProps extends StackProps {
  readonly config: PipelineConfig;
}

/**
 * `GeusePipeline-<name>`: a self-mutating CDK Pipeline that builds and tests the repository, then promotes the
 * deployment through its environments in order (default dev -> staging -> approval -> prod). Every environment is a
 * Stage with the deployment's data and compute stacks, followed by a health gate (`gm-ops health`) that fails the
 * stage when a service is unhealthy. Failures and pending approvals go to an encrypted SNS topic.
 */
/** cdk-assets used by the pipeline's asset publishing steps. */
export const CDK_ASSETS_CLI_VERSION = '4.7.3';

export class GeusePipelineStack extends Stack {
  public readonly config: PipelineConfig;
  public readonly pipeline: pipelines.CodePipeline;
  public readonly source: pipelines.CodePipelineSource;
  public readonly stages: readonly GeuseEnvironmentStage[];
  public readonly healthGates: ReadonlyMap<string, HealthGate>;
  public readonly notifications: PipelineNotifications;

  constructor(scope: Construct, id: string, props: GeusePipelineStackProps) {
    super(scope, id, {
      ...props,
      env: { account: props.config.account, region: props.config.region },
      description: props.description ?? `GeuseMaker promotion pipeline ${props.config.name}: ${props.config.environments.map((e) => e.name).join(' -> ')}`,
    });
    const { config } = props;
    this.config = config;
    Tags.of(this).add('geuse:pipeline', config.name);

    this.source = pipelineSource(this, config.source);
    const codeBuildDefaults: pipelines.CodeBuildOptions = {
      buildEnvironment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
      partialBuildSpec: codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': { nodejs: NODE_MAJOR } } } }),
    };
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: id,
      pipelineType: codepipeline.PipelineType.V2,
      // A KMS key and cross-account roles cost money and are only needed when an environment is in another account.
      crossAccountKeys: config.crossAccount,
      enableKeyRotation: config.crossAccount ? true : undefined,
      selfMutation: true,
      cliVersion: cdkCliVersion(),
      // Pinned like the CDK CLI: a new cdk-assets release never changes how a running pipeline publishes.
      cdkAssetsCliVersion: CDK_ASSETS_CLI_VERSION,
      codeBuildDefaults,
      synthCodeBuildDefaults: {
        // jest over the whole repository (CDK synths, bash under stubs) wants more than the small instance.
        buildEnvironment: { computeType: codebuild.ComputeType.MEDIUM },
        timeout: Duration.minutes(45),
      },
      synth: new pipelines.CodeBuildStep('Synth', {
        input: this.source,
        commands: [...SYNTH_COMMANDS],
        primaryOutputDirectory: 'cdk.out',
      }),
    });

    const stages: GeuseEnvironmentStage[] = [];
    const gates = new Map<string, HealthGate>();
    for (const environment of config.environments) {
      const stage = new GeuseEnvironmentStage(this, environment.name, { environment });
      const pre: pipelines.Step[] = [];
      if (environment.approval) {
        pre.push(new pipelines.ManualApprovalStep('Approve', {
          comment: `Promote ${environment.deployment.name} (${environment.deployment.tier} tier) to ${environment.name} in ${environment.account}/${environment.region}?`,
        }));
      }
      const post: pipelines.Step[] = [];
      if (environment.healthGate.enabled) {
        const gate = new HealthGate(this, `HealthGate-${environment.name}`, {
          environment, pipeline: config.name, source: this.source, compute: stage.stacks.compute,
        });
        gates.set(environment.name, gate);
        post.push(gate.step);
      }
      this.pipeline.addStage(stage, { pre, post });
      stages.push(stage);
    }
    this.stages = stages;
    this.healthGates = gates;

    // The underlying CodePipeline exists only from here on: notifications and acknowledgments need its constructs.
    this.pipeline.buildPipeline();
    matchConnectionPermissionToArn(this);
    writeActionRoleArnsWithSub(this.pipeline.pipeline.node.defaultChild as codepipeline.CfnPipeline);
    this.notifications = new PipelineNotifications(this, 'Notifications', {
      pipeline: this.pipeline.pipeline,
      email: config.notifications.email,
    });
    acknowledgePipelineFindings(this);
  }
}

function pipelineSource(scope: Construct, source: SourceConfig): pipelines.CodePipelineSource {
  if (source.type === 'codecommit') {
    const repository = codecommit.Repository.fromRepositoryName(scope, 'Repository', source.repository);
    return pipelines.CodePipelineSource.codeCommit(repository, source.branch);
  }
  return pipelines.CodePipelineSource.connection(source.repository, source.branch, {
    connectionArn: source.connectionArn,
    triggerOnPush: true,
  });
}

/** The CDK CLI the repository pins (root package.json), so self-mutation and asset publishing use the same one as `npm ci`. */
export function cdkCliVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const declared = manifest.devDependencies?.['aws-cdk'];
  const version = declared?.replace(/^[\^~]/, '');
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`package.json: devDependencies["aws-cdk"] = ${JSON.stringify(declared)}: expected an exact CLI version for the pipeline`);
  }
  return version;
}
