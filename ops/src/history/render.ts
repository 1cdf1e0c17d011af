/** The history as a table, newest first, with the first failure's reason under each failed operation. */
import { formatTime } from '../output/format';
import type { Style } from '../output/style';
import { renderTable } from '../output/table';
import type { OperationOutcome, StackOperation } from './operations';

/** 4m 32s, 1h 02m, 45s. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function paint(outcome: OperationOutcome, style: Style): string {
  switch (outcome) {
    case 'succeeded':
      return style.green(outcome);
    case 'in progress':
      return style.cyan(outcome);
    default:
      return style.red(outcome);
  }
}

export function renderHistory(name: string, operations: readonly StackOperation[], now: number, style: Style): string {
  if (operations.length === 0) return `no stack operations recorded for ${name}\n`;
  let out = renderTable(
    ['STARTED', 'STACK', 'KIND', 'DURATION', 'OUTCOME', 'RESOURCES'],
    operations.map((op) => [
      formatTime(op.startedAt),
      op.stackName,
      op.kind,
      formatDuration((op.endedAt ?? now) - op.startedAt) + (op.endedAt === undefined ? '+' : ''),
      paint(op.outcome, style),
      String(op.resources.length),
    ]),
    style,
  );
  const failures = operations.filter((op) => op.firstFailure);
  if (failures.length > 0) {
    out += `\n${style.bold('First failure of each operation')}\n`;
    for (const op of failures) {
      const failure = op.firstFailure!;
      out += `  ${formatTime(op.startedAt)}  ${op.stackName} ${op.kind}: ${failure.logicalId} (${failure.type}) ${failure.status}: ${failure.reason}\n`;
    }
  }
  return out;
}
