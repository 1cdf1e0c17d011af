import { Command, Option } from 'clipanion';
import { UsageProblem } from '../errors';
import { GmOpsCommand } from './base-command';
import { deploymentNameProblem, isDurationMs } from './validators';

export class HealthCommand extends GmOpsCommand {
  static paths = [['health']];

  static usage = Command.Usage({
    description: 'probe the services of one, several or all deployments',
    details: `
      By default every probe of a host runs on the host in one SSM command (curl of each service's health endpoint on 127.0.0.1, \`pg_isready\` in the postgres container), so it works with nothing exposed. \`--direct\` probes the tier's entry point from here instead (HTTP and TCP).

      A scale deployment is not one host, and is checked as what it is: n8n main's readiness through its entry URL (CloudFront), each ECS service (main, workers, webhook processors) at its desired running tasks with their container health checks passing, the database (RDS) and the queue (Valkey) available, the AI host and its services (Ollama, Qdrant, Crawl4AI) through SSM. With \`--direct\` only its entry is probed from here; the rest is private to its VPC and shown as skipped.

      \`--deep\` also runs the host's functional check in the same SSM command: each service does its real job once with the deployment's real secrets (the n8n owner logs in and sees the pre-wired credentials, PostgreSQL answers a query as n8n's user, Qdrant stores and finds a vector, Ollama lists its models, Crawl4AI crawls a page served on the host). Its outcome is shown beside the liveness (FUNCTION column, \`function\` in JSON); a service whose function fails, or could not be checked, is unhealthy. On a scale deployment it runs on the AI host, for its three services. It needs the host, so it cannot be combined with \`--direct\`.

      Per service: state, latency and detail. A response over 2 s warns, over 5 s is critical. \`--watch\` repeats every interval and counts consecutive failures: the third in a row is CRITICAL.

      \`--replace-on-critical\` (with \`--watch\`) marks a host Unhealthy (SetInstanceHealth) once its checks are CRITICAL, after asking (or \`--yes\`), once per deployment per run; its auto scaling group replaces it. On a scale deployment only the AI host can be replaced, and only for the AI host's own checks; ECS already replaces an n8n task whose container health check fails, so a failing ECS service, database or queue is reported, never acted on.

      \`--json\`: for one scale deployment alone, one document with its checks (\`deployment\`, \`tier\`, \`healthy\`, \`checks\`: part, ok, detail, latencyMs). Otherwise one document per round: \`deployments\` (each one's tier and verdict) and \`services\`, one row per check with its deployment, tier, service, check, state and detail.

      Exits 0 when everything is healthy, 1 otherwise, 2 for usage errors.
    `,
    examples: [
      ['Probe every deployment of the region', '$0 health'],
      ['Probe my-stack from here, through its entry point', '$0 health my-stack --direct'],
      ['Check that every service of my-stack really works', '$0 health my-stack --deep'],
      ['Watch two deployments every 10 seconds', '$0 health my-stack other-stack --watch --interval 10s'],
      ['One JSON document, for a monitor', '$0 health my-stack --json'],
      ['Replace the host when a check fails 3 rounds in a row (asks first)', '$0 health my-stack --watch --replace-on-critical'],
    ],
  });

  direct = Option.Boolean('--direct', false, { description: 'Probe the entry point from this machine instead of through SSM' });

  deep = Option.Boolean('--deep', false, { description: "Also run the host's functional check: each service does its real job once (through SSM)" });

  watch = Option.Boolean('-w,--watch', false, { description: 'Repeat every --interval and redraw (Ctrl-C to stop)' });

  interval = Option.String('--interval', {
    description: 'Time between --watch rounds (default 30s)',
    validator: isDurationMs(1000, 3_600_000),
  });

  timeout = Option.String('--timeout', {
    description: 'Time limit of each probe (default 8s)',
    validator: isDurationMs(100, 120_000),
  });

  json = Option.Boolean('--json', false, { description: 'Print JSON (one document per round)' });

  replaceOnCritical = Option.Boolean('--replace-on-critical', false, {
    description: 'With --watch: a deployment whose host check failed 3 rounds in a row gets its host replaced (marked Unhealthy), after confirmation (scale: the AI host only)',
  });

  yes = Option.Boolean('-y,--yes', false, { description: 'Confirm --replace-on-critical without asking' });

  names = Option.Rest({ name: 'name' });

  async execute(): Promise<number> {
    for (const name of this.names) {
      const problem = deploymentNameProblem(name);
      if (problem) throw new UsageProblem(`invalid deployment name: ${problem}`, 'see `gm-ops health --help`');
    }
    if (this.deep && this.direct) {
      throw new UsageProblem('--deep cannot be combined with --direct: the functional check runs on the host, through SSM', 'drop --direct (see `gm-ops health --help`)');
    }
    if (this.replaceOnCritical && !this.watch) {
      throw new UsageProblem('--replace-on-critical needs --watch: a host is replaced only after 3 failed rounds in a row', 'see `gm-ops health --help`');
    }
    if (this.replaceOnCritical && !this.yes && !this.context.services.prompt.available) {
      throw new UsageProblem('--replace-on-critical asks before replacing a host: run it at a terminal, or pass --yes', 'see `gm-ops health --help`');
    }
    // One scale deployment alone gets its own report; among others, --direct or --replace-on-critical, its rows join
    // the common report (health/run.ts asks scale/health.ts for them).
    if (this.names.length === 1 && !this.direct && !this.replaceOnCritical) {
      const { isScaleDeployment } = await import('../scale/stacks');
      if (await isScaleDeployment(this.io().aws().cloudFormation, this.names[0])) {
        const { runScaleHealth } = await import('../scale/health');
        return runScaleHealth(this.io(), {
          name: this.names[0],
          deep: this.deep,
          timeoutMs: this.timeout ?? 8000,
          json: this.json,
          watch: this.watch,
          intervalMs: this.interval ?? 30_000,
        });
      }
    }
    const { runHealth } = await import('../health/run');
    return runHealth(this.io(), {
      names: this.names,
      direct: this.direct,
      deep: this.deep,
      watch: this.watch,
      intervalMs: this.interval ?? 30_000,
      timeoutMs: this.timeout ?? 8000,
      json: this.json,
      replaceOnCritical: this.replaceOnCritical,
      yes: this.yes,
    });
  }
}
