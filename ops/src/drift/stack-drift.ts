/**
 * CloudFormation drift detection on one stack: DetectStackDrift, then DescribeStackDriftDetectionStatus
 * until the detection ends (bounded, through the injected sleep and clock), then
 * DescribeStackResourceDrifts for the resources that were modified or deleted.
 */
import {
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DetectStackDriftCommand,
  type CloudFormationClient,
} from '@aws-sdk/client-cloudformation';
import type { Clock, Sleep } from '../context';
import { Interrupted, OpsError } from '../errors';

export interface PropertyDrift {
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
  /** ADD, REMOVE or NOT_EQUAL. */
  readonly difference: string;
}

export interface ResourceDrift {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  /** MODIFIED or DELETED. */
  readonly status: string;
  readonly properties: readonly PropertyDrift[];
}

export interface StackDrift {
  readonly stackName: string;
  /** DRIFTED, IN_SYNC, UNKNOWN or NOT_CHECKED. */
  readonly status: string;
  readonly detectionStatus: string;
  readonly reason?: string;
  readonly resources: readonly ResourceDrift[];
}

export interface DriftWait {
  readonly sleep: Sleep;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly pollMs: number;
}

export async function detectStackDrift(cfn: CloudFormationClient, stackName: string, wait: DriftWait): Promise<StackDrift> {
  const started = await cfn.send(new DetectStackDriftCommand({ StackName: stackName }));
  const detectionId = started.StackDriftDetectionId;
  if (!detectionId) throw new OpsError(`CloudFormation started no drift detection on ${stackName}`);
  const deadline = wait.clock.now() + wait.timeoutMs;
  for (;;) {
    await wait.sleep(wait.pollMs, wait.signal);
    if (wait.signal.aborted) throw new Interrupted();
    const status = await cfn.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: detectionId }));
    const detectionStatus = String(status.DetectionStatus ?? 'DETECTION_IN_PROGRESS');
    if (detectionStatus === 'DETECTION_IN_PROGRESS') {
      if (wait.clock.now() >= deadline) {
        throw new OpsError(`drift detection on ${stackName} did not end in time (${detectionId})`, 'retry later, or pass a longer --timeout');
      }
      continue;
    }
    const stackStatus = String(status.StackDriftStatus ?? 'UNKNOWN');
    const resources = stackStatus === 'DRIFTED' ? await driftedResources(cfn, stackName) : [];
    return { stackName, status: stackStatus, detectionStatus, reason: status.DetectionStatusReason, resources };
  }
}

async function driftedResources(cfn: CloudFormationClient, stackName: string): Promise<ResourceDrift[]> {
  const resources: ResourceDrift[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cfn.send(
      new DescribeStackResourceDriftsCommand({ StackName: stackName, StackResourceDriftStatusFilters: ['MODIFIED', 'DELETED'], NextToken: nextToken }),
    );
    for (const drift of page.StackResourceDrifts ?? []) {
      resources.push({
        logicalId: drift.LogicalResourceId ?? '',
        type: drift.ResourceType ?? '',
        physicalId: drift.PhysicalResourceId,
        status: String(drift.StackResourceDriftStatus ?? ''),
        properties: (drift.PropertyDifferences ?? []).map((p) => ({
          path: p.PropertyPath ?? '',
          expected: p.ExpectedValue ?? '',
          actual: p.ActualValue ?? '',
          difference: String(p.DifferenceType ?? ''),
        })),
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return resources;
}
