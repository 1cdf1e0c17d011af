/**
 * `gm-ops history <name>`: the CloudFormation operations on the deployment's stacks, newest first; a scale
 * deployment's `GeuseScaleData-<name>` (its database and queue) is one of them while it exists.
 */
import { DescribeStackEventsCommand, type CloudFormationClient, type StackEvent } from '@aws-sdk/client-cloudformation';
import type { CommandIO } from '../command-io';
import { findDeployment } from '../discovery/deployments';
import { readScaleDataStack } from '../discovery/scale-deployment';
import { ExitCode } from '../errors';
import { countOperationStarts, groupOperations, type StackOperation } from './operations';
import { renderHistory } from './render';

export interface HistoryOptions {
  readonly name: string;
  readonly limit: number;
  readonly json: boolean;
}

/** DescribeStackEvents pages (newest first) until `limit` operations have begun in them, at most `maxPages`. */
export async function stackEvents(cfn: CloudFormationClient, stackName: string, limit: number, maxPages = 20): Promise<StackEvent[]> {
  const events: StackEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const response = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: nextToken }));
    events.push(...(response.StackEvents ?? []));
    nextToken = response.NextToken;
    if (!nextToken || countOperationStarts(events) >= limit) break;
  }
  return events;
}

export async function runHistory(io: CommandIO, options: HistoryOptions): Promise<number> {
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  spinner.start(`Reading the stack events of ${options.name}…`);
  let operations: StackOperation[];
  try {
    const region = await clients.region();
    const [deployment, scaleData] = await Promise.all([findDeployment(clients.cloudFormation, options.name, region), readScaleDataStack(clients.cloudFormation, options.name)]);
    const stacks = [deployment.compute, ...deployment.extraCompute, scaleData, deployment.data].filter((s) => s !== undefined);
    const perStack = await Promise.all(stacks.map(async (stack) => groupOperations(await stackEvents(clients.cloudFormation, stack.stackName, options.limit))));
    operations = perStack
      .flat()
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, options.limit);
  } finally {
    spinner.stop();
  }
  const now = io.services.clock.now();
  if (options.json) {
    io.write(`${JSON.stringify({ deployment: options.name, operations: operations.map((op) => operationJson(op, now)) }, null, 2)}\n`);
  } else {
    io.write(renderHistory(options.name, operations, now, io.style));
  }
  return ExitCode.ok;
}

export function operationJson(op: StackOperation, now: number) {
  return {
    stack: op.stackName,
    kind: op.kind,
    startedAt: new Date(op.startedAt).toISOString(),
    endedAt: op.endedAt === undefined ? null : new Date(op.endedAt).toISOString(),
    durationSeconds: Math.round(((op.endedAt ?? now) - op.startedAt) / 1000),
    outcome: op.outcome,
    status: op.status,
    firstFailure: op.firstFailure ?? null,
    resourcesChanged: op.resources,
  };
}
