/**
 * `gm-ops drill <name>`: restores the newest recovery point of a deployment's file system into a throwaway
 * deployment `<name>-drill`, restores its newest backup set there, runs the functional check, reports how long each
 * phase took and what it found, and removes the drill deployment whatever happened. Plan first; acts on --yes.
 */
import type { CommandIO } from '../command-io';
import { toOpsError } from '../aws/classify-error';
import { SERVICES } from '../contract';
import { ExitCode, Interrupted, OpsError } from '../errors';
import { formatBytes } from '../output/bytes';
import { renderFields } from '../output/table';
import { readSets, runningHost } from '../backup/run';
import { formatElapsed } from '../restore/act';
import { findProject } from '../restore/project';
import { assessDrill, cdkContextArgs, type DrillPlan } from './assess';
import { cleanUp, runDrillSteps, type DrillState } from './act';

export interface DrillOptions {
  readonly name: string;
  readonly yes: boolean;
  readonly json: boolean;
  readonly recoveryPointArn?: string;
  readonly restoreRole?: string;
  readonly restoreTimeoutMs: number;
  readonly pollMs: number;
  readonly stderr: NodeJS.WritableStream;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms / 1000));

function renderPlan(plan: DrillPlan, io: CommandIO): string {
  const { style } = io;
  const point = plan.recoveryPoint;
  const sets = 'sets' in plan.sourceSets
    ? `${plan.sourceSets.sets.length} on ${plan.source} now, newest ${plan.sourceSets.sets[plan.sourceSets.sets.length - 1]?.name ?? '-'}`
    : `not listed (${plan.sourceSets.problem}); the drill host finds those in the copy`;
  const fields: [string, string][] = [
    ['Source', `${plan.source} (${plan.tier}), file system ${plan.fileSystem.fileSystemId}`],
    ['Recovery point', `${iso(point.created)}  ${point.status}  ${point.sizeBytes === undefined ? '-' : formatBytes(point.sizeBytes)}  ${point.vault}`],
    ['', point.arn],
    ['Backup sets', sets],
    ['Drill deployment', `${plan.drill}: ${plan.stacks.data}, ${plan.stacks.compute}`],
  ];
  return [
    `${style.bold(`Restore drill of ${plan.source}`)} (${plan.region})`,
    '',
    renderFields(fields, style).trimEnd(),
    '',
    style.bold('Plan:'),
    ...plan.steps.map((step, i) => `  ${i + 1}. ${step}`),
    '',
  ].join('\n');
}

function reportJson(plan: DrillPlan, state: DrillState | undefined, failure: OpsError | undefined, confirmed: boolean): unknown {
  return {
    deployment: plan.source,
    drill: plan.drill,
    region: plan.region,
    plan: plan.steps,
    command: `npx cdk deploy ${plan.stacks.data} ${plan.stacks.compute} ${cdkContextArgs(plan, '<restored file system>').join(' ')} --require-approval never`,
    confirmed,
    recoveryPoint: { arn: plan.recoveryPoint.arn, vault: plan.recoveryPoint.vault, created: iso(plan.recoveryPoint.created), sizeBytes: plan.recoveryPoint.sizeBytes ?? null },
    result: state
      ? {
          ok: failure === undefined,
          error: failure ? failure.message : null,
          restoreJobId: state.restoreJobId ?? null,
          restoredFileSystemId: state.restoredFileSystemId ?? null,
          set: state.set ? { name: state.set.name, created: state.set.created, runtimeVersion: state.set.runtimeVersion, bytes: state.set.bytes } : null,
          seconds: {
            restoreJob: seconds(state.timings.restoreJobMs),
            deploy: seconds(state.timings.deployMs),
            hostRestore: seconds(state.timings.hostRestoreMs),
            functionalCheck: seconds(state.timings.functionalCheckMs),
            cleanup: seconds(state.timings.cleanupMs),
          },
          functionalCheck: state.functional ? Object.fromEntries([...state.functional].map(([service, r]) => [service, { state: r.state, ms: r.ms ?? null, detail: r.detail }])) : null,
          cleanup: state.cleanup,
        }
      : null,
  };
}

