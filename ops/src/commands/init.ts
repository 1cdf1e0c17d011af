import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';

export class InitCommand extends GmOpsCommand {
  static paths = [['init']];

  static usage = Command.Usage({
    description: 'declare a first deployment in cdk.json, ready to deploy',
    details: `
      Asks for the deployment's name, tier, an existing VPC (listed when your credentials allow), spot or on-demand, the allowed CIDRs and the n8n owner's email, checks them with the rules synth applies, and writes the deployment into cdk.json ("geusemaker:deployments"). It never replaces a deployment already declared there without \`--force\`. It ends with the exact deploy command.

      Every question has a flag: without a terminal, \`--name\` and \`--owner-email\` are required and the rest defaults (tier dev, spot, no allowed CIDRs, a new VPC).
    `,
    examples: [
      ['Answer the questions', '$0 init'],
      ['Unattended', '$0 init --name team-n8n --tier automation --owner-email ops@example.com --allowed-cidr 203.0.113.0/24'],
    ],
  });

  name = Option.String('--name', { description: 'Deployment name (lowercase letters, digits, hyphens)' });

  tier = Option.String('--tier', { description: 'dev, automation or gpu (default dev)' });

  market = Option.String('--market', { description: 'spot or on-demand (default spot)' });

  allowedCidrs = Option.Array('--allowed-cidr', { description: 'A network allowed to reach n8n, repeatable (e.g. 203.0.113.0/24)' });

  ownerEmail = Option.String('--owner-email', { description: "The n8n owner's login" });

  vpc = Option.String('--vpc', { description: 'An existing VPC id (needs --account and --region)' });

  account = Option.String('--account', { description: 'The AWS account of --vpc (12 digits)' });

  force = Option.Boolean('--force', false, { description: 'Replace the deployment if cdk.json already declares it' });

  async execute(): Promise<number> {
    const { runInit } = await import('../init/run');
    return runInit(this.io(), {
      name: this.name,
      tier: this.tier,
      market: this.market,
      allowedCidrs: this.allowedCidrs,
      ownerEmail: this.ownerEmail,
      vpcId: this.vpc,
      account: this.account,
      region: this.region,
      force: this.force,
      questions: this.context.services.questions,
    });
  }
}
