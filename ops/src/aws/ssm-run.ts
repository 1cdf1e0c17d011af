/**
 * Runs a shell script on hosts through SSM Run Command (AWS-RunShellScript) and waits for its output:
 * one SendCommand, then GetCommandInvocation until the invocation ends. Handles the invocation that
 * does not exist yet right after SendCommand, throttling (backs off), agents that are offline.
 * All waiting goes through the injected sleep and clock.
 */
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { Clock, Sleep } from '../context';
import { HostStateUnknown, HostUnreachable, Interrupted, OpsError } from '../errors';
import { hasErrorName, isThrottling, toOpsError } from './classify-error';

/** SSM keeps only the first 24,000 characters of a command's stdout. */
export const SSM_STDOUT_LIMIT = 24_000;

export interface ScriptResult {
  readonly instanceId: string;
  readonly status: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SsmRunOptions {
  readonly sleep: Sleep;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** Shown in the SSM console/history. */
  readonly comment: string;
  /** Limit on the host (AWS-RunShellScript executionTimeout). */
  readonly executionTimeoutSeconds: number;
  /** Client-side limit for the whole wait; default: execution timeout + 60 s. */
  readonly waitTimeoutMs?: number;
}

const MAX_THROTTLE_DELAY_MS = 20_000;
const POLL_DELAYS_MS = [400, 600, 800, 1000, 1500, 2000];

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Interrupted();
}

/** Backs off on throttling (1 s, 2 s, 4 s ... up to 20 s), up to `attempts` tries. */
async function withThrottleRetry<T>(options: SsmRunOptions, call: () => Promise<T>, attempts = 6): Promise<T> {
  let delay = 1000;
  for (let attempt = 1; ; attempt += 1) {
    checkAbort(options.signal);
    try {
      return await call();
    } catch (error) {
      if (!isThrottling(error) || attempt >= attempts) throw error;
      await options.sleep(delay, options.signal);
      delay = Math.min(delay * 2, MAX_THROTTLE_DELAY_MS);
    }
  }
}

/** SSM agent state per instance: Online, ConnectionLost, Inactive, or NotRegistered. */
export async function agentStatuses(ssm: SSMClient, instanceIds: readonly string[]): Promise<Map<string, string>> {
  const result = new Map<string, string>(instanceIds.map((id) => [id, 'NotRegistered']));
  for (let i = 0; i < instanceIds.length; i += 40) {
    const batch = instanceIds.slice(i, i + 40);
    let nextToken: string | undefined;
    do {
      const page = await ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: batch }], NextToken: nextToken }),
      );
      for (const info of page.InstanceInformationList ?? []) {
        if (info.InstanceId) result.set(info.InstanceId, info.PingStatus ?? 'Unknown');
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  return result;
}

export function describeAgentStatus(status: string): string {
  switch (status) {
    case 'Online':
      return 'the SSM agent is online but refused the command';
    case 'ConnectionLost':
      return 'its SSM agent lost the connection (PingStatus ConnectionLost)';
    case 'Inactive':
      return 'its SSM agent is inactive (PingStatus Inactive)';
    case 'NotRegistered':
      return 'its SSM agent has not registered (still booting, or no route/IAM role to reach SSM)';
    default:
      return `its SSM agent reports ${status}`;
  }
}

async function unreachable(ssm: SSMClient, instanceId: string): Promise<HostUnreachable> {
  let status = 'NotRegistered';
  try {
    status = (await agentStatuses(ssm, [instanceId])).get(instanceId) ?? status;
  } catch {
    // The explanation is best effort; the error itself stands.
  }
  return new HostUnreachable(instanceId, describeAgentStatus(status));
}

/** Sends the script to the hosts; returns the command id. */
export async function sendScript(
  ssm: SSMClient,
  instanceIds: readonly string[],
  script: string,
  options: SsmRunOptions,
): Promise<string> {
  try {
    const response = await withThrottleRetry(options, () =>
      ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [...instanceIds],
          Comment: options.comment.slice(0, 100),
          TimeoutSeconds: 60,
          Parameters: {
            commands: script.split('\n'),
            executionTimeout: [String(options.executionTimeoutSeconds)],
          },
        }),
      ),
    );
    const commandId = response.Command?.CommandId;
    if (!commandId) throw new OpsError('SSM accepted the command but returned no command id');
    return commandId;
  } catch (error) {
    if (hasErrorName(error, 'InvalidInstanceId') && instanceIds.length === 1) throw await unreachable(ssm, instanceIds[0]);
    throw error;
  }
}

