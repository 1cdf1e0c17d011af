/**
 * `gm-ops health` for a scale deployment. Healthy means working:
 * - n8n main answers its readiness on the entry URL (through CloudFront: the path users take);
 * - every ECS service has its desired running tasks and they pass their health checks (a worker's readiness,
 *   `/healthz/readiness` with QUEUE_HEALTH_CHECK_ACTIVE, is its container health check), no failed rollout;
 * - the database and the queue are available;
 * - the AI host's services answer (through SSM, as in the other tiers) and, with --deep, do their real job once
 *   (the host's functional check; only the AI services count: n8n and PostgreSQL are not on that host).
 * One scale deployment alone gets its own report (runScaleHealth); among others, with --direct or under
 * --replace-on-critical, its checks are rows of the common report (probeScaleRound).
 */
import { runScript, scriptFailure } from '../aws/ssm-run';
import type { AwsClients } from '../aws/clients';
import type { CommandIO } from '../command-io';
import type { HostLookup } from '../discovery/hosts';
import { DeploymentNotFound, ExitCode, Interrupted, OpsError } from '../errors';
import { AI_HOST_SERVICES, SERVICES, scaleDataStackName } from '../contract';
import { probeHttp, probeTcp } from '../health/direct-probes';
import { hostProbeScript, hostProbeSeconds, parseHostProbes } from '../health/host-probes';
import { effectiveOutcome, type ProbeResult } from '../health/levels';
import type { DeploymentHealth } from '../health/probe-round';
import type { HealthTarget } from '../health/targets';
import { renderTable } from '../output/table';
import { layoutOf, readScaleLayout, readStack, type ScaleLayout } from './stacks';
import { readDatabase, readQueue, readServices, resourceProblem, serviceProblem, type ResourceState, type ServiceState } from './state';


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

/** What the AI host's probes found: no host to probe, a host SSM could not reach, a script that failed, or results. */
export type AiHostProbe =
  | { readonly kind: 'no-host'; readonly detail: string }
  | { readonly kind: 'unreachable'; readonly detail: string }
  | { readonly kind: 'failed'; readonly detail: string }
  | {
      readonly kind: 'probed';
      readonly instanceId: string;
      readonly results: readonly ProbeResult[];
      /** With deep: n8n's functional check, run by the AI host through the internal load balancer. */
      readonly n8n?: ProbeResult;
    };

/**
 * With --deep the AI host also checks n8n (functional-check.sh --service n8n): the owner logs in through the internal
 * load balancer and sees the credentials the AI host imported into RDS, so a scale n8n is healthy when it works, not
 * when its readiness answers.
 */
const DEEP_FUNCTION_SERVICES = [...AI_HOST_SERVICES, 'n8n'] as const;

function n8nFunctionRow(results: readonly ProbeResult[]): ProbeResult {
  const fn = results.find((r) => r.service === 'n8n')?.function;
  const check = 'owner login via the load balancer';
  if (!fn) return { service: 'n8n', check, outcome: 'unknown', detail: 'not checked: the AI host returned no result for n8n' };
  const outcome = fn.state === 'ok' ? 'up' : fn.state === 'fail' ? 'down' : 'unknown';
  return { service: 'n8n', check, outcome, detail: fn.detail, ...(fn.ms === undefined ? {} : { latencyMs: fn.ms }) };
}

/** The AI services' probes on the AI host (one SSM command); `lookup` is the host of the AI host's group. */
export async function probeAiHost(
  io: CommandIO,
  lookup: HostLookup | undefined,
  groupName: string,
  options: { readonly timeoutMs: number; readonly deep: boolean },
): Promise<AiHostProbe> {
  if (!lookup?.host || lookup.host.state !== 'running') return { kind: 'no-host', detail: `no running AI host in ${groupName}` };
  const { instanceId } = lookup.host;
  const clients = io.aws();
  const token = io.services.randomId();
  try {
    const script = hostProbeScript(token, options.timeoutMs, options.deep, options.deep ? DEEP_FUNCTION_SERVICES : []);
    const result = await runScript(clients.ssm, instanceId, script, {
      sleep: io.services.sleep,
      clock: io.services.clock,
      signal: io.services.signal,
      comment: 'gm-ops health (scale AI host)',
      executionTimeoutSeconds: hostProbeSeconds(options.timeoutMs, options.deep),
    });
    const failure = scriptFailure(result, token);
    if (failure) return { kind: 'failed', detail: failure.message };
    const results = parseHostProbes(result.stdout, token, options.timeoutMs, options.deep);
    return {
      kind: 'probed',
      instanceId,
      results: AI_HOST_SERVICES.map(
        (service) => results.find((r) => r.service === service) ?? { service, check: 'probe', outcome: 'unknown' as const, detail: 'not probed' },
      ),
      ...(options.deep ? { n8n: n8nFunctionRow(results) } : {}),
    };
  } catch (error) {
    if (error instanceof Interrupted) throw error;
    return { kind: 'unreachable', detail: error instanceof OpsError ? error.message : String(error) };
  }
}

