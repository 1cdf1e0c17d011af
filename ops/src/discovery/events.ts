/** Recent stack events and the failure reasons of the latest operation. */
import { DescribeStackEventsCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';

export interface StackEventSummary {
  readonly time: number;
  readonly stackName: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly status: string;
  readonly reason?: string;
}

/** Newest first, at most `limit` (one DescribeStackEvents page holds up to 100). */
export async function recentStackEvents(cfn: CloudFormationClient, stackName: string, limit = 100): Promise<StackEventSummary[]> {
  const result: StackEventSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: nextToken }));
    for (const event of page.StackEvents ?? []) {
      result.push({
        time: event.Timestamp?.getTime() ?? 0,
        stackName: event.StackName ?? stackName,
        logicalId: event.LogicalResourceId ?? '',
        resourceType: event.ResourceType ?? '',
        status: event.ResourceStatus ?? '',
        reason: event.ResourceStatusReason,
      });
      if (result.length >= limit) return result;
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return result;
}

const OPERATION_STARTS = new Set(['CREATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'IMPORT_IN_PROGRESS']);
const CONSEQUENCES = /^Resource (creation|update|deletion) cancelled$/i;

/**
 * The failed events of the latest operation, oldest first (the first is usually the root cause);
 * "Resource creation cancelled" follow-ups are left out when a real cause exists.
 * @param events newest first, as returned by {@link recentStackEvents}
 */
export function failuresOfLatestOperation(events: readonly StackEventSummary[], stackName: string): StackEventSummary[] {
  const latest: StackEventSummary[] = [];
  for (const event of events) {
    latest.push(event);
    if (event.logicalId === stackName && OPERATION_STARTS.has(event.status) && event.resourceType === 'AWS::CloudFormation::Stack') break;
  }
  const failed = latest.filter((e) => e.status.endsWith('_FAILED')).reverse();
  const causes = failed.filter((e) => !CONSEQUENCES.test(e.reason ?? ''));
  return causes.length > 0 ? causes : failed;
}

/** Logical ids whose deletion failed in the latest operation (for `delete-stack --retain-resources`). */
export function resourcesFailingDeletion(events: readonly StackEventSummary[], stackName: string): string[] {
  return [
    ...new Set(
      failuresOfLatestOperation(events, stackName)
        .filter((e) => e.status === 'DELETE_FAILED' && e.logicalId !== stackName)
        .map((e) => e.logicalId),
    ),
  ];
}
