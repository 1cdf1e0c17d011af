/**
 * Everything `gm-ops status` shows about one deployment: stacks and what their status means,
 * the current host, endpoints, the containers (read on the host through one SSM command), and the
 * recent stack events with the failure reasons of the latest operation.
 */
import type { AwsClients } from '../aws/clients';
import { toOpsError } from '../aws/classify-error';
import { runScript, scriptFailure } from '../aws/ssm-run';
import type { CommandIO } from '../command-io';
import { OUTPUT_KEYS } from '../contract';
import { findDeployment } from '../discovery/deployments';
import { endpointsOf, type Endpoint } from '../discovery/endpoints';
import { failuresOfLatestOperation, recentStackEvents, resourcesFailingDeletion, type StackEventSummary } from '../discovery/events';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import type { HostLookup } from '../discovery/hosts';
import { assessStack, type StackAssessment } from '../discovery/stack-state';
import type { StackSummary } from '../discovery/stacks';
import { containersScript, parseContainers, type ContainerState } from '../host/containers';
import { dataHealthScript, dataWarnings, parseDataHealth, type DataHealth } from './data-health';
import { parseWatchdog, watchdogScript, type WatchdogStatus } from './watchdog';

export interface StackStatus {
  readonly stack: StackSummary;
  readonly assessment: StackAssessment;
  /** Failed events of the latest operation (when the stack is not simply ok). */
  readonly failures: StackEventSummary[];
}

export interface ServicesStatus {
  /** Why the containers could not be read, when they could not. */
  readonly unavailable?: string;
  readonly dockerAvailable: boolean;
  readonly containers: ContainerState[];
  /** The newest backup set and the host's disk use (same SSM command), when the host reported them. */
  readonly data?: DataHealth;
  /** The host watchdog's last action (same SSM command), when the host reported it. */
  readonly watchdog?: WatchdogStatus;
}

export interface StatusReport {
  readonly deployment: string;
  readonly region?: string;
  readonly compute?: StackStatus;
  readonly data?: StackStatus;
  readonly extraCompute: string[];
  readonly hostLookup?: HostLookup;
  readonly fileSystemId?: string;
  readonly endpoints: Endpoint[];
  readonly services?: ServicesStatus;
  readonly events: StackEventSummary[];
  readonly eventsOf?: string;
  readonly healthy: boolean;
  /** Thresholds the data crossed (backup age, disk use), one line each. */
  readonly dataWarnings: string[];
}

const RECENT_EVENTS = 8;

async function stackStatus(clients: AwsClients, stack: StackSummary, region: string | undefined, events?: StackEventSummary[]) {
  const first = assessStack(stack.stackName, stack.status, region);
  if (first.condition === 'ok') return { status: { stack, assessment: first, failures: [] }, events };
  const all = events ?? (await recentStackEvents(clients.cloudFormation, stack.stackName));
  const failures = failuresOfLatestOperation(all, stack.stackName);
  const assessment = assessStack(stack.stackName, stack.status, region, resourcesFailingDeletion(all, stack.stackName));
  return { status: { stack, assessment, failures }, events: all };
}

async function readServices(io: CommandIO, clients: AwsClients, instanceId: string): Promise<ServicesStatus> {
  const token = io.services.randomId();
  try {
    const result = await runScript(clients.ssm, instanceId, `${containersScript(token)}\n${dataHealthScript(token)}\n${watchdogScript(token)}`, {
      sleep: io.services.sleep,
      clock: io.services.clock,
      signal: io.services.signal,
      comment: 'gm-ops status',
      executionTimeoutSeconds: 30,
    });
    const failure = scriptFailure(result, token);
    if (failure) throw failure;
    const { containers, dockerAvailable } = parseContainers(result.stdout, token);
    return { dockerAvailable, containers, data: parseDataHealth(result.stdout, token), watchdog: parseWatchdog(result.stdout, token) };
  } catch (error) {
    const problem = toOpsError(error);
    if (problem.exitCode === 130) throw problem;
    return { unavailable: problem.message, dockerAvailable: false, containers: [] };
  }
}

export async function gatherStatus(io: CommandIO, name: string): Promise<StatusReport> {
  const clients = io.aws();
  const region = await clients.region();
  const deployment = await findDeployment(clients.cloudFormation, name, region);
  const { compute, data } = deployment;

  const [hostLookup, computeEvents] = await Promise.all([
    hostsOfDeployments(clients, [deployment]).then((m) => m.get(name)),
    compute ? recentStackEvents(clients.cloudFormation, compute.stackName) : Promise.resolve(undefined),
  ]);
  const computeStatus = compute ? (await stackStatus(clients, compute, region, computeEvents)).status : undefined;
  const dataResult = data ? await stackStatus(clients, data, region) : undefined;

  const host = hostLookup?.host;
  const services = host && host.state === 'running' ? await readServices(io, clients, host.instanceId) : undefined;

  const events = computeEvents ?? dataResult?.events ?? [];
  const warnings = dataWarnings(services?.data, io.services.clock.now());
  const stacksOk = [computeStatus, dataResult?.status].every((s) => !s || s.assessment.condition === 'ok');
  const servicesOk =
    !compute ||
    (services !== undefined &&
      services.unavailable === undefined &&
      services.dockerAvailable &&
      services.containers.every((c) => c.state === 'running' && c.health !== 'unhealthy'));
  return {
    deployment: name,
    region,
    compute: computeStatus,
    data: dataResult?.status,
    extraCompute: deployment.extraCompute.map((s) => s.stackName),
    hostLookup,
    fileSystemId: data?.outputs[OUTPUT_KEYS.fileSystemId] || undefined,
    endpoints: endpointsOf(compute, host),
    services,
    events: events.slice(0, RECENT_EVENTS),
    eventsOf: compute?.stackName ?? data?.stackName,
    healthy: stacksOk && servicesOk && deployment.extraCompute.length === 0 && warnings.length === 0,
    dataWarnings: warnings,
  };
}
