/**
 * `health --watch --replace-on-critical`: a deployment whose checks failed three rounds in a row gets its
 * host marked Unhealthy (SetInstanceHealth), so that its auto scaling group replaces it — after a
 * confirmation (or --yes), once per deployment per run.
 */
import { SetInstanceHealthCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { Prompt } from '../context';
import { HEALTH_THRESHOLDS } from './levels';
import type { HealthRound } from './report';

export interface ReplaceOptions {
  readonly autoScaling: AutoScalingClient;
  readonly prompt: Prompt;
  readonly yes: boolean;
  readonly notice: (text: string) => void;
}

export class CriticalReplacer {
  private readonly done = new Set<string>();

  constructor(private readonly options: ReplaceOptions) {}

  /** Acts on the round; `instances` maps each deployment to its current host. */
  async act(round: HealthRound, instances: ReadonlyMap<string, string | undefined>): Promise<void> {
    const failing = new Map<string, string[]>();
    for (const row of round.rows) {
      if (row.level !== 'CRITICAL' || row.consecutiveFailures < HEALTH_THRESHOLDS.criticalAfterFailures) continue;
      failing.set(row.deployment, [...(failing.get(row.deployment) ?? []), row.service]);
    }
    for (const [deployment, services] of failing) {
      const instanceId = instances.get(deployment);
      if (!instanceId || this.done.has(deployment)) continue;
      const reason = `${services.join(', ')} failed ${HEALTH_THRESHOLDS.criticalAfterFailures} checks in a row`;
      const confirmed = this.options.yes || (await this.options.prompt.confirm(`Replace host ${instanceId} of ${deployment} (${reason})?`));
      this.done.add(deployment);
      if (!confirmed) {
        this.options.notice(`${deployment}: host ${instanceId} not replaced (not confirmed)`);
        continue;
      }
      await this.options.autoScaling.send(
        new SetInstanceHealthCommand({ InstanceId: instanceId, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }),
      );
      this.options.notice(`${deployment}: host ${instanceId} marked Unhealthy (${reason}): its auto scaling group replaces it`);
    }
  }
}
