import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName } from './validators';

export class BackupsCommand extends GmOpsCommand {
  static paths = [['backups']];

  static usage = Command.Usage({
    description: 'list the backup sets of one deployment',
    details: `
      The backup sets on the deployment's file system (read on the host through one SSM command), newest first, with their time, size and the runtime version that wrote them, then the file system's recovery points in AWS Backup.

      On the scale tier the sets are the AI host's (with what each holds: vectors only, or a whole set from before a migration), and a last line gives n8n's database on RDS: its state, how many days of automated backups it keeps and the latest time it can be restored to (DescribeDBInstances).
    `,
    examples: [
      ['List the backup sets of my-stack', '$0 backups my-stack'],
      ['The same, as JSON', '$0 backups my-stack --json'],
    ],
  });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  async execute(): Promise<number> {
    const { runBackups } = await import('../backup/run');
    return runBackups(this.io(), { name: this.name, json: this.json });
  }
}
