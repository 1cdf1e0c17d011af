import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName } from './validators';

export class StatusCommand extends GmOpsCommand {
  static paths = [['status']];

  static usage = Command.Usage({
    description: 'show the state of one deployment',
    details: `
      About (stacks, tier, host, instance type, market, AZ, file system), Endpoints, Services (container state and Docker health, read on the host through one SSM command) and recent stack events with their failure reasons.

      A stack stuck in ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED, DELETE_FAILED and the like is named as such, with the exact command that gets it out.

      Exits 0 when everything is fine, 1 when something needs attention.
    `,
    examples: [
      ['Show the state of my-stack', '$0 status my-stack'],
      ['The same, as JSON', '$0 status my-stack --json'],
    ],
  });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  async execute(): Promise<number> {
    const { isScaleDeployment } = await import('../scale/stacks');
    if (await isScaleDeployment(this.io().aws().cloudFormation, this.name)) {
      const { runScaleStatus } = await import('../scale/status');
      return runScaleStatus(this.io(), { name: this.name, json: this.json });
    }
    const { runStatus } = await import('../status/run');
    return runStatus(this.io(), { name: this.name, json: this.json });
  }
}
