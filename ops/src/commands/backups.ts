import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName } from './validators';

export class BackupsCommand extends GmOpsCommand {
  static paths = [['backups']];

  static usage = Command.Usage({
    description: 'list the backup sets of one deployment',
    details: `
      The backup sets on the deployment's file system (read on the host through one SSM command), newest first, with their time, size and the runtime version that wrote them.
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
