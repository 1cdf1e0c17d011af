import { App } from 'aws-cdk-lib';
import { pipelineStackName } from '../ops/src/contract';
import { applySecurityChecks } from './checks/security-checks';
import { loadDeployments } from './config/load-config';
import { loadPipelines } from './config/pipeline-schema';
import { DeploymentStacks, addDeploymentStacks } from './deployment-stacks';
import { GeusePipelineStack } from './pipeline/pipeline-stack';

/**
 * Builds the whole CDK app from its validated context; throws ConfigError before any construct exists.
 * Declared promotion pipelines (`geusemaker:pipelines`) become `GeusePipeline-<name>` stacks next to the deployments.
 */
export function buildApp(app: App): DeploymentStacks[] {
  const readContext = (key: string) => app.node.tryGetContext(key);
  const deployments = loadDeployments(readContext);
  const pipelines = loadPipelines(readContext, deployments);
  applySecurityChecks(app);
  const stacks = deployments.map((config) => addDeploymentStacks(app, config));
  for (const pipeline of pipelines) {
    new GeusePipelineStack(app, pipelineStackName(pipeline.name), { config: pipeline });
  }
  return stacks;
}
