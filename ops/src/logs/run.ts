/**
 * `gm-ops logs <name>`: finds the current host, then runs the follower with one SSM command per
 * poll. With --follow, an unreachable or replaced host and throttling are waited out (with notices)
 * instead of ending the stream.
 */
import type { AwsClients } from '../aws/clients';
import { isThrottling } from '../aws/classify-error';
import { SSM_STDOUT_LIMIT, runScript, scriptFailure } from '../aws/ssm-run';
import type { CommandIO } from '../command-io';
import { HOST_PATHS } from '../contract';
import { findDeployment } from '../discovery/deployments';
import { autoScalingGroupOf, resolveHosts } from '../discovery/hosts';
import { ExitCode, HostNotRunning, HostUnreachable, Interrupted, OpsError } from '../errors';
import type { LogSource } from './cursor';
import type { LogPollRequest } from './request';
import { followLogs } from './follower';
import { createLogPrinter } from './render';
import type { SinceSpec } from './since';

export const BOOTSTRAP_SOURCE = 'bootstrap';

export interface LogsOptions {
  readonly name: string;
  readonly services: readonly string[];
  readonly follow: boolean;
  readonly since?: SinceSpec;
  readonly tail?: number;
  readonly json: boolean;
  readonly timestamps: boolean;
  /** Characters of stdout per poll; the SSM limit by default (tests lower it). */
  readonly outputLimit?: number;
}

/** Room for the markers around each source, and a safety margin. */
function contentBudget(limit: number, sources: number): number {
  return limit - 400 - 120 * sources;
}

/** The running host of a deployment, or a HostNotRunning error. */
export async function currentHost(clients: AwsClients, name: string): Promise<string> {
  const region = await clients.region();
  const deployment = await findDeployment(clients.cloudFormation, name, region);
  if (!deployment.compute) throw new HostNotRunning(name, 'no compute stack; only the data stack exists');
  const group = autoScalingGroupOf(deployment.compute);
  if (!group) throw new HostNotRunning(name, `${deployment.compute.stackName} has no AutoScalingGroupName output (status ${deployment.compute.status})`);
  const lookup = (await resolveHosts(clients.autoScaling, clients.ec2, [group])).get(group);
  const host = lookup?.host;
  if (!lookup?.groupExists) throw new HostNotRunning(name, `auto scaling group ${group} not found`);
  if (!host) throw new HostNotRunning(name, `auto scaling group ${group} has no instance`);
  if (host.state !== 'running') throw new HostNotRunning(name, `instance ${host.instanceId} is ${host.state}`);
  return host.instanceId;
}

export async function runLogs(io: CommandIO, options: LogsOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  let instanceId = await currentHost(clients, options.name);

  const sources: LogSource[] = options.services.map((service) =>
    service === BOOTSTRAP_SOURCE ? { kind: 'file', service, path: HOST_PATHS.bootstrapLog } : { kind: 'docker', service },
  );
  const limit = options.outputLimit ?? SSM_STDOUT_LIMIT;
  const print = createLogPrinter(io.write, {
    json: options.json,
    timestamps: options.timestamps,
    style: io.style,
    services: options.services,
  });

  let waitingNoticed = false;
  const run = async (script: string, request: LogPollRequest): Promise<{ stdout: string; hostChanged: boolean }> => {
    let backoff = 2000;
    let hostChanged = false;
    for (;;) {
      try {
        const result = await runScript(clients.ssm, instanceId, script, {
          sleep: services.sleep,
          clock: services.clock,
          signal: services.signal,
          comment: `gm-ops logs ${options.name}`,
          executionTimeoutSeconds: 60,
        });
        const failure = scriptFailure(result, request.token);
        if (failure) throw failure;
        if (waitingNoticed) io.notice(`reading logs from ${instanceId} again`);
        waitingNoticed = false;
        return { stdout: result.stdout, hostChanged };
      } catch (error) {
        if (error instanceof Interrupted || !options.follow) throw error;
        const unreachable = error instanceof HostUnreachable || error instanceof HostNotRunning;
        if (!unreachable && !isThrottling(error)) throw error;
        if (unreachable && !waitingNoticed) {
          io.notice(`${(error as OpsError).message}; waiting for the host or its replacement`);
          waitingNoticed = true;
        }
        await services.sleep(backoff, services.signal);
        if (services.signal.aborted) throw new Interrupted();
        backoff = Math.min(backoff * 2, 30_000);
        if (unreachable) {
          try {
            const next = await currentHost(clients, options.name);
            if (next !== instanceId) {
              io.notice(`the host was replaced: now reading ${next}`);
              instanceId = next;
              hostChanged = true;
            }
          } catch (lookupError) {
            if (!(lookupError instanceof HostNotRunning)) throw lookupError;
          }
        }
      }
    }
  };

  try {
    await followLogs({
      sources,
      follow: options.follow,
      tail: options.tail,
      since: options.since,
      budget: contentBudget(limit, sources.length),
      run,
      emit: print,
      notice: io.notice,
      sleep: services.sleep,
      signal: services.signal,
      randomId: services.randomId,
    });
  } catch (error) {
    // Ctrl-C while following is the normal way out.
    if (error instanceof Interrupted && options.follow) return ExitCode.ok;
    throw error;
  }
  if (services.signal.aborted && !options.follow) throw new Interrupted();
  return ExitCode.ok;
}
