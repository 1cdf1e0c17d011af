import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';

export class ListCommand extends GmOpsCommand {
  static paths = [['list'], ['ls']];

  static usage = Command.Usage({
    description: 'list the GeuseMaker deployments of a region',
    details: `
      Every deployment found in CloudFormation (stacks named \`Geuse<Tier>-<name>\` and \`GeuseData-<name>\`): its tier, the compute stack's status, the current host (resolved from the auto scaling group: hosts get replaced), spot or on-demand, availability zone, and entry URL.

      Stacks stuck in a state CloudFormation cannot leave by itself are flagged; \`gm-ops status <name>\` shows the way out.
    `,
    examples: [
      ['List the deployments in the default region', '$0 list'],
      ['List the deployments in another region, as JSON', '$0 list --region eu-west-1 --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  async execute(): Promise<number> {
    const { runList } = await import('../list/run');
    return runList(this.io(), { json: this.json });
  }
}
