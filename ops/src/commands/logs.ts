import { Command, Option } from 'clipanion';
import { SERVICES } from '../contract';
import { UsageProblem } from '../errors';
import { GmOpsCommand } from './base-command';
import { isDeploymentName, isLineCount, isListOf, isSince } from './validators';

const LOG_SOURCES = [...SERVICES.map((s) => s.name), 'bootstrap'];
/** The scale tier's ECS processes, read from CloudWatch Logs (scale/logs.ts). */
const SCALE_SOURCES: readonly string[] = ['main', 'worker', 'webhook', 'runner', 'backlog'];

export class LogsCommand extends GmOpsCommand {
  static paths = [['logs']];

  static usage = Command.Usage({
    description: 'show or follow the Docker logs of a deployment',
    details: `
      Reads the containers' logs on the current host through SSM (one command per poll for all the requested services), with \`--timestamps\` cursors so that no line is lost or printed twice between polls.

      Services: ${LOG_SOURCES.join(', ')} (\`bootstrap\` is the host's bootstrap log). All containers by default.

      Scale tier: ${SCALE_SOURCES.join(', ')} are the ECS tasks' CloudWatch log groups (main, worker and webhook by default; the last hour unless \`--since\` says otherwise); the AI services are read on the AI host as above.

      \`--since\` takes a duration (30s, 10m, 2h, 1h30m, 3d) or an RFC3339 time. \`--tail\` defaults to 100 lines, 10 when following, and to everything when \`--since\` is given.
    `,
    examples: [
      ['Show the last 100 lines of every service', '$0 logs my-stack'],
      ['Follow n8n and postgres', '$0 logs my-stack -f --service n8n --service postgres'],
      ['The last hour of Ollama, as NDJSON', '$0 logs my-stack --service ollama --since 1h --json'],
      ['Why did the host not come up?', '$0 logs my-stack --service bootstrap --tail 200'],
    ],
  });

  name = Option.String({ name: 'name', validator: isDeploymentName });

  services = Option.Array('-s,--service', {
    description: `Service to read, repeatable: ${LOG_SOURCES.join(', ')}`,
    validator: isListOf([...LOG_SOURCES, ...SCALE_SOURCES], 'service'),
  });

  follow = Option.Boolean('-f,--follow', false, { description: 'Keep printing new lines (Ctrl-C to stop)' });

  since = Option.String('--since', {
    description: 'Only lines since a duration ago (10m, 2h) or an RFC3339 time',
    validator: isSince,
  });

  tail = Option.String('--tail', {
    description: 'Lines of history per service (default 100, 10 with --follow)',
    validator: isLineCount(100_000),
  });

  timestamps = Option.Boolean('-t,--timestamps', false, { description: 'Prefix each line with its timestamp' });

  json = Option.Boolean('--json', false, { description: 'Print NDJSON: {"timestamp","service","message"} per line' });

  async execute(): Promise<number> {
    const [{ runLogs }, { parseSince }] = await Promise.all([import('../logs/run'), import('../logs/since')]);
    const since = this.since !== undefined ? parseSince(this.since) : undefined;
    const tail = this.tail ?? (since ? undefined : this.follow ? 10 : 100);
    const { isScaleDeployment } = await import('../scale/stacks');
    const scale = await isScaleDeployment(this.io().aws().cloudFormation, this.name);
    const wanted = this.services ?? [];
    if (!scale && wanted.some((s) => SCALE_SOURCES.includes(s))) {
      throw new UsageProblem(`${wanted.filter((s) => SCALE_SOURCES.includes(s)).join(', ')}: only a scale deployment has these logs`, `services here: ${LOG_SOURCES.join(', ')}`);
    }
    if (scale && (wanted.length === 0 || wanted.every((s) => SCALE_SOURCES.includes(s)))) {
      const { runScaleLogs, SCALE_DEFAULT_LOG_SOURCES } = await import('../scale/logs');
      const sources = [...new Set(wanted.length ? wanted : SCALE_DEFAULT_LOG_SOURCES)];
      return runScaleLogs(this.io(), { name: this.name, sources, follow: this.follow, since, tail, json: this.json, timestamps: this.timestamps });
    }
    if (scale && wanted.some((s) => SCALE_SOURCES.includes(s))) {
      throw new UsageProblem('ask for the ECS processes and the AI host\'s services in separate calls', `ECS: ${SCALE_SOURCES.join(', ')}; AI host: ollama, qdrant, crawl4ai, bootstrap`);
    }
    return runLogs(this.io(), {
      name: this.name,
      services: [...new Set(this.services ?? SERVICES.map((s) => s.name))],
      follow: this.follow,
      since,
      tail,
      json: this.json,
      timestamps: this.timestamps,
    });
  }
}