async function aiHostChecks(io: CommandIO, clients: AwsClients, layout: ScaleLayout, options: ScaleHealthOptions): Promise<ScaleCheck[]> {
  const { resolveHosts } = await import('../discovery/hosts');
  const down = (detail: string) => AI_HOST_SERVICES.map((part) => ({ part, ok: false, detail }));
  let lookup: HostLookup | undefined;
  try {
    lookup = (await resolveHosts(clients.autoScaling, clients.ec2, [layout.aiHostGroup])).get(layout.aiHostGroup);
  } catch (error) {
    return down(`cannot read the AI host (${(error as Error).message})`);
  }
  const probe = await probeAiHost(io, lookup, layout.aiHostGroup, options);
  if (probe.kind !== 'probed') return down(probe.detail);
  const checks: ScaleCheck[] = probe.results.map((result) => {
    const ok = effectiveOutcome(result) === 'up';
    const fn = result.function ? ` · function ${result.function.state}: ${result.function.detail}` : '';
    return { part: result.service, ok, detail: `${result.detail}${fn}`, latencyMs: result.latencyMs };
  });
  if (probe.n8n) {
    checks.push({ part: 'n8n', ok: probe.n8n.outcome === 'up', detail: `function ${probe.n8n.outcome === 'up' ? 'ok' : probe.n8n.outcome === 'down' ? 'fail' : 'not checked'}: ${probe.n8n.detail}`, latencyMs: probe.n8n.latencyMs });
  }
  return checks;
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

// ---- a scale deployment among others: `gm-ops health` (all), several names, --direct, --replace-on-critical ----

/** The rows of a scale deployment that replacing its AI host can fix (the host itself and its services). */
export const AI_HOST_ROWS: readonly string[] = ['ai-host', ...AI_HOST_SERVICES];

/**
 * Why a failing row outside the AI host is not acted on by gm-ops (said under --replace-on-critical). "The service
 * scheduler also replaces tasks determined to be unhealthy after a container health check or a load balancer target
 * group health check fails" (Amazon ECS Developer Guide, "Amazon ECS services").
 */
export const SCALE_SELF_HEALING =
  'ECS replaces an n8n task whose container health check fails (the service scheduler), RDS and ElastiCache look after the database and the queue';

const READINESS = (SERVICES.find((s) => s.name === 'n8n')!.health as { path: string }).path;

/** A part that could not be read (an AWS call failed) is no evidence either way: unknown, not down. */
const unread = (problem: string | undefined) => problem !== undefined && /^cannot read/.test(problem);

function serviceRow(service: ServiceState): ProbeResult {
  const problem = serviceProblem(service);
  const tasks = service.desired === undefined ? '' : `${service.running ?? 0}/${service.desired} running`;
  const ready = service.tasks ? `, ${service.tasks.healthy} ready${service.tasks.spot ? `, ${service.tasks.spot} spot` : ''}` : '';
  const outcome = !problem ? 'up' : service.desired === undefined && unread(service.problem) ? 'unknown' : 'down';
  return { service: service.process, check: 'ecs tasks', outcome, detail: problem ?? `${tasks}${ready}` };
}

function resourceRow(part: 'database' | 'queue', resource: ResourceState): ProbeResult {
  const problem = resourceProblem(resource, part === 'database' ? 'the database' : 'the queue');
  const check = part === 'database' ? 'rds' : 'elasticache';
  const outcome = !problem ? 'up' : resource.status === undefined && unread(resource.problem) ? 'unknown' : 'down';
  return { service: part, check, outcome, detail: problem ?? `${resource.status} ${resource.endpoint ?? ''}`.trim() };
}

function aiHostRow(lookup: HostLookup | undefined, groupName: string): ProbeResult {
  if (!lookup) return { service: 'ai-host', check: 'asg', outcome: 'down', detail: 'the stack has no AutoScalingGroupName output' };
  if (!lookup.groupExists) return { service: 'ai-host', check: 'asg', outcome: 'down', detail: `auto scaling group ${groupName} not found` };
  const host = lookup.host;
  if (!host) return { service: 'ai-host', check: 'asg', outcome: 'down', detail: `no instance in ${groupName}` };
  if (host.state !== 'running') return { service: 'ai-host', check: 'ec2', outcome: 'down', detail: `${host.instanceId} is ${host.state}` };
  return { service: 'ai-host', check: 'ec2', outcome: 'up', detail: `${host.instanceId} running${host.market === 'spot' ? ' (spot)' : ''}` };
}

/** Through the entry: n8n main's readiness, from here (the path users take: CloudFront, the load balancer, the main). */
async function entryRows(io: CommandIO, entryUrl: string | undefined, timeoutMs: number, withTcp: boolean): Promise<ProbeResult[]> {
  if (!entryUrl) return [{ service: 'entry', check: `http ${READINESS}`, outcome: 'down', detail: 'the compute stack has no EntryUrl output' }];
  const url = `${entryUrl.replace(/\/+$/, '')}${READINESS}`;
  const options = { timeoutMs, now: io.services.monotonicMs };
  const target = new URL(entryUrl);
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const [tcp, http] = await Promise.all([withTcp ? probeTcp(target.hostname, port, options) : undefined, probeHttp(url, options)]);
  const rows: ProbeResult[] = [];
  if (tcp) rows.push({ service: 'entry', check: `tcp ${port}`, outcome: tcp.ok ? 'up' : 'down', latencyMs: tcp.latencyMs, detail: `${target.host}: ${tcp.detail}` });
  rows.push({ service: 'entry', check: `http ${READINESS}`, outcome: http.ok ? 'up' : 'down', latencyMs: http.latencyMs, detail: `${url}: ${http.detail}` });
  return rows;
}

/** `--direct`: what is reachable from here is the entry; the rest lives inside the VPC. */
async function directRows(io: CommandIO, target: HealthTarget, layout: ScaleLayout, timeoutMs: number): Promise<ProbeResult[]> {
  const rows: ProbeResult[] = [aiHostRow(target.lookup, layout.aiHostGroup), ...(await entryRows(io, layout.entryUrl, timeoutMs, true))];
  for (const process of ['main', 'worker', 'webhook'] as const) {
    if (!layout.services[process]) continue;
    rows.push({ service: process, check: 'ecs tasks', outcome: 'skipped', detail: 'not exposed (ECS tasks in the VPC); drop --direct to read them from ECS' });
  }
  rows.push({ service: 'database', check: 'rds', outcome: 'skipped', detail: 'not exposed (RDS in the VPC, for the n8n tasks only); drop --direct to read it from RDS' });
  rows.push({ service: 'queue', check: 'elasticache', outcome: 'skipped', detail: 'not exposed (Valkey in the VPC, for the n8n tasks only); drop --direct to read it from ElastiCache' });
  for (const service of AI_HOST_SERVICES) {
    const health = SERVICES.find((s) => s.name === service)!.health as { path: string };
    rows.push({
      service,
      check: `http ${health.path}`,
      outcome: 'skipped',
      detail: 'not exposed (the AI host is private: only the n8n tasks reach it); drop --direct to probe it through SSM',
    });
  }
  return rows;
}

async function ssmRows(io: CommandIO, target: HealthTarget, layout: ScaleLayout, options: { readonly timeoutMs: number; readonly deep: boolean }): Promise<ProbeResult[]> {
  const clients = io.aws();
  const [entry, services, database, queue, ai] = await Promise.all([
    entryRows(io, layout.entryUrl, options.timeoutMs, false),
    readServices(clients, layout),
    readDatabase(clients, layout),
    readQueue(clients, layout),
    probeAiHost(io, target.lookup, layout.aiHostGroup, options),
  ]);
  const rows: ProbeResult[] = [...entry];
  if (!services.some((s) => s.process === 'main')) rows.push({ service: 'main', check: 'ecs tasks', outcome: 'down', detail: 'no main service (MainServiceName output missing)' });
  rows.push(...services.map(serviceRow), resourceRow('database', database), resourceRow('queue', queue));
  const host = aiHostRow(target.lookup, layout.aiHostGroup);
  if (ai.kind === 'probed') rows.push(host, ...ai.results, ...(ai.n8n ? [ai.n8n] : []));
  else if (ai.kind === 'no-host') rows.push(host);
  // The probes did not run: no evidence either way about the AI services (as for a host tier's lost agent).
  else if (ai.kind === 'unreachable') rows.push(host, { service: 'ai-host', check: 'ssm', outcome: 'unknown', detail: ai.detail });
  else rows.push(host, { service: 'ai-host', check: 'ssm', outcome: 'down', detail: ai.detail });
  return rows;
}

/**
 * One round of the scale deployments among `gm-ops health`'s targets, as rows of the common report: the entry (n8n
 * main's readiness through CloudFront), each ECS service's tasks, the database, the queue, the AI host and its
 * services through SSM (with `deep`, their functional check). With `direct`, only what is reachable from here.
 */
export async function probeScaleRound(
  io: CommandIO,
  targets: readonly HealthTarget[],
  options: { readonly direct: boolean; readonly deep: boolean; readonly timeoutMs: number },
): Promise<DeploymentHealth[]> {
  const clients = io.aws();
  return Promise.all(
    targets.map(async (target): Promise<DeploymentHealth> => {
      const data = options.direct ? undefined : await readStack(clients.cloudFormation, scaleDataStackName(target.name));
      const layout = layoutOf(target.name, target.compute, data);
      const rows = options.direct ? await directRows(io, target, layout, options.timeoutMs) : await ssmRows(io, target, layout, options);
      const host = target.lookup?.host;
      return {
        name: target.name,
        tier: 'scale',
        instanceId: host?.instanceId,
        results: rows,
        hostChecks: AI_HOST_ROWS,
        outsideHost: SCALE_SELF_HEALING,
      };
    }),
  );
}
