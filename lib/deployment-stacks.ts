import { Stage } from 'aws-cdk-lib';
import { DRILL_CONTEXT_KEY, Tier, computeStackName, dataStackName, scaleDataStackName } from '../ops/src/contract';
import { DeploymentConfig } from './config/load-config';
import { GeuseDataStack } from './data/data-stack';
import { GeuseComputeStack, GeuseComputeStackProps } from './tiers/compute-stack';
import { GeuseAutomationStack } from './tiers/automation-stack';
import { GeuseDevStack } from './tiers/dev-stack';
import { GeuseGpuStack } from './tiers/gpu-stack';
import { scaleOptions } from './config/scale-schema';
import { GeuseScaleDataStack } from './scale/scale-data-stack';
import { GeuseScaleStack } from './tiers/scale-stack';

type ComputeStackClass = new (scope: Stage, id: string, props: GeuseComputeStackProps) => GeuseComputeStack;

/** The single-host tiers; the scale tier adds its own data stack (see addDeploymentStacks). */
const COMPUTE_STACKS: Record<Exclude<Tier, 'scale'>, ComputeStackClass> = {
  dev: GeuseDevStack,
  automation: GeuseAutomationStack,
  gpu: GeuseGpuStack,
};

export interface DeploymentStacks {
  readonly data: GeuseDataStack;
  readonly compute: GeuseComputeStack;
  /** `GeuseScaleData-<name>` (database and queue), on the scale tier only. */
  readonly scaleData?: GeuseScaleDataStack;
}

/** The data stack and the one compute stack of a deployment, in `scope` (an App or a pipeline Stage). */
export function addDeploymentStacks(scope: Stage, config: DeploymentConfig): DeploymentStacks {
  const env = config.env ? { account: config.env.account, region: config.env.region } : undefined;
  const data = new GeuseDataStack(scope, dataStackName(config.name), {
    // Explicit: inside a pipeline Stage the default name would be prefixed with the stage's name.
    stackName: dataStackName(config.name),
    deployment: config.name,
    env,
    vpcId: config.vpcId,
    retainedFileSystemId: config.retainedData?.fileSystemId,
    backUpDaily: scope.node.tryGetContext(DRILL_CONTEXT_KEY) !== config.name,
    description: `GeuseMaker ${config.name}: VPC, retained EFS and secrets`,
  });
  if (config.tier === 'scale') {
    const scaleData = new GeuseScaleDataStack(scope, scaleDataStackName(config.name), {
      stackName: scaleDataStackName(config.name),
      deployment: config.name,
      data,
      options: scaleOptions(config.scale),
      vpcId: config.vpcId,
      env,
      description: `GeuseMaker ${config.name}: RDS PostgreSQL and Valkey of the scale tier (the database is snapshotted on delete)`,
    });
    const compute = new GeuseScaleStack(scope, computeStackName(config.tier, config.name), {
      stackName: computeStackName(config.tier, config.name),
      config,
      data,
      scaleData,
      env,
      description: `GeuseMaker ${config.name}: scale tier (n8n in queue mode on ECS, the AI host)`,
    });
    return { data, compute, scaleData };
  }
  const ComputeStack = COMPUTE_STACKS[config.tier];
  const compute = new ComputeStack(scope, computeStackName(config.tier, config.name), {
    stackName: computeStackName(config.tier, config.name),
    config,
    data,
    env,
    description: `GeuseMaker ${config.name}: ${config.tier} tier host`,
  });
  return { data, compute };
}
