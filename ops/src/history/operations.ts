/**
 * Stack events (DescribeStackEvents, newest first) grouped into the operations that produced them:
 * each stack-level *_IN_PROGRESS that begins a create, update, delete or import opens one; a
 * rollback belongs to the operation it undoes, or is an operation of its own when nothing was open
 * (`rollback-stack`, `continue-update-rollback`); the stack's next settled status closes it.
 */
import type { StackEvent } from '@aws-sdk/client-cloudformation';

export type OperationKind = 'create' | 'update' | 'delete' | 'import' | 'rollback';
export type OperationOutcome = 'succeeded' | 'rolled back' | 'failed' | 'in progress';

export interface ChangedResource {
  readonly logicalId: string;
  readonly type: string;
  /** The resource's last status in this operation. */
  readonly status: string;
}

export interface FirstFailure {
  readonly logicalId: string;
  readonly type: string;
  readonly status: string;
  readonly reason: string;
}

export interface StackOperation {
  readonly stackName: string;
  readonly kind: OperationKind;
  readonly startedAt: number;
  /** Undefined while the operation is in progress. */
  readonly endedAt?: number;
  /** The stack's status at the end (or now). */
  readonly status: string;
  readonly outcome: OperationOutcome;
  readonly firstFailure?: FirstFailure;
  readonly resources: readonly ChangedResource[];
}

const STARTS: Record<string, OperationKind> = {
  CREATE_IN_PROGRESS: 'create',
  UPDATE_IN_PROGRESS: 'update',
  DELETE_IN_PROGRESS: 'delete',
  IMPORT_IN_PROGRESS: 'import',
};
const ROLLBACK_STARTS = new Set(['ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'IMPORT_ROLLBACK_IN_PROGRESS']);
/** What CloudFormation says of resources it stopped because another one failed: not the cause. */
const KNOCK_ON = /^Resource (creation|update) cancelled$/i;

interface Draft {
  stackName: string;
  kind: OperationKind;
  startedAt: number;
  endedAt?: number;
  status: string;
  rolledBack: boolean;
  firstFailure?: FirstFailure;
  stackReason?: string;
  resources: Map<string, ChangedResource>;
}

function isStackEvent(event: StackEvent): boolean {
  return event.ResourceType === 'AWS::CloudFormation::Stack' && event.LogicalResourceId === event.StackName;
}

function isSettled(status: string): boolean {
  return !status.endsWith('_IN_PROGRESS');
}

function outcomeOf(draft: Draft): OperationOutcome {
  if (draft.endedAt === undefined) return 'in progress';
  if (draft.status.endsWith('_FAILED')) return 'failed';
  if (draft.rolledBack || draft.status === 'ROLLBACK_COMPLETE' || draft.status === 'UPDATE_ROLLBACK_COMPLETE') {
    return draft.kind === 'rollback' ? 'succeeded' : 'rolled back';
  }
  return 'succeeded';
}

/** The operations of one stack, newest first. Events may come in any order. */
export function groupOperations(events: readonly StackEvent[]): StackOperation[] {
  const chronological = [...events].sort((a, b) => (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0));
  const drafts: Draft[] = [];
  let open: Draft | undefined;
  for (const event of chronological) {
    const status = String(event.ResourceStatus ?? '');
    const at = event.Timestamp?.getTime() ?? 0;
    if (isStackEvent(event)) {
      const kind = STARTS[status];
      if (kind) {
        open = { stackName: event.StackName ?? '', kind, startedAt: at, status, rolledBack: false, resources: new Map() };
        drafts.push(open);
      } else if (ROLLBACK_STARTS.has(status)) {
        if (open) {
          open.rolledBack = true;
          open.stackReason ??= event.ResourceStatusReason;
        } else {
          open = { stackName: event.StackName ?? '', kind: 'rollback', startedAt: at, status, rolledBack: true, resources: new Map() };
          drafts.push(open);
        }
      }
      if (open) {
        open.status = status;
        if (isSettled(status)) {
          open.endedAt = at;
          open = undefined;
        }
      }
      continue;
    }
    // Events from before the first operation we can see (history cut by --limit): left out.
    if (!open || !event.LogicalResourceId) continue;
    open.resources.set(event.LogicalResourceId, { logicalId: event.LogicalResourceId, type: event.ResourceType ?? '', status });
    const reason = event.ResourceStatusReason ?? '';
    if (!open.firstFailure && status.endsWith('_FAILED') && !KNOCK_ON.test(reason)) {
      open.firstFailure = { logicalId: event.LogicalResourceId, type: event.ResourceType ?? '', status, reason: reason || status };
    }
  }
  return drafts
    .map((draft): StackOperation => {
      const firstFailure =
        draft.firstFailure ??
        (draft.rolledBack && draft.stackReason
          ? { logicalId: draft.stackName, type: 'AWS::CloudFormation::Stack', status: draft.status, reason: draft.stackReason }
          : undefined);
      return {
        stackName: draft.stackName,
        kind: draft.kind,
        startedAt: draft.startedAt,
        endedAt: draft.endedAt,
        status: draft.status,
        outcome: outcomeOf(draft),
        firstFailure,
        resources: [...draft.resources.values()],
      };
    })
    .reverse();
}

/** How many operations begin in these events (to know when enough pages were read). */
export function countOperationStarts(events: readonly StackEvent[]): number {
  return events.filter((e) => isStackEvent(e) && STARTS[String(e.ResourceStatus ?? '')] !== undefined).length;
}
