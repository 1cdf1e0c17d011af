/**
 * `gm-ops drift <name>`: CloudFormation drift on the deployment's stacks and drift on the host; exit 1 on any drift.
 * A scale deployment's stacks include `GeuseScaleData-<name>` (its database and queue), and its host is the AI host,
 * where only Ollama, Qdrant and Crawl4AI run: the compose file's n8n and PostgreSQL not running there is no drift.
 */
import { runScript, scriptFailure } from '../aws/ssm-run';
import type { CommandIO } from '../command-io';
import { findDeployment } from '../discovery/deployments';
import { readScaleDataStack, runsOnHost } from '../discovery/scale-deployment';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import { ExitCode, OpsError } from '../errors';
import { hostDriftScript, parseHostDrift, type HostDriftReport } from './host-drift';
import { renderDrift } from './render';
import { detectStackDrift, type StackDrift } from './stack-drift';

export interface DriftOptions {
  readonly name: string;
  readonly json: boolean;
  readonly timeoutMs: number;
  readonly pollMs: number;
}

export interface HostDriftSection {
  readonly instanceId?: string;
  /** `ai-services`: the scale tier's AI host, which runs only Ollama, Qdrant and Crawl4AI. */
  readonly role?: 'ai-services';
  /** Why the host was not checked, when it was not. */
  readonly unchecked?: string;
  readonly report?: HostDriftReport;
}

export interface DriftResult {
  readonly deployment: string;
  readonly stacks: readonly StackDrift[];
  readonly host: HostDriftSection;
}

export function isDrifted(result: DriftResult): boolean {
  const stackDrift = result.stacks.some((s) => s.status !== 'IN_SYNC');
  const report = result.host.report;
  const hostDrift = report !== undefined && (!report.dockerAvailable || !report.composeFile || report.containers.some((c) => c.state !== 'in sync'));
  return stackDrift || hostDrift;
}

export async function runDrift(io: CommandIO, options: DriftOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  spinner.start(`Detecting drift on ${options.name}…`);
  let result: DriftResult;
  try {
    const deployment = await findDeployment(clients.cloudFormation, options.name, await clients.region());
    const tier = deployment.compute && deployment.compute.role !== 'data' ? deployment.compute.role : undefined;
    const role = tier === 'scale' ? ({ role: 'ai-services' } as const) : {};
    // GeuseScaleData-<name> outlives a move back to a host tier: while it exists it is part of the deployment.
    const scaleData = await readScaleDataStack(clients.cloudFormation, options.name);
    const candidates: ({ readonly stackName: string; readonly status: string } | undefined)[] = [deployment.compute, scaleData, deployment.data];
    const stacks = candidates.filter((s): s is { readonly stackName: string; readonly status: string } => s !== undefined && s.status !== 'DELETE_COMPLETE');
    const wait = { sleep: services.sleep, clock: services.clock, signal: services.signal, timeoutMs: options.timeoutMs, pollMs: options.pollMs };
    const hostSection = async (): Promise<HostDriftSection> => {
      if (!deployment.compute) return { unchecked: 'no compute stack, so no host' };
      const lookup = (await hostsOfDeployments(clients, [deployment])).get(deployment.name);
      const host = lookup?.host;
      if (!host || host.state !== 'running') return { ...role, instanceId: host?.instanceId, unchecked: host ? `host ${host.instanceId} is ${host.state}` : 'no host in the auto scaling group' };
      const token = services.randomId();
      try {
        const output = await runScript(clients.ssm, host.instanceId, hostDriftScript(token), {
          sleep: services.sleep,
          clock: services.clock,
          signal: services.signal,
          comment: 'gm-ops drift',
          executionTimeoutSeconds: 60,
        });
        const failed = scriptFailure(output, token);
        if (failed) return { ...role, instanceId: host.instanceId, unchecked: failed.message };
        const report = parseHostDrift(output.stdout, token);
        const expected = report.containers.filter((c) => c.state !== 'not running' || runsOnHost(tier, c.service));
        return { ...role, instanceId: host.instanceId, report: { ...report, containers: expected } };
      } catch (error) {
        if (error instanceof OpsError && error.exitCode !== ExitCode.failure) throw error;
        if (error instanceof OpsError) return { ...role, instanceId: host.instanceId, unchecked: error.message };
        throw error;
      }
    };
    const [stackDrifts, host] = await Promise.all([
      Promise.all(stacks.map((stack) => detectStackDrift(clients.cloudFormation, stack.stackName, wait))),
      hostSection(),
    ]);
    result = { deployment: options.name, stacks: stackDrifts, host };
  } finally {
    spinner.stop();
  }
  const drifted = isDrifted(result);
  if (options.json) {
    io.write(`${JSON.stringify({ ...result, drifted }, null, 2)}\n`);
  } else {
    io.write(renderDrift(result, drifted, io.style));
  }
  return drifted ? ExitCode.failure : ExitCode.ok;
}
