import { nagEnv } from '../checks/nag-env';
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import type { GeusePipelineStack } from './pipeline-stack';

/**
 * cdk-nag findings that CDK Pipelines' own constructs raise in the pipeline stack, each acknowledged at the construct
 * that has it (a bucket, a project, a role), with the reason it is acceptable. Anything not listed here still fails
 * synthesis. Called after `buildPipeline()`, when these constructs exist.
 */
export function acknowledgePipelineFindings(stack: GeusePipelineStack): void {
  const codePipeline = stack.pipeline.pipeline;
  const bucket = codePipeline.artifactBucket;
  const bucketArn = `<${logicalIdOf(bucket)}.Arn>`;
  const encrypted = bucket.encryptionKey !== undefined;
  const { partition, region, account } = nagEnv(stack);

  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason: 'The artifact bucket only passes transient pipeline artifacts (source archive, cloud assembly) between the pipeline\'s own roles; CloudTrail records its API use, and a log bucket would need logs of its own.',
  });

  const bucketRead = [
    ack('Action::s3:GetBucket*', 'CDK\'s read grant on the pipeline\'s artifact bucket (s3:GetBucket*/GetObject*/List*): objects of that bucket only.'),
    ack('Action::s3:GetObject*', 'CDK\'s read grant on the pipeline\'s artifact bucket: reading its objects and their versions, that bucket only.'),
    ack('Action::s3:List*', 'CDK\'s read grant on the pipeline\'s artifact bucket: listing that bucket only.'),
    ack(`Resource::${bucketArn}/*`, 'Artifact keys are generated per pipeline execution; the wildcard covers objects of the pipeline\'s own artifact bucket only.'),
  ];
  const bucketWrite = [
    ...bucketRead,
    ack('Action::s3:Abort*', 'CDK\'s write grant on the pipeline\'s artifact bucket: aborting its own multipart uploads of artifacts.'),
    ack('Action::s3:DeleteObject*', 'CDK\'s write grant on the pipeline\'s artifact bucket: replacing artifacts of that bucket only.'),
  ];
  // Granted with the bucket's write access and with each CodeBuild project's encryption key.
  const keyUse = encrypted
    ? [
      ack('Action::kms:GenerateDataKey*', 'CDK\'s grant on the artifact bucket\'s own KMS key (cross-account pipelines): data keys for artifacts, that key only.'),
      ack('Action::kms:ReEncrypt*', 'CDK\'s grant on the artifact bucket\'s own KMS key (cross-account pipelines): re-encryption under that key only.'),
    ]
    : [];

  // Stages in other regions than the pipeline's: CodePipeline needs an artifact bucket in each of them, which CDK
  // puts in a support stack of that region (`<pipeline stack>-support-<region>`).
  const replication: Ack[] = [];
  for (const [supportRegion, support] of Object.entries(codePipeline.crossRegionSupport)) {
    Validations.of(support.replicationBucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: `The replication bucket only carries pipeline artifacts into ${supportRegion} for the stage deployed there; CloudTrail records its API use, and a log bucket would need logs of its own.`,
    });
    replication.push(ack(`Resource::${stack.resolve(support.replicationBucket.arnForObjects('*'))}`,
      `Artifact keys are generated per pipeline execution; objects of the pipeline's replication bucket in ${supportRegion} only.`));
  }
  if (encrypted && replication.length > 0) {
    replication.push(ack('Resource::*',
      'CDK grants the pipeline role the replication buckets\' KMS keys of the other regions, which live in the support stacks there and cannot be referenced by ARN from this stack; only CodePipeline assumes this role.'));
  }

  // The pipeline's role and its source action's role write artifacts.
  acknowledgeAll(codePipeline.role, [...bucketWrite, ...keyUse, ...replication]);
  for (const role of codePipeline.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role && c.node.id === 'CodePipelineActionRole')) {
    acknowledgeAll(role, [...bucketWrite, ...keyUse]);
  }

  // Every CodeBuild project of the pipeline: the synth, self-mutation, asset publishing and the health gates.
  const projects = stack.node.findAll().filter((c): c is codebuild.Project => c instanceof codebuild.Project);
  const synth = stack.pipeline.synthProject;
  const selfMutation = stack.pipeline.selfMutationProject;
  for (const project of projects) {
    const artifactKey = stack.resolve((project.node.defaultChild as codebuild.CfnProject).encryptionKey) as unknown;
    if (!encrypted && (artifactKey === undefined || artifactKey === AWS_MANAGED_S3_KEY)) {
      Validations.of(project).acknowledge({
        id: 'AwsSolutions::AwsSolutions-CB4',
        reason: 'Without a cross-account environment the pipeline has no customer KMS key (crossAccountKeys off, it costs money and nothing needs it); CodeBuild then encrypts its artifacts with the AWS managed S3 key.',
      });
    }
    const role = project.role;
    if (!(role instanceof iam.Role)) continue;
    const projectId = `<${logicalIdOf(project)}>`;
    const writes = project === synth;
    const own = [
      ack(`Resource::arn:${partition}:logs:${region}:${account}:log-group:/aws/codebuild/${projectId}:*`,
        'CodeBuild writes the log streams of this project\'s builds; stream names are generated per build, the log group is the project\'s own.'),
      ack(`Resource::arn:${partition}:codebuild:${region}:${account}:report-group/${projectId}-*`,
        'CodeBuild\'s default report groups of this project (named after it); no test reports are configured, the grant is CDK\'s default for a project.'),
    ];
    acknowledgeAll(role, [...own, ...(writes ? bucketWrite : bucketRead), ...keyUse]);
    if (project === selfMutation) {
      acknowledgeAll(role, [
        ack(`Resource::arn:*:iam::${account}:role/*`,
          'Self-mutation assumes the CDK bootstrap roles (deploy, file- and image-publishing) of this account to run cdk deploy of the pipeline; the statement is limited to roles tagged aws-cdk:bootstrap-role.'),
        ack('Resource::*',
          'cloudformation:DescribeStacks and s3:ListBucket, which the CDK CLI calls before assuming the bootstrap roles to find the bootstrap stack and bucket; read-only.'),
      ]);
    }
  }

  // Asset publishing projects share one role, granted on every asset project of the pipeline by CDK Pipelines.
  const assetRole = stack.pipeline.node.tryFindChild('Assets')?.node.tryFindChild('FileRole');
  if (assetRole instanceof iam.Role) {
    acknowledgeAll(assetRole, [
      ack(`Resource::arn:${partition}:logs:${region}:${account}:log-group:/aws/codebuild/*`,
        'One role serves every asset publishing project of the pipeline (CDK Pipelines); log groups of those projects, created by CodeBuild.'),
      ack(`Resource::arn:${partition}:codebuild:${region}:${account}:report-group/*`,
        'One role serves every asset publishing project of the pipeline (CDK Pipelines); their default report groups.'),
      ack('Resource::*',
        'codebuild:StartBuild/BatchGetBuilds/StopBuild granted by CDK Pipelines to its shared asset role; the role only publishes assets through the bootstrap file-publishing role.'),
      // Reads artifacts only: a read grant on the bucket's key has no wildcard action.
      ...bucketRead,
    ]);
  }
}

/** What CodeBuild uses for a project's artifacts when the pipeline has no customer key. */
const AWS_MANAGED_S3_KEY = 'alias/aws/s3';

interface Ack {
  readonly finding: string;
  readonly reason: string;
}

function ack(finding: string, reason: string): Ack {
  return { finding, reason };
}

function acknowledgeAll(scope: IConstruct, acks: readonly Ack[]): void {
  Validations.of(scope).acknowledge(...acks.map((a) => ({ id: `AwsSolutions::AwsSolutions-IAM5[${a.finding}]`, reason: a.reason })));
}

/** The logical id cdk-nag prints for a construct's resource (`<LogicalId>` in its finding ids). */
function logicalIdOf(construct: IConstruct): string {
  const cfn = construct instanceof CfnResource ? construct : (construct.node.defaultChild as CfnResource);
  return Stack.of(construct).resolve(cfn.logicalId) as string;
}

/** Partition, region and account as cdk-nag prints them in finding ids (literals for an env-specific stack). */
