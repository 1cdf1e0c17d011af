/**
 * `gm-ops restore <name>`: prints the plan, acts on --yes (or a confirmation at the terminal), shows a
 * spinner with the elapsed time, and reports the time to healthy. A healthy deployment has nothing to
 * restore (exit 0); running it twice is safe.
 */
import type { CommandIO } from '../command-io';
import { AI_HOST_SERVICES, type Tier } from '../contract';
import { ExitCode, OpsError } from '../errors';
import { renderFields } from '../output/table';
import { act, formatElapsed, type RestoreResult } from './act';
import { assess, type Plan } from './assess';
import { findProject, type Project } from './project';
import { describeSavedConfig, inspectSavedConfig, retainedDataLines, DEPLOYMENTS_CONTEXT_KEY, type SavedConfigState } from './saved-config';

export interface RestoreOptions {
  readonly name: string;
  readonly yes: boolean;
  readonly json: boolean;
  readonly tier?: Tier;
  readonly fileSystemId?: string;
  readonly timeoutMs: number;
  /** Between two looks at the new host. */
  readonly pollMs: number;
  readonly stderr: NodeJS.WritableStream;
}

/** What to add to cdk.json by hand, with where it goes (the property, or a whole entry when there is none). */
function configLinesToAdd(plan: Plan, config: SavedConfigState | undefined): string[] {
  if (!plan.retainedFileSystemId) return [];
  const property = retainedDataLines(plan.retainedFileSystemId);
  if (config?.kind === 'blocked' && config.lines[0] !== property[0]) {
    return [`add this entry to cdk.json, in "context" > "${DEPLOYMENTS_CONTEXT_KEY}":`, ...config.lines.map((line) => `    ${line}`)];
  }
  return [`add to cdk.json, in "context" > "${DEPLOYMENTS_CONTEXT_KEY}" > "${plan.deployment}":`, ...property.map((line) => `    ${line}`)];
}

export function renderPlan(plan: Plan, io: CommandIO, project: Project | undefined, config?: SavedConfigState): string {
  const { style } = io;
  const facts = plan.retainedFileSystemId && config ? [...plan.facts, ['Saved config', describeSavedConfig(config, plan.deployment, plan.retainedFileSystemId)] as const] : plan.facts;
  const lines = [`${style.bold(`Restore ${plan.deployment}`)} (${plan.region})`, '', renderFields(facts, style).trimEnd(), ''];
  if (plan.situation.kind === 'healthy') {
    lines.push(`${style.green('Nothing to restore:')} ${plan.summary}.`);
    return `${lines.join('\n')}\n`;
  }
  if (plan.situation.kind === 'secrets-without-data') {
    lines.push(`${style.yellow('Found:')} ${plan.summary}.`, '', style.bold('Ways out (choose one; restore deletes nothing):'));
    plan.situation.ways.forEach((way, index) => {
      lines.push(`  ${index + 1}. ${way.text}`, ...way.commands.map((command) => `       ${command}`));
    });
    return `${lines.join('\n')}\n`;
  }
  lines.push(`${style.yellow('Found:')} ${plan.summary}.`, '', style.bold('Plan:'));
  plan.steps.forEach((step, index) => lines.push(`  ${index + 1}. ${step}`));
  lines.push('', style.dim('Restore deletes nothing: the file system and the secrets are kept as they are.'));
  if (plan.cdk && !project) {
    const secrets = plan.situation.kind === 'rebuild-data' ? plan.situation.secrets.filter((s) => s.state === 'pending-deletion') : [];
    const toAdd = configLinesToAdd(plan, undefined);
    if (plan.retainedFileSystemId) {
      toAdd.push(`  (if cdk.json does not declare "${plan.deployment}", add the entry "${plan.deployment}": { "tier": "${plan.tier ?? 'dev'}", "retainedData": { "fileSystemId": "${plan.retainedFileSystemId}" } } instead)`);
    }
    lines.push(
      '',
      `${style.yellow('gm-ops is not running inside the GeuseMaker project')} (no cdk.json with the geusemaker app above ${io.services.cwd()}). From a checkout:`,
      ...(toAdd.length > 0 ? [`  ${toAdd[0]}`, ...toAdd.slice(1)] : []),
      ...secrets.map((s) => `  aws secretsmanager restore-secret --secret-id ${s.name} --region ${plan.region}`),
      `  AWS_REGION=${plan.region} npx ${plan.cdk.join(' ')}`,
      `then check with: gm-ops health ${plan.deployment} --region ${plan.region}`,
    );
  } else if (config?.kind === 'blocked') {
    const toAdd = configLinesToAdd(plan, config);
    lines.push('', `${style.yellow('The retained file system must be in the saved configuration first')}: ${toAdd[0]}`, ...toAdd.slice(1), `then run gm-ops restore ${plan.deployment} again.`);
  }
  return `${lines.join('\n')}\n`;
}

