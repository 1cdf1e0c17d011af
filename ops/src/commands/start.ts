import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

export class StartCommand extends GmOpsCommand {
  static paths = [['start']];

  static usage = Command.Usage({
    description: 'bring the host of a stopped deployment back and wait until it works; scale: the AI host and the n8n tasks',
    details: `
      Resumes the auto scaling group's ScheduledActions process when it is suspended (\`gm-ops stop\` suspends it), sets the desired capacity to 1 and waits while the group launches the host (its lifecycle state is shown), then until every service works: the probes and the functional check of \`gm-ops health --deep\`, through SSM. The new host mounts the retained file system.

      A scale deployment: its AI host's group first (as above), then its n8n services back to what the deployed template of GeuseScale-<name> declares (GetTemplate): the desired count of the main and the webhook processors (UpdateService), the workers' scalable target's minimum and maximum (RegisterScalableTarget; the scaling policies own the workers' count again). Then it waits until every part works: the checks of \`gm-ops health <name> --deep\` (the entry, the ECS services, the database, the queue, the AI host's services and their functional check). Only the steps still needed are done; a step AWS refuses ends the start in one line saying what was done.

      \`--timeout\` bounds the wait (default: the deployment's bootstrap timeout plus 10 minutes). A running deployment is said to be running and checked: exit 0 when every service works, 1 otherwise.
    `,
    examples: [
      ['Start my-stack and wait until it works', '$0 start my-stack'],
      ['For a script', '$0 start my-stack --json --timeout 20m'],
    ],
  });

  timeout = Option.String('--timeout', { description: "How long to wait for a working host (default: the deployment's bootstrap timeout + 10m)", validator: isDurationMs(60_000, 4 * 3_600_000) });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document (the result)' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    const { runStart } = await import('../lifecycle/start');
    return runStart(this.io(), { name: this.name, json: this.json, timeoutMs: this.timeout, pollMs: 15_000, probeTimeoutMs: 8000 });
  }
}
