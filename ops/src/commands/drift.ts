import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

export class DriftCommand extends GmOpsCommand {
  static paths = [['drift']];

  static usage = Command.Usage({
    description: 'find what changed outside the deployment: stacks and host',
    details: `
      Runs CloudFormation drift detection on the compute and data stacks, and on a scale deployment's database stack \`GeuseScaleData-<name>\` while it exists (DetectStackDrift, waits for it, DescribeStackResourceDrifts), and lists each drifted resource with its changed properties.

      On the host (one SSM command): each running container's image against the image the deployed compose file pins, and its compose config hash against the deployed configuration's (\`docker compose config --hash\`). On the scale tier that host is the AI host, which runs only Ollama, Qdrant and Crawl4AI: n8n and PostgreSQL not running there is not drift (they run on ECS and RDS, whose drift is their stacks').

      Exits 0 when nothing drifted, 1 on any drift or when drift could not be determined.
    `,
    examples: [
      ['Check my-stack for drift', '$0 drift my-stack'],
      ['The same, as JSON', '$0 drift my-stack --json'],
    ],
  });

  timeout = Option.String('--timeout', { description: 'How long to wait for the drift detection (default 5m)', validator: isDurationMs(10_000, 30 * 60_000) });

  json = Option.Boolean('--json', false, { description: 'Print one JSON document' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    const { runDrift } = await import('../drift/run');
    return runDrift(this.io(), { name: this.name, json: this.json, timeoutMs: this.timeout ?? 5 * 60_000, pollMs: 2000 });
  }
}
