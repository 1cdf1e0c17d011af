import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

export class StopCommand extends GmOpsCommand {
  static paths = [['stop']];

  static usage = Command.Usage({
    description: 'take the host away and keep the data (what it costs while stopped); scale: the n8n tasks and the AI host',
    details: `
      Prints what it will do first; acts on \`--yes\`, or after a confirmation on a terminal. Without \`--yes\` and without a terminal it prints the plan and exits 1.

      The desired capacity of the deployment's auto scaling group is set to 0. The group holds the host in Terminating:Wait (lifecycle hook geusemaker-clean-stop) while it stops cleanly: PostgreSQL flushed, Qdrant's vectors snapshotted to EFS, the single-writer fence released; then it terminates it. Stop waits until the host is gone, showing each lifecycle state, at most \`--timeout\`.

      A deployment with a schedule (scheduled actions) gets its ScheduledActions process suspended first, so that the schedule cannot start the host again; \`gm-ops start\` resumes it.

      Then it shows what the deployment still costs while stopped (the file system, the stored secrets, on automation and gpu the load balancer), priced from the shipped offline price table. The file system and the secrets are never touched. A stopped deployment is said to be stopped (exit 0).

      A scale deployment: its n8n services go to 0 tasks first — the main and the webhook processors (UpdateService), then the workers, whose scalable target gets a minimum and maximum of 0 (RegisterScalableTarget, so that neither the backlog nor the CPU scaling can start one) before their desired count is set to 0 — then its AI host's group as above. Stop waits until no task runs and the AI host is gone. The database (RDS) and the queue (Valkey) keep running, and billing: the plan says what they cost a month. gm-ops does not stop RDS: AWS starts a stopped DB instance again after seven days. Only the steps still needed are planned; a step AWS refuses ends the stop in one line saying what was done, and running stop again finishes it.
    `,
    examples: [
      ['See what stop would do', '$0 stop my-stack'],
      ['Stop it', '$0 stop my-stack --yes'],
    ],
  });

  yes = Option.Boolean('-y,--yes', false, { description: 'Stop without asking' });

  timeout = Option.String('--timeout', { description: 'How long to wait for the host (and on scale the n8n tasks) to be gone (default 15m)', validator: isDurationMs(60_000, 2 * 3_600_000) });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document (the plan, the result and the stopped cost)' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    const { runStop } = await import('../lifecycle/stop');
    return runStop(this.io(), { name: this.name, yes: this.yes, json: this.json, timeoutMs: this.timeout ?? 15 * 60_000, pollMs: 10_000 });
  }
}
