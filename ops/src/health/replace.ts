/**
 * `health --watch --replace-on-critical`: a deployment whose checks failed three rounds in a row gets its
 * host marked Unhealthy (SetInstanceHealth), so that its auto scaling group replaces it — after a
 * confirmation (or --yes), once per deployment per run. Only the checks a new host can fix count: on a scale
 * deployment, those of its AI host; its n8n tasks are replaced by ECS itself, and gm-ops only says so.
 */
import { SetInstanceHealthCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { Prompt } from '../context';
import { HEALTH_THRESHOLDS } from './levels';
import type { DeploymentHealth } from './probe-round';
import type { HealthRound } from './report';

export interface ReplaceOptions {
  readonly autoScaling: AutoScalingClient;
  readonly prompt: Prompt;
  readonly yes: boolean;
  readonly notice: (text: string) => void;
}

/** What the replacer needs of a deployment: its host, and which of its checks a new host can fix. */
export type ReplaceTarget = Pick<DeploymentHealth, 'instanceId' | 'hostChecks' | 'outsideHost'>;

export class CriticalReplacer {
  private readonly done = new Set<string>();
  private readonly told = new Set<string>();

  constructor(private readonly options: ReplaceOptions) {}

  /** Acts on the round; `deployments` maps each deployment to its current host and the checks that host can fix. */
  async act(round: HealthRound, deployments: ReadonlyMap<string, ReplaceTarget>): Promise<void> {
    const failing = new Map<string, string[]>();
    const elsewhere = new Map<string, string[]>();
    for (const row of round.rows) {
      if (row.level !== 'CRITICAL' || row.consecutiveFailures < HEALTH_THRESHOLDS.criticalAfterFailures) continue;
      const hostChecks = deployments.get(row.deployment)?.hostChecks;
      const into = !hostChecks || hostChecks.includes(row.service) ? failing : elsewhere;
      const services = into.get(row.deployment) ?? [];
      if (!services.includes(row.service)) into.set(row.deployment, [...services, row.service]);
    }
    for (const [deployment, services] of elsewhere) {
      if (this.told.has(deployment)) continue;
      this.told.add(deployment);
      const why = deployments.get(deployment)?.outsideHost;
      this.options.notice(
        `${deployment}: ${services.join(', ')} failed ${HEALTH_THRESHOLDS.criticalAfterFailures} checks in a row; replacing a host would not fix ${services.length === 1 ? 'it' : 'them'}${why ? ` (${why})` : ''}: see \`gm-ops status ${deployment}\``,
      );
    }
    for (const [deployment, services] of failing) {
      const instanceId = deployments.get(deployment)?.instanceId;
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