function renderReport(plan: DrillPlan, state: DrillState, failure: OpsError | undefined, io: CommandIO): string {
  const { style } = io;
  const t = state.timings;
  const phase = (ms: number | undefined) => (ms === undefined ? '-' : formatElapsed(ms));
  const fields: [string, string][] = [
    ['Recovery point', `${iso(plan.recoveryPoint.created)} (${plan.recoveryPoint.arn})`],
    ['Restored copy', state.restoredFileSystemId ? `${state.restoredFileSystemId} (restore job ${state.restoreJobId})` : state.restoreJobId ? `restore job ${state.restoreJobId}` : '-'],
    ['Backup set', state.set ? `${state.set.name} (made ${state.set.created || '-'}, runtime ${state.set.runtimeVersion}, ${formatBytes(state.set.bytes)})` : '-'],
    ['Restore job', phase(t.restoreJobMs)],
    ['Drill deploy', phase(t.deployMs)],
    ['Set restore', phase(t.hostRestoreMs)],
    ['Functional check', phase(t.functionalCheckMs)],
    ['Cleanup', phase(t.cleanupMs)],
  ];
  const lines = ['', style.bold(`Drill of ${plan.source}`), renderFields(fields, style).trimEnd()];
  if (state.functional) {
    lines.push('', style.bold('Functional check on the drill host:'));
    for (const { name } of SERVICES) {
      const r = state.functional.get(name);
      if (!r) continue;
      const mark = r.state === 'ok' ? style.green('ok') : style.red(r.state);
      lines.push(`  ${name.padEnd(9)} ${mark.padEnd(4)} ${r.ms === undefined ? '' : `${r.ms} ms  `}${r.detail}`);
    }
  }
  lines.push('', style.bold('Cleanup:'));
  if (state.cleanup.length === 0) lines.push('  nothing was created');
  for (const item of state.cleanup) lines.push(`  ${item.ok ? style.green('gone') : style.red('LEFT')}  ${item.resource}: ${item.detail}${item.removal && !item.ok ? ` — remove with: ${item.removal}` : ''}`);
  const restoreMs = (t.restoreJobMs ?? 0) + (t.deployMs ?? 0) + (t.hostRestoreMs ?? 0);
  lines.push('', failure ? `${style.red('Drill failed:')} ${failure.message}` : `${style.green('Drill passed:')} ${state.set?.name} restored and working in ${formatElapsed(restoreMs)} (recovery point to a checked deployment).`);
  return `${lines.join('\n')}\n`;
}

export async function runDrill(io: CommandIO, options: DrillOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  const project = findProject(services.cwd());
  let plan: DrillPlan;
  spinner.start(`Looking at ${options.name}…`);
  try {
    plan = await assessDrill(clients, options.name, {
      recoveryPointArn: options.recoveryPointArn,
      restoreRole: options.restoreRole,
      now: services.clock.now(),
      project,
      readSourceSets: async () => readSets(io, await runningHost(io, options.name)),
    });
  } finally {
    spinner.stop();
  }
  if (!options.json) io.write(renderPlan(plan, io));
  if (!project) {
    if (options.json) io.write(`${JSON.stringify(reportJson(plan, undefined, undefined, false), null, 2)}\n`);
    throw new OpsError('not inside the GeuseMaker project: gm-ops cannot run cdk deploy from here', `run gm-ops drill ${options.name} from a checkout`);
  }
  let confirmed = options.yes;
  if (!confirmed && services.prompt.available && !options.json) confirmed = await services.prompt.confirm(`Run the drill (a second deployment, ${plan.drill}, for its duration)?`);
  if (!confirmed) {
    if (options.json) io.write(`${JSON.stringify(reportJson(plan, undefined, undefined, false), null, 2)}\n`);
    else io.write(`Nothing done: run again with --yes to drill.\n`);
    return ExitCode.failure;
  }

  const state: DrillState = { copiedSecrets: [], deployAttempted: false, timings: {}, cleanup: [] };
  const act = { io, clients, plan, project, output: options.stderr, restoreTimeoutMs: options.restoreTimeoutMs, pollMs: options.pollMs };
  const started = services.clock.now();
  let failure: OpsError | undefined;
  try {
    await runDrillSteps({ ...act, status: (text) => spinner.start(`Drill of ${options.name}: ${text}… ${formatElapsed(services.clock.now() - started)}`) }, state);
  } catch (error) {
    failure = services.signal.aborted && !(error instanceof OpsError) ? new Interrupted() : toOpsError(error);
  } finally {
    spinner.stop();
  }
  spinner.start(`Removing the drill deployment ${plan.drill}…`);
  const cleanupStarted = services.clock.now();
  try {
    state.cleanup = await cleanUp({ ...act, status: () => undefined }, state);
  } finally {
    state.timings.cleanupMs = services.clock.now() - cleanupStarted;
    spinner.stop();
  }
  const left = state.cleanup.filter((item) => !item.ok);
  const leftText = left.length > 0 ? `; the cleanup left ${left.map((l) => l.resource).join(', ')}` : '';
  if (options.json) io.write(`${JSON.stringify(reportJson(plan, state, failure, true), null, 2)}\n`);
  else io.write(renderReport(plan, state, failure, io));
  if (failure) throw new OpsError(`${failure.message}${leftText}`, left.length > 0 ? `remove what is left: ${left.map((l) => l.removal).join('; ')}` : failure.hint, failure.exitCode);
  if (left.length > 0) throw new OpsError(`the drill passed but its cleanup left ${left.map((l) => l.resource).join(', ')}`, `remove it: ${left.map((l) => l.removal).join('; ')}`);
  return ExitCode.ok;
}
