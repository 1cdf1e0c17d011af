import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName } from './validators';

export class BackupCommand extends GmOpsCommand {
  static paths = [['backup']];

  static usage = Command.Usage({
    description: 'take one backup set now',
    details: `
      Runs the host's backup script through one SSM command and waits for it: n8n's database (pg_dump), a full Qdrant snapshot and n8n's files, with a manifest of sizes and sha256 checksums, written as one set to the file system's backups directory.

      On the scale tier the script runs on the AI host, whose sets hold Qdrant's snapshot only (named \`<time>-vectors\`): n8n's database is on RDS, kept by RDS's automated backups (point-in-time restore within their retention) and a final snapshot when it is deleted or replaced.

      Exits 0 when the set is written, 1 when it failed (with the host's reason).
    `,
    examples: [
      ['Back up my-stack now', '$0 backup my-stack'],
      ['The same, as JSON', '$0 backup my-stack --json'],
    ],
  });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  async execute(): Promise<number> {
    const { runBackup } = await import('../backup/run');
    return runBackup(this.io(), { name: this.name, json: this.json });
  }
}
