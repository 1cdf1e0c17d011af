import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { UsageProblem } from '../errors';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

const TARGETS = ['dev', 'automation', 'gpu', 'scale'] as const;
type Target = (typeof TARGETS)[number];

const isTarget = t.makeValidator<unknown, Target>({
  test: (value, state): value is Target => {
    if (typeof value === 'string' && (TARGETS as readonly string[]).includes(value)) return true;
    state?.errors?.push(`${state.p ?? '.'}: expected one of ${TARGETS.join(', ')} (got "${String(value)}")`);
    return false;
  },
});

export class MigrateCommand extends GmOpsCommand {
  static paths = [['migrate']];

  static usage = Command.Usage({
    description: 'move a deployment, data included, between a single host and the scale tier',
    details: `
      Prints the plan first; acts on \`--yes\`, or after a confirmation on a terminal. Without \`--yes\` and without a terminal it prints the plan and exits 1.

      To scale: n8n stops on the host and a backup set is taken there (the \`gm-ops backup\` set: dump, Qdrant snapshot, n8n's files, manifest); the host's stack stops, releasing the single-writer fence; the deployment's tier becomes "scale" in cdk.json and \`GeuseScale-<name>\` is deployed with its n8n services held at 0 tasks; the dump is restored into RDS from the AI host; a second deploy starts the services; the migration ends when the functional check passes on the scale tier (entry readiness, every service at its desired running and ready tasks, database and queue available, the AI services working), and only then is the old compute stack deleted.

      Back to a single host (\`--to dev|automation|gpu\`): the scale services are held at 0, a backup set is dumped from RDS on the AI host, its stack stops, the single-host tier is deployed and \`restore-backup.sh\` restores the set on the new host, ending with its functional check; then \`GeuseScale-<name>\` is deleted. \`GeuseScaleData-<name>\` (RDS, Valkey) is kept until you remove it.

      The n8n encryption key is the deployment's one retained secret on both tiers. A failure before the end names its step in one line (no backup possible, target deploy failed, restore failed, functional check failed), puts the source back (its stack restarted, cdk.json's tier restored) and removes nothing from it. Running migrate again is safe.
    `,
    examples: [
      ['See what moving my-stack to the scale tier would do', '$0 migrate my-stack --to scale'],
      ['Do it', '$0 migrate my-stack --to scale --yes'],
      ['Back to one host, as the automation tier', '$0 migrate my-stack --to automation --yes'],
    ],
  });

  to = Option.String('--to', { description: `The tier to move to (required): ${TARGETS.join(', ')}`, validator: isTarget });

  yes = Option.Boolean('-y,--yes', false, { description: 'Carry out the plan without asking' });

  timeout = Option.String('--timeout', { description: 'How long the new tier may take to pass its functional check (default 30m)', validator: isDurationMs(60_000, 4 * 3_600_000) });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document (the plan and the result)' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    if (this.to === undefined) throw new UsageProblem(`missing --to <tier> (${TARGETS.join(', ')})`, 'see `gm-ops migrate --help`');
    const { runMigrate } = await import('../scale/migrate/run');
    return runMigrate(this.io(), {
      name: this.name,
      to: this.to,
      yes: this.yes,
      json: this.json,
      timeoutMs: this.timeout ?? 30 * 60_000,
      pollMs: 30_000,
      output: this.context.stderr,
    });
  }
}
