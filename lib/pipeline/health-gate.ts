import { CfnOutput, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { OUTPUT_KEYS, TAG_KEYS, TIERS, Tier, computeStackName, dataStackName, scaleDataStackName } from '../../ops/src/contract';
import { PipelineEnvironmentConfig } from '../config/pipeline-schema';
import { GeuseComputeStack } from '../tiers/compute-stack';

/** The gate script, relative to the repository root (the gate runs on a checkout of the source). */
export const HEALTH_GATE_SCRIPT = 'lib/pipeline/health-gate.sh';

/** Environment variable carrying the compute stack's AutoScalingGroupName output into the gate. */
export const AUTO_SCALING_GROUP_ENV = 'GM_AUTO_SCALING_GROUP';

/**
 * The fixed name of a cross-account gate's role (at most 11 + 31 + 1 + 20 = 63 characters), so the role in the
 * environment's account can trust exactly this principal: `arn:aws:iam::<pipeline account>:role/<this name>`.
 */
export function healthGateRoleName(pipeline: string, environment: string): string {
  return `geuse-gate-${pipeline}-${environment}`;
}

/** Seconds between the gate's probes. */
export const HEALTH_GATE_INTERVAL_SECONDS = 30;

/**
 * What `gm-ops health <deployment>` calls, and nothing more, in the deployment's account and region:
 * - DescribeStacks on the deployment's possible stack names (gm-ops looks every tier up by name;
 *   access denied on a tier that does not exist would fail it), DescribeStackEvents to explain a failed stack;
 * - DescribeAutoScalingGroups and DescribeInstances to find the host (neither supports resource-level permissions);
 * - SendCommand of AWS-RunShellScript, on instances tagged geuse:deployment=<deployment> only;
 * - DescribeInstanceInformation (is the SSM agent online) and GetCommandInvocation (the probe's output),
 *   neither of which supports resource-level permissions.
 *
 * For a cross-account environment these are the permissions the role named by healthGate.roleArn needs.
 */
export function healthGatePolicyStatements(deployment: string, account: string, region: string, partition: string, tier?: Tier): iam.PolicyStatement[] {
  const stackArns = [dataStackName(deployment), scaleDataStackName(deployment), ...TIERS.map((t) => computeStackName(t, deployment))]
    .map((name) => `arn:${partition}:cloudformation:${region}:${account}:stack/${name}/*`);
  // gm-ops health of a scale deployment also reads its ECS services, database, queue and backlog metric.
  const scale = tier === 'scale' ? [new iam.PolicyStatement({
    sid: 'ReadScaleServices',
    actions: ['ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks', 'rds:DescribeDBInstances', 'elasticache:DescribeReplicationGroups', 'cloudwatch:GetMetricData'],
    resources: ['*'],
  })] : [];
  return [
    ...scale,
    new iam.PolicyStatement({
      sid: 'ReadDeploymentStacks',
      actions: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents'],
      resources: stackArns,
    }),
    new iam.PolicyStatement({
      sid: 'FindHostAndReadProbe',
      actions: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'RunProbeDocument',
      actions: ['ssm:SendCommand'],
      resources: [`arn:${partition}:ssm:${region}::document/AWS-RunShellScript`],
    }),
    new iam.PolicyStatement({
      sid: 'RunProbeOnDeploymentHost',
      actions: ['ssm:SendCommand'],
      resources: [`arn:${partition}:ec2:${region}:${account}:instance/*`],
      conditions: { StringEquals: { [`ssm:resourceTag/${TAG_KEYS.deployment}`]: deployment } },
    }),
  ];
}

const WILDCARD_REASONS: Record<string, string> = {
  ReadDeploymentStacks: 'A stack ARN ends with the id CloudFormation generates; the wildcard covers only that id, the stack name is fixed to this deployment.',
  FindHostAndReadProbe: 'autoscaling:DescribeAutoScalingGroups, ec2:DescribeInstances, ssm:DescribeInstanceInformation and ssm:GetCommandInvocation support no resource-level permissions; they only read.',
  ReadScaleServices: 'Read-only calls of gm-ops health on a scale deployment; their resources (service, task, instance and replication group ids) are generated at deploy time, and cloudwatch:GetMetricData supports no resource-level permissions.',
  RunProbeOnDeploymentHost: 'The host is replaced by its auto scaling group, so its instance id is unknown in advance; SendCommand is limited to instances tagged with this deployment (ssm:resourceTag condition).',
};

export interface HealthGateProps {
  readonly environment: PipelineEnvironmentConfig;
  /** The pipeline's name (the cross-account gate role's name). */
  readonly pipeline: string;
  /** The checkout the gate installs (`npm ci`) and runs the script from. */
  readonly source: pipelines.IFileSetProducer;
  /** The compute stack deployed by the stage; its AutoScalingGroupName output feeds the gate. */
  readonly compute: GeuseComputeStack;
}

/**
 * The post-deployment gate of one stage: a CodeBuild step running `gm-ops health` against the stage's deployment,
 * with its own role limited to what the probe needs. The pipeline adds to that role only what every CodeBuild
 * action needs (its logs, its report groups, reading its input artifact).
 */
export class HealthGate extends Construct {
  public readonly step: pipelines.CodeBuildStep;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HealthGateProps) {
    super(scope, id);
    const { environment, compute } = props;
    const deployment = environment.deployment.name;
    const roleArn = environment.healthGate.roleArn;

    this.role = new iam.Role(this, 'Role', {
      roleName: roleArn !== undefined ? healthGateRoleName(props.pipeline, environment.name) : undefined,
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `GeuseMaker pipeline health gate of ${deployment} (${environment.account}/${environment.region}): read its stacks and host, probe it through SSM`,
    });
    if (roleArn !== undefined) {
      // Cross-account: the gate works in the environment's account through that role only (see healthGatePolicyStatements).
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'AssumeHealthGateRole', actions: ['sts:AssumeRole'], resources: [roleArn] }));
    } else {
      const stack = Stack.of(this);
      for (const statement of healthGatePolicyStatements(deployment, environment.account, environment.region, stack.partition, environment.deployment.tier)) {
        this.role.addToPrincipalPolicy(statement);
      }
      // Each wildcard of those statements, as cdk-nag prints it, with the reason of its statement.
      const nagPartition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
      const acknowledgments = healthGatePolicyStatements(deployment, environment.account, environment.region, nagPartition, environment.deployment.tier)
        .flatMap((statement) => statement.resources.filter((r) => r.includes('*')).map((resource) => ({
          id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
          reason: WILDCARD_REASONS[statement.sid ?? ''],
        })));
      Validations.of(this.role).acknowledge(...acknowledgments);
    }

    const asgOutput = compute.node.tryFindChild(OUTPUT_KEYS.autoScalingGroupName);
    if (!(asgOutput instanceof CfnOutput)) {
      throw new Error(`${compute.stackName}: no ${OUTPUT_KEYS.autoScalingGroupName} output to feed the health gate`);
    }

    this.step = new pipelines.CodeBuildStep('HealthGate', {
      input: props.source,
      role: this.role,
      env: {
        GM_DEPLOYMENT: deployment,
        GM_REGION: environment.region,
        GM_HEALTH_ATTEMPTS: String(environment.healthGate.attempts),
        GM_HEALTH_INTERVAL_SECONDS: String(HEALTH_GATE_INTERVAL_SECONDS),
        ...(roleArn !== undefined ? { GM_HEALTH_ROLE_ARN: roleArn } : {}),
      },
      envFromCfnOutputs: { [AUTO_SCALING_GROUP_ENV]: asgOutput },
      installCommands: ['npm ci'],
      commands: [`sh ${HEALTH_GATE_SCRIPT}`],
      timeout: Duration.minutes(30),
    });
  }
}
