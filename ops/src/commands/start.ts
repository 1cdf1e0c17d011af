import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

export class StartCommand extends GmOpsCommand {
  static paths = [['start']];

  static usage = Command.Usage({
    description: 'bring the host of a stopped deployment back and wait until it works',
    details: `
      Resumes the auto scaling group's ScheduledActions process when it is suspended (\`gm-ops stop\` suspends it), sets the desired capacity to 1 and waits while the group launches the host (its lifecycle state is shown), then until every service works: the probes and the functional check of \`gm-ops health --deep\`, through SSM. The new host mounts the retained file system.

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
