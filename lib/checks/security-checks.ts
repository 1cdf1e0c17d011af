import { Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AwsSolutions pack over every stack of `stage` during synthesis (cdk-nag v3 plugin API).
 * A finding that is not acknowledged at its construct, with a reason, fails the synthesis.
 * Registered on the App, cdk-nag v3 walks the whole construct tree, stacks inside pipeline stages included
 * (test/pipeline proves it with a canary in a stage); registering it on each stage too would report every
 * finding once more per stage.
 */
export function applySecurityChecks(stage: Stage): void {
  Validations.of(stage).addPlugins(new AwsSolutionsChecks(stage));
}
