import { Command, Option } from 'clipanion';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isDurationMs } from './validators';

export class MetricsCommand extends GmOpsCommand {
  static paths = [['metrics']];

  static usage = Command.Usage({
    description: "a deployment's resource use: host, services, file system",
    details: `
      One SSM command reads the host's CPU, memory and disks and each service's CPU and memory (\`docker stats --no-stream\`); CloudWatch gives the file system's size and throughput over the last hour, drawn as a small trend. On the scale tier the host is the AI host (Ollama, Qdrant, Crawl4AI); a line says where the n8n tasks' and the database's figures are (\`gm-ops status\`, CloudWatch AWS/ECS and AWS/RDS).

      \`--watch\` redraws every \`--interval\` (default 10s) until Ctrl-C; with \`--json\` it prints one JSON document per round (NDJSON).
    `,
    examples: [
      ['What my-stack uses now', '$0 metrics my-stack'],
      ['A live table', '$0 metrics my-stack --watch'],
      ['NDJSON every 30 seconds', '$0 metrics my-stack --watch --interval 30s --json'],
    ],
  });

  watch = Option.Boolean('-w,--watch', false, { description: 'Repeat every --interval and redraw (Ctrl-C to stop)' });

  interval = Option.String('--interval', { description: 'Time between --watch rounds (default 10s)', validator: isDurationMs(2000, 3_600_000) });

  json = Option.Boolean('--json', false, { description: 'Print JSON (one document per round)' });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  async execute(): Promise<number> {
    const { runMetrics } = await import('../metrics/run');
    return runMetrics(this.io(), { name: this.name, json: this.json, watch: this.watch, intervalMs: this.interval ?? 10_000 });
  }
}
