/**
 * `gm-ops metrics <name>`: host and per-service resource use (one SSM command) and the file system's trend. On the
 * scale tier the host is the AI host (Ollama, Qdrant, Crawl4AI); n8n's tasks and its database are not on it, and one
 * line says where their figures are.
 */
import { runScript, scriptFailure } from '../aws/ssm-run';
import type { CommandIO } from '../command-io';
import { OUTPUT_KEYS, SCALE_OUTPUT_KEYS, scaleClusterName, scaleDataStackName } from '../contract';
import { databaseInstanceOf, readScaleDataStack } from '../discovery/scale-deployment';
import { findDeployment } from '../discovery/deployments';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import { ExitCode, HostNotRunning, Interrupted, OpsError } from '../errors';
import { fileSystemMetrics, type FileSystemMetrics } from './efs-metrics';
import { hostMetricsScript, parseHostMetrics, type HostMetrics } from './host-metrics';
import { renderMetrics } from './render';

export interface MetricsOptions {
  readonly name: string;
  readonly json: boolean;
  readonly watch: boolean;
  readonly intervalMs: number;
}

export interface MetricsSnapshot {
  readonly deployment: string;
  readonly at: string;
  readonly instanceId: string;
  /** `ai-services`: the scale tier's AI host. */
  readonly role?: 'ai-services';
  readonly host: HostMetrics;
  /** Undefined when the deployment has no file system output; `error` when CloudWatch failed. */
  readonly fileSystem?: FileSystemMetrics | { readonly fileSystemId: string; readonly error: string };
  /** What these figures leave out (the scale tier's n8n tasks and database), and where to find it. */
  readonly elsewhere?: string;
}

const CLEAR_SCREEN = '\u001b[H\u001b[2J';

export async function runMetrics(io: CommandIO, options: MetricsOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const spinner = io.spinner(options.json || (options.watch && services.terminal.redraw));
  const deployment = await findDeployment(clients.cloudFormation, options.name, await clients.region());
  const fileSystemId = deployment.data?.outputs[OUTPUT_KEYS.fileSystemId];
  const scale = deployment.compute?.role === 'scale';
  let elsewhere: string | undefined;
  if (scale) {
    const cluster = deployment.compute?.outputs[SCALE_OUTPUT_KEYS.clusterName] || scaleClusterName(options.name);
    const database = databaseInstanceOf(await readScaleDataStack(clients.cloudFormation, options.name));
    elsewhere =
      `n8n runs on ECS and its database on RDS, not on this AI host: \`gm-ops status ${options.name}\` shows their tasks and state; ` +
      `their CPU and memory are CloudWatch metrics AWS/ECS (ClusterName ${cluster}) and AWS/RDS (DBInstanceIdentifier ${database ?? `of ${scaleDataStackName(options.name)}`})`;
  }

  const snapshot = async (): Promise<MetricsSnapshot> => {
    if (!deployment.compute) throw new HostNotRunning(options.name, 'no compute stack; only the data stack exists');
    const lookup = (await hostsOfDeployments(clients, [deployment])).get(deployment.name);
    const host = lookup?.host;
    if (!host || host.state !== 'running') throw new HostNotRunning(options.name, host ? `${host.instanceId} is ${host.state}` : 'no instance in the auto scaling group');
    const token = services.randomId();
    const now = services.clock.now();
    const [output, fileSystem] = await Promise.all([
      runScript(clients.ssm, host.instanceId, hostMetricsScript(token), {
        sleep: services.sleep,
        clock: services.clock,
        signal: services.signal,
        comment: 'gm-ops metrics',
        executionTimeoutSeconds: 30,
      }),
      fileSystemId
        ? fileSystemMetrics(clients.cloudWatch, fileSystemId, now).catch((error: unknown) => {
            const { toOpsError } = require('../aws/classify-error') as typeof import('../aws/classify-error');
            return { fileSystemId, error: toOpsError(error).message };
          })
        : Promise.resolve(undefined),
    ]);
    const failed = scriptFailure(output, token);
    if (failed) throw failed;
    return {
      deployment: options.name,
      at: new Date(now).toISOString(),
      instanceId: host.instanceId,
      ...(scale ? { role: 'ai-services' as const } : {}),
      host: parseHostMetrics(output.stdout, token),
      fileSystem,
      ...(elsewhere ? { elsewhere } : {}),
    };
  };

  for (let round = 1; ; round += 1) {
    spinner.start(`Reading the metrics of ${options.name}…`);
    let current: MetricsSnapshot;
    try {
      current = await snapshot();
    } catch (error) {
      if (!options.watch || services.signal.aborted || error instanceof Interrupted) throw error;
      io.notice(`round failed: ${(error as OpsError).message}; retrying at the next interval`);
      await services.sleep(options.intervalMs, services.signal);
      if (services.signal.aborted) return ExitCode.ok;
      continue;
    } finally {
      spinner.stop();
    }
    if (options.json) io.write(`${JSON.stringify(current, null, options.watch ? undefined : 2)}\n`);
    else io.write(`${options.watch && services.terminal.redraw ? CLEAR_SCREEN : options.watch && round > 1 ? '\n' : ''}${renderMetrics(current, io.style)}`);
    if (!options.watch) return ExitCode.ok;
    await services.sleep(options.intervalMs, services.signal);
    if (services.signal.aborted) return ExitCode.ok;
  }
}
