/**
 * `gm-ops health <name>` for a scale deployment. Healthy means working:
 * - n8n main answers its readiness on the entry URL (through CloudFront: the path users take);
 * - every ECS service has its desired running tasks and they pass their health checks (a worker's readiness,
 *   `/healthz/readiness` with QUEUE_HEALTH_CHECK_ACTIVE, is its container health check), no failed rollout;
 * - the database and the queue are available;
 * - the AI host's services answer (through SSM, as in the other tiers) and, with --deep, do their real job once
 *   (the host's functional check; only the AI services count: n8n and PostgreSQL are not on that host).
 */
import { runScript, scriptFailure } from '../aws/ssm-run';
import type { AwsClients } from '../aws/clients';
import type { CommandIO } from '../command-io';
import { DeploymentNotFound, ExitCode, OpsError } from '../errors';
import { probeHttp } from '../health/direct-probes';
import { hostProbeScript, hostProbeSeconds, parseHostProbes } from '../health/host-probes';
import { effectiveOutcome, type ProbeResult } from '../health/levels';
import { renderTable } from '../output/table';
import { readScaleLayout, type ScaleLayout } from './stacks';
import { readDatabase, readQueue, readServices, resourceProblem, serviceProblem } from './state';

/** The services of the AI host; n8n and PostgreSQL run elsewhere in this tier. */
export const AI_HOST_SERVICES = ['ollama', 'qdrant', 'crawl4ai'] as const;

export interface ScaleCheck {
  /** main, worker, webhook, entry, database, queue, ollama, ... */
  readonly part: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly latencyMs?: number;
}

export interface ScaleHealthOptions {
  readonly name: string;
  readonly deep: boolean;
  readonly timeoutMs: number;
  readonly json: boolean;
  /** Repeat every `intervalMs` until Ctrl-C (each round printed; the exit code is the last round's). */
  readonly watch?: boolean;
  readonly intervalMs?: number;
}

async function aiHostChecks(io: CommandIO, clients: AwsClients, layout: ScaleLayout, options: ScaleHealthOptions): Promise<ScaleCheck[]> {
  const { resolveHosts } = await import('../discovery/hosts');
  const down = (detail: string) => AI_HOST_SERVICES.map((part) => ({ part, ok: false, detail }));
  let instanceId: string;
  try {
    const lookup = (await resolveHosts(clients.autoScaling, clients.ec2, [layout.aiHostGroup])).get(layout.aiHostGroup);
    if (!lookup?.host || lookup.host.state !== 'running') return down(`no running AI host in ${layout.aiHostGroup}`);
    instanceId = lookup.host.instanceId;
  } catch (error) {
    return down(`cannot read the AI host (${(error as Error).message})`);
  }
  const token = io.services.randomId();
  let results: ProbeResult[];
  try {
    const result = await runScript(clients.ssm, instanceId, hostProbeScript(token, options.timeoutMs, options.deep), {
      sleep: io.services.sleep,
      clock: io.services.clock,
      signal: io.services.signal,
      comment: 'gm-ops health (scale AI host)',
      executionTimeoutSeconds: hostProbeSeconds(options.timeoutMs, options.deep),
    });
    const failure = scriptFailure(result, token);
    if (failure) return down(failure.message);
    results = parseHostProbes(result.stdout, token, options.timeoutMs, options.deep);
  } catch (error) {
    return down(error instanceof OpsError ? error.message : String(error));
  }
  return AI_HOST_SERVICES.map((part) => {
    const probe = results.find((r) => r.service === part);
    if (!probe) return { part, ok: false, detail: 'not probed' };
    const ok = effectiveOutcome(probe) === 'up';
    const fn = probe.function ? ` · function ${probe.function.state}: ${probe.function.detail}` : '';
    return { part, ok, detail: `${probe.detail}${fn}`, latencyMs: probe.latencyMs };
  });
}