/** Waits for one host's invocation of a command to end. */
export async function waitForInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string,
  options: SsmRunOptions,
): Promise<ScriptResult> {
  const deadline = options.clock.now() + (options.waitTimeoutMs ?? options.executionTimeoutSeconds * 1000 + 60_000);
  let poll = 0;
  let throttleDelay = 1000;
  for (;;) {
    checkAbort(options.signal);
    await options.sleep(POLL_DELAYS_MS[Math.min(poll, POLL_DELAYS_MS.length - 1)], options.signal);
    checkAbort(options.signal);
    poll += 1;
    if (options.clock.now() > deadline) {
      throw new OpsError(`no result from host ${instanceId} (SSM command ${commandId}) in time`, 'the host may be overloaded; retry');
    }
    let invocation;
    try {
      invocation = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
      throttleDelay = 1000;
    } catch (error) {
      if (hasErrorName(error, 'InvocationDoesNotExist')) continue; // not registered yet, right after SendCommand
      if (isThrottling(error)) {
        await options.sleep(throttleDelay, options.signal);
        throttleDelay = Math.min(throttleDelay * 2, MAX_THROTTLE_DELAY_MS);
        continue;
      }
      if (hasErrorName(error, 'InvalidInstanceId')) throw await unreachable(ssm, instanceId);
      throw error;
    }
    const status = invocation.Status ?? 'Pending';
    const details = invocation.StatusDetails ?? '';
    if (status === 'Pending' || status === 'InProgress' || status === 'Delayed' || status === 'Cancelling') continue;
    if (details === 'Undeliverable' || details === 'DeliveryTimedOut' || details === 'Terminated') {
      throw new HostUnreachable(instanceId, `the command was not delivered (${details})`);
    }
    if (status === 'TimedOut') {
      throw new OpsError(`the command timed out on host ${instanceId} (${details || 'TimedOut'})`, 'the host may be overloaded; retry');
    }
    if (status === 'Cancelled') throw new OpsError(`the command was cancelled on host ${instanceId}`);
    return {
      instanceId,
      status,
      exitCode: invocation.ResponseCode ?? (status === 'Success' ? 0 : 1),
      stdout: invocation.StandardOutputContent ?? '',
      stderr: invocation.StandardErrorContent ?? '',
    };
  }
}

/**
 * The script did not get to print anything we asked for (it failed before, e.g. no /tmp space or
 * sh missing a tool): an error naming the host, the exit code and the first line of stderr.
 */
export function scriptFailure(result: ScriptResult, token: string): OpsError | undefined {
  if (result.exitCode === 0 || result.stdout.includes(`@@gm-ops:${token}`)) return undefined;
  const reason = result.stderr.split('\n').find((line) => line.trim().length > 0)?.trim() ?? 'no error output';
  return new OpsError(`the gm-ops script failed on host ${result.instanceId} (exit ${result.exitCode}): ${reason}`, 'see `gm-ops status`');
}

/** SendCommand to one host and wait for its output. */
export async function runScript(ssm: SSMClient, instanceId: string, script: string, options: SsmRunOptions): Promise<ScriptResult> {
  const commandId = await sendScript(ssm, [instanceId], script, options);
  return waitForInvocation(ssm, commandId, instanceId, options);
}

/**
 * One SendCommand for many hosts (only those whose agent is online), then each host's output.
 * Hosts that cannot be reached map to a HostUnreachable error instead of failing the others.
 */
export async function runScriptOnHosts(
  ssm: SSMClient,
  instanceIds: readonly string[],
  script: string,
  options: SsmRunOptions,
): Promise<Map<string, ScriptResult | OpsError>> {
  const result = new Map<string, ScriptResult | OpsError>();
  if (instanceIds.length === 0) return result;
  let statuses: Map<string, string>;
  try {
    statuses = await agentStatuses(ssm, instanceIds);
  } catch (error) {
    if (error instanceof Interrupted || options.signal?.aborted) throw new Interrupted();
    // Like `status`: the agents' state is unknown, which says nothing about the hosts themselves.
    const problem = toOpsError(error);
    for (const id of instanceIds) result.set(id, new HostStateUnknown(id, `cannot read its SSM agent state (${problem.message})`));
    return result;
  }
  const online = instanceIds.filter((id) => statuses.get(id) === 'Online');
  for (const id of instanceIds) {
    if (!online.includes(id)) result.set(id, new HostUnreachable(id, describeAgentStatus(statuses.get(id) ?? 'NotRegistered')));
  }
  for (let i = 0; i < online.length; i += 50) {
    const batch = online.slice(i, i + 50);
    let commandId: string;
    try {
      commandId = await sendScript(ssm, batch, script, options);
    } catch (error) {
      if (error instanceof Interrupted || options.signal?.aborted) throw new Interrupted();
      // One host that went away between the two calls must not hide the others: each on its own.
      if (batch.length === 1) {
        result.set(batch[0], toOpsError(error));
        continue;
      }
      for (const id of batch) {
        const one = await runScriptOnHosts(ssm, [id], script, options);
        result.set(id, one.get(id)!);
      }
      continue;
    }
    const outcomes = await Promise.all(
      batch.map((id) =>
        waitForInvocation(ssm, commandId, id, options).catch((error: unknown) => {
          if (error instanceof Interrupted) throw error;
          return toOpsError(error);
        }),
      ),
    );
    batch.forEach((id, index) => result.set(id, outcomes[index]));
  }
  return result;
}