function planJson(plan: Plan, project: Project | undefined, confirmed: boolean, result: RestoreResult | undefined, config?: SavedConfigState): unknown {
  const situation = plan.situation;
  return {
    deployment: plan.deployment,
    region: plan.region,
    situation: situation.kind,
    action: situation.kind === 'replace-host' ? situation.action : null,
    summary: plan.summary,
    facts: Object.fromEntries(plan.facts),
    steps: plan.steps,
    command: plan.cdk ? `npx ${plan.cdk.join(' ')}` : null,
    insideProject: project ? project.root : null,
    fileSystemId: plan.fileSystemId ?? null,
    retainedFileSystemId: plan.retainedFileSystemId ?? null,
    savedConfig: config ? { file: config.cdkJson, state: config.kind, ...(config.kind === 'blocked' ? { reason: config.reason, linesToAdd: config.lines } : {}) } : null,
    waysOut: situation.kind === 'secrets-without-data' ? situation.ways : null,
    confirmed,
    result: result ? { healthy: true, instanceId: result.instanceId, secondsToHealthy: Math.round(result.elapsedMs / 1000) } : null,
    ...(plan.scale ? { hostServices: [...AI_HOST_SERVICES] } : {}),
  };
}

export async function runRestore(io: CommandIO, options: RestoreOptions): Promise<number> {
  const { services } = io;
  const clients = io.aws();
  const spinner = io.spinner(options.json);
  const common = {
    tier: options.tier,
    fileSystemId: options.fileSystemId,
    clock: services.clock,
    sleep: services.sleep,
    signal: services.signal,
    randomId: services.randomId,
    monotonicMs: services.monotonicMs,
    probeTimeoutMs: 8000,
  };
  let plan: Plan;
  spinner.start(`Looking at ${options.name}…`);
  try {
    plan = await assess(clients, options.name, common);
  } finally {
    spinner.stop();
  }
  const project = plan.cdk ? findProject(services.cwd()) : undefined;
  const config = project && plan.retainedFileSystemId ? inspectSavedConfig(project.cdkJson, options.name, plan.tier ?? 'dev', plan.retainedFileSystemId) : undefined;
  const emit = (confirmed: boolean, result?: RestoreResult) => {
    if (options.json) io.write(`${JSON.stringify(planJson(plan, project, confirmed, result, config), null, 2)}\n`);
  };
  if (!options.json) io.write(renderPlan(plan, io, project, config));

  if (plan.situation.kind === 'healthy') {
    emit(false);
    return ExitCode.ok;
  }
  if (plan.situation.kind === 'secrets-without-data') {
    emit(false);
    throw new OpsError(
      `the data of "${options.name}" is gone but ${plan.situation.secrets.length} of its secrets are retained: restore cannot rebuild without a file system`,
      'choose one of the ways out above',
    );
  }
  if (config?.kind === 'blocked') {
    emit(false);
    throw new OpsError(`the retained file system ${plan.retainedFileSystemId} cannot be saved in the deployment's configuration: ${config.reason}`, 'add the lines above to cdk.json, then run restore again; nothing was done');
  }
  if (plan.cdk && !project) {
    emit(false);
    throw new OpsError(
      'not inside the GeuseMaker project: gm-ops cannot run cdk deploy from here',
      `run the command above in a checkout (or run gm-ops restore ${options.name} from one)`,
    );
  }
  let confirmed = options.yes;
  if (!confirmed) {
    if (services.prompt.available && !options.json) {
      confirmed = await services.prompt.confirm(`Carry out this plan for ${options.name}?`);
      if (!confirmed) {
        io.notice('nothing done');
        return ExitCode.failure;
      }
    } else {
      emit(false);
      throw new OpsError('not confirmed: nothing done', `rerun with --yes to carry out this plan: gm-ops restore ${options.name} --yes`);
    }
  }
  const result = await act(clients, plan, {
    ...common,
    timeoutMs: options.timeoutMs,
    pollMs: options.pollMs,
    spinner,
    notice: (text) => io.notice(text),
    processRunner: services.processRunner,
    output: options.stderr,
    project,
  }).finally(() => spinner.stop());
  if (options.json) emit(true, result);
  else if (plan.scale) {
    io.write(
      `\n${io.style.green('Restored:')} the AI services of ${options.name} are healthy on ${result.instanceId}, ${formatElapsed(result.elapsedMs)} after the restore began; n8n runs on ECS: \`gm-ops health ${options.name}\` checks it.\n`,
    );
  } else io.write(`\n${io.style.green('Restored:')} every service of ${options.name} is healthy on ${result.instanceId}, ${formatElapsed(result.elapsedMs)} after the restore began.\n`);
  return ExitCode.ok;
}
