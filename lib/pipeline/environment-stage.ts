import { Stage, StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DeploymentStacks, addDeploymentStacks } from '../deployment-stacks';
import { PipelineEnvironmentConfig, availabilityZonesContextKey } from '../config/pipeline-schema';

export interface GeuseEnvironmentStageProps extends StageProps {
  readonly environment: PipelineEnvironmentConfig;
}

/**
 * One environment of a promotion pipeline: the deployment's data stack and compute stack, exactly as
 * `cdk deploy` would create them (same constructs, same stack names), in the environment's account and region.
 * cdk-nag reaches these stacks from the App: with cdk-nag v3 a plugin registered on the App checks the whole construct
 * tree, nested stages included (test/pipeline proves it with a canary); registering it here again would only report
 * every finding of the app once more per stage.
 */
export class GeuseEnvironmentStage extends Stage {
  public readonly environment: PipelineEnvironmentConfig;
  public readonly stacks: DeploymentStacks;

  constructor(scope: Construct, id: string, props: GeuseEnvironmentStageProps) {
    super(scope, id, {
      ...props,
      env: { account: props.environment.account, region: props.environment.region },
    });
    this.environment = props.environment;
    // No look-up at synthesis: the VPC's availability zones come from the config (or cdk.context.json already).
    if (props.environment.availabilityZones !== undefined) {
      this.node.setContext(availabilityZonesContextKey(props.environment.account, props.environment.region), [...props.environment.availabilityZones]);
    }
    this.stacks = addDeploymentStacks(this, props.environment.deployment);
  }
}
