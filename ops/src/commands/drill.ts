import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

const isArn = (kind: string, pattern: RegExp, example: string) =>
  t.makeValidator<unknown, string>({
    test: (value, state): value is string => {
      if (typeof value === 'string' && pattern.test(value)) return true;
      state?.errors?.push(`${state.p ?? '.'}: expected ${kind} such as ${example} (got "${String(value)}")`);
      return false;
    },
  });

export class DrillCommand extends GmOpsCommand {
  static paths = [['drill']];

  static usage = Command.Usage({
    description: 'prove that the newest backup restores, in a throwaway deployment',
    details: `
      Restores the backups directory of the newest completed recovery point of the deployment's file system (AWS Backup) into a new encrypted file system, copies the deployment's stored secrets under \`geusemaker/<name>-drill/\`, deploys a throwaway deployment \`<name>-drill\` (its own stacks, with the source's settings) on that copy, restores the newest backup set of the copy there with the host's restore script and runs the functional check. It reports the recovery point and set used, how long each phase took and the result per service, then always removes the drill: \`cdk destroy\` of its stacks, the restored file system and the copied secrets. The source deployment is only read.

      Prints the plan first; acts on \`--yes\` (or after a confirmation on a terminal). Refuses, in one line, when there is no recovery point or backup set, when an earlier drill left stacks, a file system or secrets behind (each named, with the command that removes it), when \`<name>-drill\` would not be a valid deployment name, or for a scale deployment (before it reads anything: its database is RDS's to restore, into a new DB instance, and \`gm-ops restore <name> --to <set>\` restores its vectors). Runs \`npx cdk deploy\` and so must run inside the GeuseMaker project.

      Exits 0 when the set restored, every service passed its functional check and the cleanup removed everything; 1 otherwise (a cleanup that left something names it).
    `,
    examples: [
      ['See what the drill would do', '$0 drill my-stack'],
      ['Run it', '$0 drill my-stack --yes'],
      ['Drill from a recovery point of your own backup plan', '$0 drill my-stack --recovery-point arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45 --yes'],
    ],
  });

  yes = Option.Boolean('-y,--yes', false, { description: 'Carry out the drill without asking' });

  recoveryPoint = Option.String('--recovery-point', {
    description: 'The recovery point to restore (default: the newest completed one of the file system)',
    validator: isArn('a recovery point ARN', /^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:recovery-point:[A-Za-z0-9-]+$/, 'arn:aws:backup:eu-west-1:123456789012:recovery-point:1EB3B5E7-…'),
  });

  restoreRole = Option.String('--restore-role', {
    description: 'The IAM role AWS Backup restores with (default: the data stack\'s BackupRoleArn output, else service-role/AWSBackupDefaultServiceRole)',
    validator: isArn('an IAM role ARN', /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole'),
  });

  timeout = Option.String('--timeout', { description: 'How long the restore job may take (default 240m)', validator: isDurationMs(60_000, 24 * 3_600_000) });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document (the plan and the result)' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    const { runDrill } = await import('../drill/run');
    return runDrill(this.io(), {
      name: this.name,
      yes: this.yes,
      json: this.json,
      recoveryPointArn: this.recoveryPoint,
      restoreRole: this.restoreRole,
      restoreTimeoutMs: this.timeout ?? 4 * 3_600_000,
      pollMs: 30_000,
      stderr: this.context.stderr,
    });
  }
}