export async function scaleChecks(io: CommandIO, layout: ScaleLayout, options: ScaleHealthOptions): Promise<ScaleCheck[]> {
  const clients = io.aws();
  const entry = async (): Promise<ScaleCheck> => {
    if (!layout.entryUrl) return { part: 'entry', ok: false, detail: 'the compute stack has no EntryUrl output' };
    const url = `${layout.entryUrl.replace(/\/+$/, '')}/healthz/readiness`;
    const outcome = await probeHttp(url, { timeoutMs: options.timeoutMs, now: io.services.monotonicMs });
    return { part: 'entry', ok: outcome.ok, detail: `${url}: ${outcome.detail}`, latencyMs: Math.round(outcome.latencyMs) };
  };
  const [entryCheck, services, database, queue, ai] = await Promise.all([
    entry(),
    readServices(clients, layout),
    readDatabase(clients, layout),
    readQueue(clients, layout),
    aiHostChecks(io, clients, layout, options),
  ]);
  const checks: ScaleCheck[] = [entryCheck];
  if (!services.some((s) => s.process === 'main')) checks.push({ part: 'main', ok: false, detail: 'no main service (MainServiceName output missing)' });
  for (const service of services) {
    const problem = serviceProblem(service);
    const tasks = service.desired === undefined ? '' : `${service.running ?? 0}/${service.desired} running`;
    const ready = service.tasks ? `, ${service.tasks.healthy} ready` : '';
    checks.push({ part: service.process, ok: !problem, detail: problem ?? `${tasks}${ready}` });
  }
  const db = resourceProblem(database, 'the database');
  checks.push({ part: 'database', ok: !db, detail: db ?? `${database.status} ${database.endpoint ?? ''}`.trim() });
  const q = resourceProblem(queue, 'the queue');
  checks.push({ part: 'queue', ok: !q, detail: q ?? `${queue.status} ${queue.endpoint ?? ''}`.trim() });
  checks.push(...ai);
  return checks;
}

async function round(io: CommandIO, options: ScaleHealthOptions): Promise<boolean> {
  const spinner = io.spinner(options.json);
  spinner.start(`Checking ${options.name}…`);
  try {
    const clients = io.aws();
    const layout = await readScaleLayout(clients.cloudFormation, options.name);
    if (!layout.compute) throw new DeploymentNotFound(options.name, await clients.region());
    const checks = await scaleChecks(io, layout, options);
    spinner.stop();
    const healthy = checks.every((c) => c.ok);
    const at = new Date(io.services.clock.now()).toISOString();
    if (options.json) {
      const doc = { deployment: options.name, tier: 'scale', healthy, deep: options.deep, ...(options.watch ? { at } : {}), checks };
      io.write(`${options.watch ? JSON.stringify(doc) : JSON.stringify(doc, null, 2)}\n`);
    } else {
      const rows = checks.map((c) => [c.part, c.ok ? io.style.green('ok') : io.style.red('DOWN'), c.latencyMs === undefined ? '' : `${c.latencyMs} ms`, c.detail]);
      io.write(`${io.style.bold(options.name)} (scale)  ${healthy ? io.style.green('healthy') : io.style.red('unhealthy')}${options.watch ? `  ${io.style.dim(at)}` : ''}\n`);
      io.write(renderTable(['PART', 'STATE', 'LATENCY', 'DETAIL'], rows, io.style, '  '));
    }
    return healthy;
  } finally {
    spinner.stop();
  }
}

export async function runScaleHealth(io: CommandIO, options: ScaleHealthOptions): Promise<number> {
  let healthy = await round(io, options);
  while (options.watch && !io.services.signal.aborted) {
    await io.services.sleep(options.intervalMs ?? 30_000, io.services.signal);
    if (io.services.signal.aborted) break;
    healthy = await round(io, options);
  }
  return healthy ? ExitCode.ok : ExitCode.failure;
}
