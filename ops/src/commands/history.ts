import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isWholeNumber } from './validators';

export class HistoryCommand extends GmOpsCommand {
  static paths = [['history']];

  static usage = Command.Usage({
    description: 'every CloudFormation operation on a deployment, newest first',
    details: `
      Reads the stack events of the deployment's compute and data stacks (and of a scale deployment's database stack, \`GeuseScaleData-<name>\`) (DescribeStackEvents) and groups them into the operations that produced them: create, update, delete, import, and rollbacks of their own (\`rollback-stack\`, \`continue-update-rollback\`). Per operation: when it started, how long it took, its outcome (succeeded, rolled back, failed, in progress), the first failure's reason, and the resources it changed.

      Exits 0 when the history could be read, 1 otherwise.
    `,
    examples: [
      ['The last 10 operations of my-stack', '$0 history my-stack'],
      ['The last 3, as JSON', '$0 history my-stack --limit 3 --json'],
    ],
  });

  limit = Option.String('--limit', { description: 'How many operations to show (default 10)', validator: isWholeNumber(1, 1000) });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    const { runHistory } = await import('../history/run');
    return runHistory(this.io(), { name: this.name, limit: this.limit ?? 10, json: this.json });
  }
}
