/**
 * `gm-ops status <name>` for a scale deployment: the stacks, the ECS services with their running/desired tasks,
 * the workers' count, bounds and queue backlog, the database and queue, the AI host. Exit 0 when every part works,
 * 1 otherwise.
 */
import type { CommandIO } from '../command-io';
import { DeploymentNotFound, ExitCode } from '../errors';
import { hostStateLabel } from '../discovery/hosts';
import { renderFields, renderTable } from '../output/table';
import type { Style } from '../output/style';
import { readScaleLayout } from './stacks';
import { readScaleState, resourceProblem, serviceProblem, type ScaleState } from './state';

const HEALTHY_STACK = /_COMPLETE$/;
const BAD_STACK = /ROLLBACK|FAILED|DELETE/;

/** Every problem of the deployment, one phrase each; empty when it works. */
export function scaleProblems(state: ScaleState): string[] {
  const problems: string[] = [];
  const { compute, data } = state.layout;
  for (const stack of [compute, data]) {
    if (!stack) continue;
    if (BAD_STACK.test(stack.status) || !HEALTHY_STACK.test(stack.status)) problems.push(`${stack.stackName} is ${stack.status}`);
  }
  if (!data) problems.push('the scale data stack (database and queue) does not exist');
  if (!state.services.some((s) => s.process === 'main')) problems.push('no main service (MainServiceName output missing)');
  for (const service of state.services) {
    const problem = serviceProblem(service);
    if (problem) problems.push(`${service.process}: ${problem}`);
  }
  const database = resourceProblem(state.database, 'the database');
  if (database) problems.push(`database: ${database}`);
  const queue = resourceProblem(state.queue, 'the queue');
  if (queue) problems.push(`queue: ${queue}`);
  if (state.aiHostProblem) problems.push(`AI host: ${state.aiHostProblem}`);
  else if (state.aiHost?.host?.state !== 'running') problems.push(`AI host: ${hostStateLabel(state.aiHost)}`);
  return problems;
}

function formatNumber(value: number | undefined): string {
  if (value === undefined) return '-';
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function ago(at: number | undefined, now: number): string {
  if (at === undefined) return '';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  return seconds < 120 ? ` (${seconds} s ago)` : ` (${Math.round(seconds / 60)} min ago)`;
}

export function renderScaleStatus(state: ScaleState, style: Style, now: number): string {
  const { layout } = state;
  const problems = scaleProblems(state);
  const worker = state.services.find((s) => s.process === 'worker');
  const out: string[] = [];
  out.push(`${style.bold(layout.name)}  ${problems.length === 0 ? style.green('working') : style.red('needs attention')}\n\n`);
  out.push(`${style.bold('About')}\n`);
  out.push(
    renderFields(
      [
        ['Tier', 'scale (n8n in queue mode on ECS)'],
        ['Compute stack', layout.compute ? `${layout.compute.stackName} (${layout.compute.status})` : '-'],
        ['Data stack', layout.data ? `${layout.data.stackName} (${layout.data.status})` : 'missing'],
        ['Cluster', layout.cluster],
        ['Entry', layout.entryUrl ?? '-'],
      ],
      style,
    ),
  );
  out.push(`\n${style.bold('Services')}\n`);
  const rows = state.services.map((s) => {
    const problem = serviceProblem(s);
    const tasks = s.tasks ? `${s.tasks.healthy} healthy${s.tasks.spot ? `, ${s.tasks.spot} spot` : ''}` : '-';
    return [
      s.process,
      s.serviceName,
      s.desired === undefined ? '-' : `${s.running ?? 0}/${s.desired}${s.pending ? ` (+${s.pending} pending)` : ''}`,
      tasks,
      s.rollout ?? '-',
      problem ? style.red(problem) : style.green('ok'),
    ];
  });
  out.push(rows.length ? renderTable(['PROCESS', 'SERVICE', 'RUNNING/DESIRED', 'TASKS', 'ROLLOUT', 'STATE'], rows, style, '  ') : '  none\n');
  out.push(`\n${style.bold('Workers and queue')}\n`);
  out.push(
    renderFields(
      [
        ['Workers', `${formatNumber(worker?.running)} running (min ${formatNumber(layout.workerMin)}, max ${formatNumber(layout.workerMax)}, concurrency ${formatNumber(layout.workerConcurrency)})`],
        ['Backlog', state.backlog.problem ?? `${formatNumber(state.backlog.waiting)} waiting, ${formatNumber(state.backlog.perWorker)} per worker${ago(state.backlog.at, now)}`],
      ],
      style,
    ),
  );
  out.push(`\n${style.bold('Data')}\n`);
  const resource = (label: string, r: ScaleState['database']): [string, string] => [
    label,
    r.problem ? style.red(r.problem) : `${r.status ?? '-'}  ${r.endpoint ?? '-'}${r.detail ? `  (${r.detail})` : ''}`,
  ];
  out.push(renderFields([resource('Database', state.database), resource('Queue', state.queue)], style));
  const host = state.aiHost?.host;
  out.push(`\n${style.bold('AI host')}\n`);
  out.push(
    renderFields(
      [
        ['Group', layout.aiHostGroup],
        ['Host', state.aiHostProblem ?? (host ? `${host.instanceId} ${hostStateLabel(state.aiHost)} (${host.instanceType ?? '?'}, ${host.market})` : hostStateLabel(state.aiHost))],
      ],
      style,
    ),
  );
  if (problems.length) out.push(`\n${style.bold('Needs attention')}\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  return out.join('');
}

export function scaleStatusJson(state: ScaleState): unknown {
  const problems = scaleProblems(state);
  return {
    deployment: state.layout.name,
    tier: 'scale',
    healthy: problems.length === 0,
    problems,
    stacks: { compute: state.layout.compute ?? null, data: state.layout.data ?? null },
    cluster: state.layout.cluster,
    entryUrl: state.layout.entryUrl ?? null,
    services: state.services,
    workers: { running: state.services.find((s) => s.process === 'worker')?.running ?? null, min: state.layout.workerMin ?? null, max: state.layout.workerMax ?? null, concurrency: state.layout.workerConcurrency ?? null },
    backlog: state.backlog,
    database: state.database,
    queue: state.queue,
    aiHost: state.aiHost ?? null,
  };
}

export async function runScaleStatus(io: CommandIO, options: { name: string; json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Reading ${options.name}…`);
  try {
    const clients = io.aws();
    const layout = await readScaleLayout(clients.cloudFormation, options.name);
    if (!layout.compute) throw new DeploymentNotFound(options.name, await clients.region());
    const state = await readScaleState(clients, layout, io.services.clock.now());
    spinner.stop();
    io.write(options.json ? `${JSON.stringify(scaleStatusJson(state), null, 2)}\n` : renderScaleStatus(state, io.style, io.services.clock.now()));
    return scaleProblems(state).length === 0 ? ExitCode.ok : ExitCode.failure;
  } finally {
    spinner.stop();
  }
}
