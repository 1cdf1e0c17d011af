/**
 * Carries out a restore plan: replaces the host through its auto scaling group (terminate without
 * decrementing, or scale a group at 0 back to 1), or runs `npx cdk deploy` (after cancelling the
 * scheduled deletion of retained secrets), then waits until every service of the new host is healthy
 * through SSM. Nothing here deletes data.
 */
import { SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { RestoreSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../aws/clients';
import { hasErrorName } from '../aws/classify-error';
import { computeStackName, type Tier } from '../contract';
import type { ProcessRunner } from '../context';
import { autoScalingGroupOf, resolveHosts } from '../discovery/hosts';
import { describeStack } from '../discovery/stacks';
import { Interrupted, OpsError } from '../errors';
import type { Spinner } from '../output/spinner';
import { probeHost, type AssessOptions, type Plan } from './assess';
import type { Project } from './project';
import { saveRetainedData } from './saved-config';

export interface ActOptions extends AssessOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly spinner: Spinner;
  readonly notice: (text: string) => void;
  readonly processRunner: ProcessRunner;
  readonly output: NodeJS.WritableStream;
  readonly project?: Project;
}

export interface RestoreResult {
  readonly instanceId: string;
  /** From the start of the action to every service healthy. */
  readonly elapsedMs: number;
}

export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Polls the group until a host other than `previous` runs and every service on it is healthy. */
async function waitHealthy(
  clients: AwsClients,
  name: string,
  tier: Tier,
  computeStack: string,
  previous: string | undefined,
  started: number,
  options: ActOptions,
): Promise<RestoreResult> {
  const { clock, sleep, signal, spinner } = options;
  const deadline = started + options.timeoutMs;
  let status = 'waiting for the group to launch a host';
  for (;;) {
    if (signal.aborted) throw new Interrupted();
    const compute = await describeStack(clients.cloudFormation, computeStack);
    const group = autoScalingGroupOf(compute);
    if (compute && group) {
      const lookup = (await resolveHosts(clients.autoScaling, clients.ec2, [group])).get(group)!;
      const host = lookup.host;
      if (host && host.instanceId !== previous && host.state === 'running') {
        const health = await probeHost(clients, name, tier, compute, lookup, options);
        if (health.healthy) return { instanceId: host.instanceId, elapsedMs: clock.now() - started };
        status = `${host.instanceId} is starting (${[...health.down, ...health.inconclusive].map((d) => d.split(':')[0]).join(', ')} not healthy yet)`;
      } else if (host && host.instanceId === previous) {
        status = `${previous} is ${host.lifecycleState ?? host.state}; waiting for its replacement`;
      } else if (host) {
        status = `${host.instanceId} is ${host.state}`;
      }
    }
    const now = clock.now();
    if (now >= deadline) {
      throw new OpsError(
        `no healthy host for "${name}" after ${formatElapsed(now - started)} (last seen: ${status})`,
        `see \`gm-ops status ${name}\` and \`gm-ops logs ${name}\`; the bootstrap log on the host is /var/log/geusemaker-bootstrap.log; running restore again is safe`,
      );
    }
    spinner.start(`Restoring ${name}: ${status}… ${formatElapsed(now - started)}`);
    await sleep(Math.min(options.pollMs, deadline - now), signal);
  }
}

export async function act(clients: AwsClients, plan: Plan, options: ActOptions): Promise<RestoreResult> {
  const started = options.clock.now();
  const { situation } = plan;
  const name = plan.deployment;
  switch (situation.kind) {
    case 'healthy':
      return { instanceId: situation.host.instanceId, elapsedMs: 0 };
    case 'replace-host': {
      let previous: string | undefined;
      if (situation.action === 'terminate' && situation.host) {
        previous = situation.host.instanceId;
        options.spinner.start(`Terminating ${previous} (the group replaces it)…`);
        try {
          await clients.autoScaling.send(
            new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: previous, ShouldDecrementDesiredCapacity: false }),
          );
        } catch (error) {
          // Already gone from the group (terminated meanwhile): the group replaces it anyway.
          if (!(hasErrorName(error, 'ValidationError') && /not found|not part of/i.test(String((error as Error).message)))) throw error;
        }
        options.notice(`terminating ${previous}; ${situation.group} launches its replacement`);
      } else if (situation.action === 'scale-up') {
        options.spinner.start(`Setting ${situation.group} to 1 instance…`);
        await clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: situation.group, DesiredCapacity: 1, HonorCooldown: false }));
        options.notice(`${situation.group} set to 1 instance`);
      } else if (situation.host && situation.replacing) {
        previous = situation.host.instanceId;
      }
      return waitHealthy(clients, name, situation.tier, situation.compute.stackName, previous, started, options);
    }
    case 'secrets-without-data':
      throw new OpsError(plan.summary, 'choose one of the ways out above');
    case 'redeploy-compute':
    case 'rebuild-data': {
      if (!options.project || !plan.cdk) throw new OpsError('not inside the GeuseMaker project', 'run the command of the plan from a checkout');
      if (situation.kind === 'rebuild-data') {
        for (const secret of situation.secrets.filter((s) => s.state === 'pending-deletion')) {
          options.spinner.start(`Cancelling the deletion of ${secret.name}…`);
          await clients.secretsManager.send(new RestoreSecretCommand({ SecretId: secret.name }));
          options.notice(`${secret.name}: scheduled deletion cancelled`);
        }
      }
      options.spinner.stop();
      if (plan.retainedFileSystemId) {
        // Before deploying: every later deploy of this deployment must mount the same file system.
        const saved = saveRetainedData(options.project.cdkJson, name, plan.retainedFileSystemId);
        if (saved === 'written') options.notice(`${options.project.cdkJson}: "${name}" now keeps retainedData.fileSystemId ${plan.retainedFileSystemId}`);
      }
      options.notice(`running: npx ${plan.cdk.join(' ')} (in ${options.project.root})`);
      const result = await options.processRunner.run('npx', plan.cdk, { cwd: options.project.root, output: options.output, signal: options.signal });
      if (options.signal.aborted) throw new Interrupted();
      if (result.exitCode !== 0) {
        throw new OpsError(
          `cdk deploy failed (${result.exitCode === null ? `ended by ${result.signal ?? 'a signal'}` : `exit ${result.exitCode}`})`,
          `its output is above; \`gm-ops status ${name}\` shows the stack events; the retained data was not touched and running restore again is safe`,
        );
      }
      return waitHealthy(clients, name, situation.tier, computeStackName(situation.tier, name), undefined, started, options);
    }
  }
}
