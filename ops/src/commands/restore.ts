import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { TIERS, type Tier } from '../contract';
import { UsageProblem } from '../errors';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

const isTier = t.makeValidator<unknown, Tier>({
  test: (value, state): value is Tier => {
    if (typeof value === 'string' && (TIERS as readonly string[]).includes(value)) return true;
    state?.errors?.push(`${state.p ?? '.'}: expected one of ${TIERS.join(', ')} (got "${String(value)}")`);
    return false;
  },
});

const isFileSystemId = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    if (typeof value === 'string' && /^fs-[0-9a-f]{8}([0-9a-f]{9})?$/.test(value)) return true;
    state?.errors?.push(`${state.p ?? '.'}: expected an EFS file system id such as fs-0123456789abcdef0 (got "${String(value)}")`);
    return false;
  },
});

export class RestoreCommand extends GmOpsCommand {
  static paths = [['restore']];

  static usage = Command.Usage({
    description: 'bring a deployment back on its retained data',
    details: `
      Looks at the deployment and prints a plan first; acts on \`--yes\`, or after a confirmation on a terminal. Without \`--yes\` and without a terminal it prints the plan and exits 1.

      - Host dead or unhealthy, stacks in place: the host is terminated through its auto scaling group (desired capacity stays 1), the group launches a replacement, which waits on the EFS fence so that there is never a second writer; then every service is checked through SSM and the time to healthy reported.
      - Compute stack deleted, data stack alive: \`npx cdk deploy Geuse<Tier>-<name> -c name=<name> -c tier=<tier> --require-approval never\`. The tier is \`--tier\` or the last deleted compute stack's.
      - Data stack deleted, file system and secrets retained: they are found (the geuse:deployment tag, the deleted stack's resources, the secrets' fixed names, also when scheduled for deletion), the file system is written into the deployment's entry in cdk.json (\`"retainedData": { "fileSystemId": "<fs-id>" }\`, so every later deploy mounts it again), then the data stack is rebuilt around them along with the compute stack. A deployment declared with \`-c\` only gets the exact lines to add instead.
      - Secrets retained but their file system gone (or a data stack that failed because their names are taken): the ways out are printed, one line each; restore deletes nothing.

      - The scale tier: the host is the AI host (group \`geusemaker-<name>-ai\`) and only Ollama, Qdrant and Crawl4AI count for its health; ECS replaces failed n8n tasks itself; a stopped deployment is brought back by \`gm-ops start\`. A redeploy deploys \`GeuseScaleData-<name>\` and \`GeuseScale-<name>\` (with \`GeuseData-<name>\` when that is rebuilt) and needs \`GeuseScaleData-<name>\`, where n8n's database lives: without it restore refuses rather than start n8n on a new, empty database. Moving between the scale tier and a host tier is \`gm-ops migrate\`, not \`--tier\`.

      - \`--to <set|time>\`: the deployment's data goes back to one backup set (a name from \`gm-ops backups\`, or the newest set made at or before a time): the host checks the set's checksums, takes the single-writer fence, restores n8n's database, its files and Qdrant's vectors, restarts the stack and runs the functional check; the restore ends only when it passes. On the scale tier it restores Qdrant's vectors on the AI host from a set that holds them (n8n's database is on RDS: RDS restores a point in time or a snapshot, into a new DB instance).

      The deploys run when gm-ops runs inside the GeuseMaker project (a cdk.json with the geusemaker app up the directory tree); elsewhere the exact command is printed. Restore deletes nothing and is safe to run twice: a healthy deployment has nothing to restore (exit 0).
    `,
    examples: [
      ['See what restore would do', '$0 restore my-stack'],
      ['Do it', '$0 restore my-stack --yes'],
      ['Rebuild on a chosen file system, as the gpu tier', '$0 restore my-stack --file-system fs-0123456789abcdef0 --tier gpu --yes'],
      ['Put the data back to the newest backup set of that morning', '$0 restore my-stack --to 2026-11-29T09:00:00Z --yes'],
    ],
  });

  yes = Option.Boolean('-y,--yes', false, { description: 'Carry out the plan without asking' });

  tier = Option.String('--tier', { description: `Tier to redeploy (${TIERS.join(', ')}); default: the last deleted compute stack's`, validator: isTier });

  fileSystem = Option.String('--file-system', { description: 'The retained EFS file system to rebuild on, when several could be the one', validator: isFileSystemId });

  timeout = Option.String('--timeout', { description: 'How long to wait for a healthy host (default 45m)', validator: isDurationMs(60_000, 4 * 3_600_000) });

  to = Option.String('--to', { description: 'Restore the data to a backup set (its name, or a time: the newest set made at or before it)' });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document (the plan and the result)' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    if (this.to !== undefined) {
      if (this.tier || this.fileSystem) throw new UsageProblem('--to restores data on the running deployment; it does not take --tier or --file-system');
      const { runRestoreTo } = await import('../backup/restore-to');
      return runRestoreTo(this.io(), { name: this.name, to: this.to, yes: this.yes, json: this.json });
    }
    const { runRestore } = await import('../restore/run');
    return runRestore(this.io(), {
      name: this.name,
      yes: this.yes,
      json: this.json,
      tier: this.tier,
      fileSystemId: this.fileSystem,
      timeoutMs: this.timeout ?? 45 * 60_000,
      pollMs: 15_000,
      stderr: this.context.stderr,
    });
  }
}
