import { Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AwsSolutions pack over every stack of `stage` during synthesis (cdk-nag v3 plugin API).
 * A finding that is not acknowledged at its construct, with a reason, fails the synthesis.
 * Register it on each Stage too: plugins on the App do not reach stacks inside nested stages.
 */
export function applySecurityChecks(stage: Stage): void {
  Validations.of(stage).addPlugins(new AwsSolutionsChecks(stage));
}
