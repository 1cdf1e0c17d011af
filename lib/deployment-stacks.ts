import { Stage } from 'aws-cdk-lib';
import { Tier, computeStackName, dataStackName } from '../ops/src/contract';
import { DeploymentConfig } from './config/load-config';
import { GeuseDataStack } from './data/data-stack';
import { GeuseComputeStack, GeuseComputeStackProps } from './tiers/compute-stack';
import { GeuseAutomationStack } from './tiers/automation-stack';
import { GeuseDevStack } from './tiers/dev-stack';
import { GeuseGpuStack } from './tiers/gpu-stack';

type ComputeStackClass = new (scope: Stage, id: string, props: GeuseComputeStackProps) => GeuseComputeStack;

const COMPUTE_STACKS: Record<Tier, ComputeStackClass> = {
  dev: GeuseDevStack,
  automation: GeuseAutomationStack,
  gpu: GeuseGpuStack,
};

export interface DeploymentStacks {
  readonly data: GeuseDataStack;
  readonly compute: GeuseComputeStack;
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
    description: `GeuseMaker ${config.name}: VPC, retained EFS and secrets`,
  });
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
