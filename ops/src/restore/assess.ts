/**
 * What `gm-ops restore` finds and what it will do about it. Three situations it can repair:
 *  - the stacks exist but the host is dead or unhealthy: replace the host through its group of one;
 *  - the compute stack is gone but the data stack lives: redeploy the compute stack;
 *  - the data stack is gone too, its file system and secrets retained: rebuild the data stack around
 *    them, then the compute stack.
 * Everything else (stuck stacks, nothing retained, several candidate file systems, missing secrets,
 * secrets retained without their file system) is explained with the ways out, never guessed.
 *
 * Secret names are fixed (geusemaker/<name>/<purpose>) and Secrets Manager keeps a deleted secret's
 * name during its recovery window, so retained secrets, even scheduled for deletion, block a fresh
 * data stack: they are looked for in every situation that involves building one. A deployment needs its
 * stored secrets (the n8n encryption key and the owner password); the other purposes are derived on the
 * host from the key, unless a legacy secret of that name exists (a deployment made before that layout),
 * whose value wins: such secrets are reported, and their scheduled deletion cancelled like the others'.
 */
import type { AwsClients } from '../aws/clients';
import { AI_HOST_SERVICES, OUTPUT_KEYS, TIERS, computeStackName, dataStackName, scaleDataStackName, secretName, type Tier } from '../contract';
import type { Clock, Sleep } from '../context';
import { groupDeployments } from '../discovery/deployments';
import { autoScalingGroupOf, resolveHosts, type HostInfo, type HostLookup } from '../discovery/hosts';
import { assessStack } from '../discovery/stack-state';
import { describeStack, type StackSummary } from '../discovery/stacks';
import { ExitCode, OpsError, UsageProblem } from '../errors';
import { formatTime } from '../output/format';
import { probeSsmRound } from '../health/probe-round';
import type { ProbeResult } from '../health/levels';
import { listStackResources } from '../cost/live';
import { databaseInstanceOf, readScaleDataStack, runsOnHost } from '../discovery/scale-deployment';
import type { RawStack } from '../scale/stacks';
import {
  deletedStacks,
  describeFileSystem,
  findRetainedFileSystems,
  secretStatuses,
  type DeletedStack,
  type FileSystemCandidate,
  type RetainedSearch,
  type SecretStatus,
} from './retained';

/**
 * A host younger than this that is not healthy yet is still booting: the CreationPolicy's default timeouts,
 * for a compute stack deployed before it output its own (BootstrapTimeoutMinutes).
 */
export const BOOT_GRACE_MINUTES: Record<Tier, number> = { dev: 30, automation: 30, gpu: 45, scale: 45 };

/** Added to the deployment's bootstrap timeout: the launch itself (instance start, cloud-init) comes before it. */
export const BOOT_GRACE_MARGIN_MINUTES = 10;

/** How long a host that is not healthy yet may still be booting: the deployment's bootstrap timeout plus a margin. */
export function bootGraceMinutes(compute: StackSummary, tier: Tier): number {
  const declared = compute.outputs[OUTPUT_KEYS.bootstrapTimeoutMinutes];
  const minutes = declared !== undefined && /^[1-9][0-9]*$/.test(declared.trim()) ? Number(declared) : undefined;
  return minutes !== undefined ? minutes + BOOT_GRACE_MARGIN_MINUTES : BOOT_GRACE_MINUTES[tier];
}

export type Situation =
  | { readonly kind: 'healthy'; readonly compute: StackSummary; readonly host: HostInfo }
  | {
      readonly kind: 'replace-host';
      readonly compute: StackSummary;
      readonly tier: Tier;
      readonly group: string;
      /** terminate: replace a dead or unhealthy host; scale-up: the group was at 0; wait: a host is already coming. */
      readonly action: 'terminate' | 'scale-up' | 'wait';
      readonly host?: HostInfo;
      /** wait: the group is already replacing `host` (wait for another instance). */
      readonly replacing?: boolean;
      readonly reason: string;
    }
  | { readonly kind: 'redeploy-compute'; readonly tier: Tier; readonly tierFrom: string }
  | {
      readonly kind: 'rebuild-data';
      readonly tier: Tier;
      readonly tierFrom: string;
      readonly fileSystem: FileSystemCandidate;
      readonly secrets: readonly SecretStatus[];
      readonly compute?: StackSummary;
    }
  | {
      /** The file system is gone, the secrets are not: nothing to rebuild on, and their names block a fresh start. */
      readonly kind: 'secrets-without-data';
      readonly tier: Tier;
      readonly secrets: readonly SecretStatus[];
      readonly ways: readonly WayOut[];
    };

/** One way out of a situation restore cannot repair itself: what it means, then the commands. */
export interface WayOut {
  readonly text: string;
  readonly commands: readonly string[];
}

export interface Plan {
  readonly deployment: string;
  readonly region: string;
  readonly situation: Situation;
  /** One line: what is wrong (or that nothing is). */
  readonly summary: string;
  /** What was found, as label/value pairs. */
  readonly facts: readonly (readonly [string, string])[];
  readonly steps: readonly string[];
  /** The cdk command (arguments after `npx`), for the redeploy situations. */
  readonly cdk?: readonly string[];
  /** The file system the deployment keeps (never touched by restore). */
  readonly fileSystemId?: string;
  /**
   * The data stack is (to be) built around this retained file system: the deployment's saved
   * configuration (cdk.json `retainedData`) must name it before any cdk deploy.
   */
  readonly retainedFileSystemId?: string;
  /** The tier the cdk command deploys. */
  readonly tier?: Tier;
  /**
   * The scale tier: the host is the AI host (Ollama, Qdrant, Crawl4AI only), n8n runs on ECS (which replaces its own
   * failed tasks) and its database on RDS, in `GeuseScaleData-<name>`.
   */
  readonly scale?: boolean;
}

export interface AssessOptions {
  readonly tier?: Tier;
  readonly fileSystemId?: string;
  readonly clock: Clock;
  readonly sleep: Sleep;
  readonly signal: AbortSignal;
  readonly randomId: () => string;
  readonly monotonicMs: () => number;
  readonly probeTimeoutMs: number;
}

export interface HostHealth {
  readonly healthy: boolean;
  /** Conclusive failures ("service: detail"): the only evidence that justifies replacing a host. */
  readonly down: readonly string[];
  /** Probes without an answer either way (SSM agent lost for a moment, no result in time). */
  readonly inconclusive: readonly string[];
  readonly results: readonly ProbeResult[];
}

/** All probes of the host through one SSM command (the health module); healthy = every check up. */
export async function probeHost(clients: AwsClients, name: string, tier: Tier, compute: StackSummary, lookup: HostLookup, options: AssessOptions): Promise<HostHealth> {
  const [round] = await probeSsmRound([{ name, tier, compute, lookup }], {
    timeoutMs: options.probeTimeoutMs,
    monotonicMs: options.monotonicMs,
    ssm: clients.ssm,
    sleep: options.sleep,
    clock: options.clock,
    signal: options.signal,
    randomId: options.randomId,
  });
  const describe = (r: ProbeResult) => `${r.service}: ${r.detail}`;
  // The scale tier's AI host runs no n8n and no PostgreSQL: their probes there say nothing about it.
  const results = round.results.filter((r) => r.service === 'host' || runsOnHost(tier, r.service));
  const down = results.filter((r) => r.outcome === 'down');
  const inconclusive = results.filter((r) => r.outcome === 'unknown');
  return {
    healthy: down.length === 0 && inconclusive.length === 0 && results.length > 1,
    down: down.map(describe),
    inconclusive: inconclusive.map(describe),
    results,
  };
}

/** The retained file system travels in cdk.json (see saved-config.ts), not on the command line. */
function cdkDeploy(stacks: readonly string[], name: string, tier: Tier): string[] {
  return ['cdk', 'deploy', ...stacks, '-c', `name=${name}`, '-c', `tier=${tier}`, '--require-approval', 'never'];
}

/** "A", "A and B", "A, B and C". */
function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}` : items.join('');
}

/** Statuses of a stack whose creation never finished. */
const NEVER_CREATED = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_FAILED']);

function describeHeldSecrets(held: readonly SecretStatus[]): string {
  const pending = held.filter((s) => s.state === 'pending-deletion').length;
  return `${held.length} secret${held.length === 1 ? '' : 's'} named ${held[0].name.replace(/[^/]+$/, '*')}${pending > 0 ? ` (${pending} scheduled for deletion)` : ''}`;
}

/** The live data stack mounts a retained file system when it holds mount targets but no file system of its own. */
async function retainedFileSystemOfLiveDataStack(clients: AwsClients, data: StackSummary): Promise<string | undefined> {
  const resources = await listStackResources(clients.cloudFormation, data.stackName);
  if (resources.some((r) => r.type === 'AWS::EFS::FileSystem')) return undefined;
  return resources.some((r) => r.type === 'AWS::EFS::MountTarget') ? data.outputs.FileSystemId || undefined : undefined;
}

function secretState(s: SecretStatus): string {
  return `${s.purpose} ${s.state === 'present' ? 'ok' : s.state === 'pending-deletion' ? `scheduled for deletion${s.deletedAt ? ` on ${formatTime(s.deletedAt)}` : ''}` : 'MISSING'}`;
}

/**
 * The stored secrets, each with its state; then the legacy secrets of derived purposes when there are any (their values
 * win over the derived ones on the host). The derived purposes without a secret are normal: the host computes them.
 */
function secretsLine(secrets: readonly SecretStatus[]): string {
  const parts = [secrets.filter((s) => s.source === 'stored').map(secretState).join(', ')];
  const legacy = secrets.filter((s) => s.source === 'derived' && s.state !== 'missing');
  if (legacy.length > 0) {
    parts.push(`legacy ${legacy.map(secretState).join(', ')} (kept from before the host derived them: their values win on the host)`);
    const derived = secrets.filter((s) => s.source === 'derived' && s.state === 'missing');
    if (derived.length > 0) parts.push(`${derived.map((s) => s.purpose).join(', ')} derived on the host from the encryption key`);
  }
  return parts.join('; ');
}

function stuckOrBusy(stack: Pick<StackSummary, 'stackName' | 'status'>, deployment: string, region: string): OpsError | undefined {
  const assessment = assessStack(stack.stackName, stack.status, region);
  if (assessment.condition === 'busy') {
    return new OpsError(
      `${stack.stackName} is ${stack.status}: ${assessment.explanation}`,
      `run \`gm-ops restore ${deployment}\` again when CloudFormation is done (see \`gm-ops status ${deployment}\`)`,
    );
  }
  if (assessment.condition === 'stuck') {
    return new OpsError(
      `${stack.stackName} is ${stack.status}: ${assessment.explanation}; restore cannot repair a stack in this state`,
      `run \`${assessment.remedy}\`${assessment.next ? `, then ${assessment.next}` : ''}; then \`gm-ops restore ${deployment}\``,
    );
  }
  return undefined;
}

function resolveTier(requested: Tier | undefined, deleted: readonly DeletedStack[], name: string): { tier: Tier; from: string } {
  if (requested) return { tier: requested, from: '--tier' };
  const compute = deleted.find((s): s is DeletedStack & { role: Tier } => s.role !== 'data');
  if (compute) {
    const when = compute.deletedAt ? `, deleted ${formatTime(compute.deletedAt)}` : '';
    return { tier: compute.role, from: `the last compute stack, ${compute.stackName}${when}` };
  }
  throw new UsageProblem(
    `cannot tell which tier to restore for "${name}": no deleted ${TIERS.map((t) => computeStackName(t, name)).join(' / ')} in the CloudFormation history`,
    `pass --tier ${TIERS.join('|')}`,
  );
}

function describeCandidate(candidate: FileSystemCandidate): string {
  const size = candidate.sizeBytes !== undefined ? `${(candidate.sizeBytes / 1024 ** 3).toFixed(2)} GiB` : 'size unknown';
  const created = candidate.createdAt !== undefined ? `created ${formatTime(candidate.createdAt)}` : 'creation time unknown';
  return `${candidate.fileSystemId} (${created}, ${size}${candidate.name ? `, ${candidate.name}` : ''}; found by ${candidate.foundBy.join(' and ')})`;
}

async function chooseFileSystem(clients: AwsClients, name: string, search: RetainedSearch, requested: string | undefined, region: string): Promise<FileSystemCandidate> {
  let chosen: FileSystemCandidate | undefined;
  if (requested) {
    chosen = search.candidates.find((c) => c.fileSystemId === requested);
    if (!chosen) {
      const description = await describeFileSystem(clients.efs, requested);
      if (!description) throw new OpsError(`file system ${requested} not found in ${region}`, 'check the id and the region (--region)');
      const tag = description.Tags?.find((t) => t.Key === 'geuse:deployment')?.Value;
      throw new OpsError(
        tag
          ? `file system ${requested} belongs to deployment "${tag}" (tag geuse:deployment), not "${name}": restore never mounts another deployment's data`
          : `file system ${requested} is neither tagged geuse:deployment=${name} nor retained by a deleted ${dataStackName(name)}: restore does not mount it`,
        search.candidates.length > 0 ? `candidates for "${name}": ${search.candidates.map((c) => c.fileSystemId).join(', ')}` : `searched ${search.searched.join('; ')}`,
      );
    }
  } else if (search.candidates.length === 1) {
    chosen = search.candidates[0];
  } else if (search.candidates.length === 0) {
    throw new OpsError(
      `nothing retained found for "${name}" in ${region}: no stack, no retained EFS file system and no secret (searched ${search.searched.join('; ')}; the secrets ${secretName(name, 'n8n-encryption-key').replace(/[^/]+$/, '<purpose>')}, including those scheduled for deletion)`,
      `check the region (--region); a file system deleted by hand cannot be restored; to start afresh deploy: npx cdk deploy ${computeStackName('dev', name)} -c name=${name}`,
    );
  } else {
    throw new OpsError(
      `${search.candidates.length} retained file systems could belong to "${name}": ${search.candidates.map(describeCandidate).join('; ')}`,
      `choose one with --file-system ${search.candidates[0].fileSystemId} (restore does not guess which holds the data you want)`,
      ExitCode.failure,
    );
  }
  if (chosen.state && chosen.state !== 'available') {
    throw new OpsError(`file system ${chosen.fileSystemId} is ${chosen.state}, not available`, 'wait until it is available, then run restore again');
  }
  if (chosen.mountTargets > 0) {
    throw new OpsError(
      `file system ${chosen.fileSystemId} still has ${chosen.mountTargets} mount target${chosen.mountTargets > 1 ? 's' : ''}: something else may be using it, and restore never starts a second writer`,
      `find what mounts it (aws efs describe-mount-targets --file-system-id ${chosen.fileSystemId}); remove those mount targets only once nothing writes to it`,
    );
  }
  return chosen;
}

/** Only the stored secrets are required: the derived ones are computed on the host whenever no legacy secret exists. */
function checkSecrets(secrets: readonly SecretStatus[], name: string): void {
  const missing = secrets.filter((s) => s.source === 'stored' && s.state === 'missing');
  if (missing.length === 0) return;
  const key = missing.find((s) => s.purpose === 'n8n-encryption-key');
  const names = missing.map((s) => s.name).join(', ');
  if (key) {
    throw new OpsError(
      `the n8n encryption key of "${name}" is missing (${key.name}${missing.length > 1 ? `; also missing: ${missing.filter((s) => s !== key).map((s) => s.name).join(', ')}` : ''}): n8n must read the credentials it saved before, and a new key cannot decrypt them`,
      `restore the secret if it was deleted in the last 30 days (aws secretsmanager restore-secret --secret-id ${key.name}), or recreate it with the old value from a backup; restore does not generate a new key`,
    );
  }
  throw new OpsError(
    `secrets of "${name}" are missing: ${names}; the restored host reads them at boot, and n8n's data on EFS was made with their old values`,
    `restore them if deleted in the last 30 days (aws secretsmanager restore-secret --secret-id <name>), or recreate them with their old values`,
  );
}

export async function assess(clients: AwsClients, name: string, options: AssessOptions): Promise<Plan> {
  const region = await clients.region();
  if (!region) throw new UsageProblem('no AWS region configured', 'pass --region, set AWS_REGION, or set a region in your AWS profile');
  const stackNames = [...TIERS.map((tier) => computeStackName(tier, name)), dataStackName(name)];
  const [described, scaleData] = await Promise.all([
    Promise.all(stackNames.map((s) => describeStack(clients.cloudFormation, s))),
    readScaleDataStack(clients.cloudFormation, name).then((s) => (s && s.status !== 'DELETE_COMPLETE' ? s : undefined)),
  ]);
  const stacks = described.filter((s): s is StackSummary => s !== undefined && s.deployment === name && s.status !== 'DELETE_COMPLETE');
  const [deployment] = groupDeployments(stacks);
  const compute = deployment?.compute;
  const data = deployment?.data;
  const facts: [string, string][] = [
    ['Data stack', data ? `${data.stackName} ${data.status}` : `${dataStackName(name)} (none)`],
    ['Compute stack', compute ? `${compute.stackName} ${compute.status}` : 'none'],
  ];
  if (deployment && deployment.extraCompute.length > 0) {
    throw new OpsError(
      `"${name}" has ${deployment.extraCompute.length + 1} compute stacks (${[compute!, ...deployment.extraCompute].map((s) => s.stackName).join(', ')}); a deployment runs one tier at a time`,
      `delete the one you do not want (its data is on EFS, untouched), then run restore again`,
    );
  }
  for (const stack of [data, compute]) {
    const problem = stack ? stuckOrBusy(stack, name, region) : undefined;
    if (!problem) continue;
    if (stack && stack === data && NEVER_CREATED.has(stack.status)) {
      const held = (await secretStatuses(clients.secretsManager, name)).filter((s) => s.state !== 'missing');
      if (held.length > 0) {
        throw new OpsError(
          `${stack.stackName} is ${stack.status}: its creation failed, and ${describeHeldSecrets(held)} are retained from an earlier data stack: a new data stack cannot take their names`,
          `run \`aws cloudformation delete-stack --stack-name ${stack.stackName} --region ${region}\` (it holds no data), then \`gm-ops restore ${name}\`: it rebuilds the data stack around the retained data and secrets (a plain cdk deploy would fail the same way)`,
        );
      }
    }
    throw problem;
  }
  const fileSystemId = data?.outputs.FileSystemId || undefined;
  if (fileSystemId) facts.push(['File system', `${fileSystemId} (retained, untouched)`]);

  // 1. Both stacks live: the host.
  if (data && compute) {
    const tier = compute.role as Tier;
    const scale = tier === 'scale';
    if (scale) checkScaleData(name, region, scaleData, facts, false);
    const group = autoScalingGroupOf(compute);
    if (!group) throw new OpsError(`${compute.stackName} has no AutoScalingGroupName output`, `redeploy it: npx cdk deploy ${compute.stackName} -c name=${name} -c tier=${tier}`);
    const lookup = (await resolveHosts(clients.autoScaling, clients.ec2, [group])).get(group)!;
    if (!lookup.groupExists) {
      throw new OpsError(
        `auto scaling group ${group} of ${compute.stackName} does not exist any more (deleted outside CloudFormation)`,
        `delete ${compute.stackName} (the data stays on EFS), then run restore again to redeploy it`,
      );
    }
    const host = lookup.host;
    const base = { kind: 'replace-host' as const, compute, tier, group };
    const plan = (situation: Situation, summary: string, steps: string[]): Plan => ({ deployment: name, region, situation, summary, facts, steps, fileSystemId, ...(scale ? { scale } : {}) });
    const healthyStep = scale ? `Wait until the AI services (${AI_HOST_SERVICES.join(', ')}) are healthy through SSM` : 'Wait until every service is healthy through SSM';
    const waitSteps = (what: string) => [what, healthyStep];
    const replaceSteps = (instanceId: string) => [
      `Terminate ${instanceId} through ${group} (TerminateInstanceInAutoScalingGroup, desired capacity stays 1): the group launches a replacement`,
      scale
        ? 'The new AI host mounts the retained file system, waits on the EFS fence until the old one has let go, and restores Qdrant from its newest snapshot there'
        : 'The new host mounts the retained file system and waits on the EFS fence until the old one has let go: never two writers',
      healthyStep,
    ];
    if (host) facts.push(['Host', `${host.instanceId} ${host.state}${host.lifecycleState ? ` (${host.lifecycleState}${host.healthStatus ? `, ${host.healthStatus}` : ''})` : ''}${host.launchedAt ? `, launched ${formatTime(host.launchedAt)}` : ''}`]);
    if (!host) {
      if ((lookup.desiredCapacity ?? 0) === 0 && scale) {
        // The AI host alone would not bring n8n back: gm-ops stop also set the n8n services to 0 tasks.
        throw new OpsError(
          `${name} is stopped (${group} is at 0 hosts): restore replaces a failed AI host, it does not start a stopped deployment`,
          `\`gm-ops start ${name}\` brings back the AI host and the n8n services`,
        );
      }
      if ((lookup.desiredCapacity ?? 0) === 0 && lookup.maxSize === 0) {
        // Parked by gm-ops stop: SetDesiredCapacity above the maximum is refused by Auto Scaling (ValidationError).
        throw new OpsError(
          `${name} is stopped (${group} is parked at 0 hosts, maximum 0, by \`gm-ops stop\`): restore replaces a failed host, it does not start a stopped deployment`,
          `\`gm-ops start ${name}\` brings the host back (and resumes a suspended schedule)`,
        );
      }
      if ((lookup.desiredCapacity ?? 0) === 0) {
        facts.push(['Stopped', `${group} is at 0 hosts (\`gm-ops stop\` or a schedule); \`gm-ops start ${name}\` brings the host back too, and resumes a suspended schedule`]);
        return plan(
          { ...base, action: 'scale-up', reason: 'the auto scaling group is at 0 instances' },
          `${group} has no host: its desired capacity is 0`,
          [`Set the desired capacity of ${group} to 1: the group launches a host`, 'The new host mounts the retained file system (it waits on the EFS fence: one writer at a time)', 'Wait until every service is healthy through SSM'],
        );
      }
      return plan(
        { ...base, action: 'wait', reason: 'the group is launching a host' },
        `${group} has no host yet: it is launching one`,
        waitSteps('Wait for the host the group is launching (nothing to replace)'),
      );
    }
    const lifecycle = host.lifecycleState ?? '';
    if (host.state === 'pending' || lifecycle.startsWith('Pending') || lifecycle === 'Terminating' || lifecycle.startsWith('Terminating:')) {
      const replacing = lifecycle.startsWith('Terminating');
      return plan(
        { ...base, action: 'wait', host, replacing, reason: replacing ? 'the group is replacing the host' : 'the host is starting' },
        replacing ? `host ${host.instanceId} is being terminated: the group replaces it` : `host ${host.instanceId} is starting (${lifecycle || host.state})`,
        waitSteps(replacing ? `Wait for the replacement of ${host.instanceId} (the group launches it)` : `Wait for ${host.instanceId} to finish starting (nothing to replace)`),
      );
    }
    if (host.state === 'running' && host.healthStatus !== 'Unhealthy') {
      const health = await probeHost(clients, name, tier, compute, lookup, options);
      if (health.healthy) {
        const summary = scale
          ? `the AI services of ${name} (${AI_HOST_SERVICES.join(', ')}) are healthy on ${host.instanceId}; n8n runs on ECS, which replaces its own failed tasks (\`gm-ops health ${name}\` checks them)`
          : `every service of ${name} is healthy on ${host.instanceId}`;
        return { deployment: name, region, situation: { kind: 'healthy', compute, host }, summary, facts, steps: [], fileSystemId, ...(scale ? { scale } : {}) };
      }
      if (health.down.length > 0) facts.push(['Not healthy', health.down.join('; ')]);
      if (health.inconclusive.length > 0) facts.push(['Inconclusive', health.inconclusive.join('; ')]);
      if (health.down.length === 0) {
        return plan(
          { ...base, action: 'wait', host, reason: 'no conclusive evidence that the host is unhealthy' },
          `host ${host.instanceId} could not be checked (no conclusive evidence that it is unhealthy): it is not replaced`,
          waitSteps(`Wait for ${host.instanceId} to answer healthy (no conclusive evidence against it, so nothing to replace)`),
        );
      }
      const ageMinutes = host.launchedAt !== undefined ? (options.clock.now() - host.launchedAt) / 60_000 : Infinity;
      const graceMinutes = bootGraceMinutes(compute, tier);
      if (ageMinutes < graceMinutes) {
        return plan(
          { ...base, action: 'wait', host, reason: `the host launched ${Math.floor(ageMinutes)} min ago and may still be booting` },
          `host ${host.instanceId} launched ${Math.floor(ageMinutes)} min ago and is not healthy yet: it is probably still booting`,
          waitSteps(`Wait for ${host.instanceId} (launched less than ${graceMinutes} min ago) instead of replacing it`),
        );
      }
      return plan(
        { ...base, action: 'terminate', host, reason: `not healthy: ${health.down.join('; ')}` },
        `${scale ? 'AI host' : 'host'} ${host.instanceId} is running but not healthy (${health.down.map((d) => d.split(':')[0]).join(', ')})`,
        replaceSteps(host.instanceId),
      );
    }
    return plan(
      { ...base, action: 'terminate', host, reason: host.healthStatus === 'Unhealthy' ? 'the group marked it unhealthy' : `it is ${host.state}` },
      `${scale ? 'AI host' : 'host'} ${host.instanceId} is ${host.state === 'running' ? 'marked unhealthy' : host.state}`,
      replaceSteps(host.instanceId),
    );
  }

  // 2. The data stack lives, the compute stack is gone: redeploy it.
  const deleted = await deletedStacks(clients.cloudFormation, name);
  if (data && !compute) {
    const { tier, from } = resolveTier(options.tier, deleted, name);
    facts.push(['Tier', `${tier} (from ${from})`]);
    const scale = tier === 'scale';
    checkTierSwitch(name, tier, options.tier, deleted);
    if (scale) checkScaleData(name, region, scaleData, facts);
    const stack = computeStackName(tier, name);
    // The scale tier's compute stack depends on its database stack: named too, so the plan says what is deployed.
    const stacksToDeploy = scale ? [scaleDataStackName(name), stack] : [stack];
    const cdk = cdkDeploy(stacksToDeploy, name, tier);
    // cdk deploy deploys the data stack too: rebuilt around a retained file system, its config must say so.
    const retained = await retainedFileSystemOfLiveDataStack(clients, data);
    if (retained) facts.push(['Data stack on', `${retained}, a retained file system (${data.stackName} was rebuilt around it)`]);
    return {
      deployment: name,
      region,
      situation: { kind: 'redeploy-compute', tier, tierFrom: from },
      summary: `the compute stack of ${name} is gone; ${data.stackName} and its file system live`,
      facts,
      steps: [
        ...(retained ? [keepInConfigStep(name, retained)] : []),
        `Deploy ${listed(stacksToDeploy)}: npx ${cdk.join(' ')}`,
        scale
          ? `Its AI host mounts the retained file system; n8n's services start on ECS over the database in ${scaleDataStackName(name)}, as it was; CloudFormation waits for the host's success signal`
          : 'Its host mounts the retained file system; CloudFormation waits for its success signal',
        scale ? `Check the AI services (${AI_HOST_SERVICES.join(', ')}) are healthy through SSM` : 'Check every service is healthy through SSM',
      ],
      cdk,
      fileSystemId,
      retainedFileSystemId: retained,
      tier,
      ...(scale ? { scale } : {}),
    };
  }

  // 3. The data stack is gone: rebuild it around the retained file system and secrets.
  const [search, secrets] = await Promise.all([
    findRetainedFileSystems(clients.efs, clients.cloudFormation, name, deleted),
    secretStatuses(clients.secretsManager, name),
  ]);
  const held = secrets.filter((s) => s.state !== 'missing');
  if (!options.fileSystemId && search.candidates.length === 0 && held.length > 0) {
    facts.push(['File system', `none (searched ${search.searched.join('; ')})`], ['Secrets', secretsLine(secrets)]);
    const { tier } = compute ? { tier: compute.role as Tier } : resolveTierOrDev(options.tier, deleted);
    return secretsWithoutData(name, region, tier, held, facts);
  }
  const fileSystem = await chooseFileSystem(clients, name, search, options.fileSystemId, region);
  facts.push(['File system', describeCandidate(fileSystem)]);
  facts.push(['Secrets', secretsLine(secrets)]);
  checkSecrets(secrets, name);
  const { tier, from } = compute ? { tier: compute.role as Tier, from: `the existing ${compute.stackName}` } : resolveTier(options.tier, deleted, name);
  facts.push(['Tier', `${tier} (from ${from})`]);
  const scale = tier === 'scale';
  if (!compute) checkTierSwitch(name, tier, options.tier, deleted);
  if (scale) checkScaleData(name, region, scaleData, facts);
  const stacksToDeploy = [dataStackName(name), ...(scale ? [scaleDataStackName(name)] : []), computeStackName(tier, name)];
  const cdk = cdkDeploy(stacksToDeploy, name, tier);
  const pending = secrets.filter((s) => s.state === 'pending-deletion');
  return {
    deployment: name,
    region,
    situation: { kind: 'rebuild-data', tier, tierFrom: from, fileSystem, secrets, compute },
    summary: `${dataStackName(name)} is gone; its file system ${fileSystem.fileSystemId} and its secrets are retained`,
    facts,
    steps: [
      ...(pending.length > 0 ? [`Cancel the scheduled deletion of ${pending.map((s) => s.name).join(', ')} (RestoreSecret)`] : []),
      keepInConfigStep(name, fileSystem.fileSystemId),
      `Rebuild ${listed(stacksToDeploy)} around ${fileSystem.fileSystemId} and the retained secrets: npx ${cdk.join(' ')}`,
      scale
        ? `The new AI host mounts the retained file system; n8n on ECS runs on its database in ${scaleDataStackName(name)} and reads its credentials with the retained encryption key`
        : 'The new host mounts the retained file system; n8n reads its credentials with the retained encryption key',
      scale ? `Check the AI services (${AI_HOST_SERVICES.join(', ')}) are healthy through SSM` : 'Check every service is healthy through SSM',
    ],
    cdk,
    fileSystemId: fileSystem.fileSystemId,
    retainedFileSystemId: fileSystem.fileSystemId,
    tier,
    ...(scale ? { scale } : {}),
  };
}

/**
 * The scale tier's n8n database lives in `GeuseScaleData-<name>` (RDS): a plan that deploys or keeps the scale tier
 * needs it there and settled. Deploying without it would create a new, empty database while the old one survives only
 * as its final snapshot, so restore refuses instead.
 */
function checkScaleData(name: string, region: string, scaleData: RawStack | undefined, facts: [string, string][], deploying = true): void {
  const stackName = scaleDataStackName(name);
  if (!scaleData) {
    throw new OpsError(
      deploying
        ? `${stackName} does not exist: deploying the scale tier now would give n8n a new, empty database on RDS, so restore does not`
        : `${stackName} does not exist: n8n on ECS has no database, and restore does not give it a new, empty one`,
      `if it was deleted, its final snapshot remains (aws rds describe-db-snapshots --region ${region}); RDS restores a snapshot only into a new DB instance, which a new ${stackName} would not use; to start afresh on an empty database: npx cdk deploy ${stackName} ${computeStackName('scale', name)} -c name=${name} -c tier=scale`,
    );
  }
  const problem = stuckOrBusy(scaleData, name, region);
  if (problem) throw problem;
  const instance = databaseInstanceOf(scaleData);
  facts.push(['Database stack', `${stackName} ${scaleData.status} (n8n's database${instance ? `, RDS instance ${instance}` : ''}: kept as it is, with its automated backups)`]);
}

/**
 * A move between the scale tier and a host tier moves n8n's database between RDS and the file system: that is `gm-ops
 * migrate`, never a redeploy (a host tier would start on the file system's old database, the scale tier on RDS's).
 */
function checkTierSwitch(name: string, tier: Tier, requested: Tier | undefined, deleted: readonly DeletedStack[]): void {
  const last = deleted.find((s): s is DeletedStack & { role: Tier } => s.role !== 'data');
  if (!requested || !last || (last.role === 'scale') === (tier === 'scale')) return;
  throw new UsageProblem(
    `--tier ${tier}: the last compute stack of "${name}" was ${last.stackName}, and n8n's database ${last.role === 'scale' ? `is on RDS (${scaleDataStackName(name)})` : 'is on the file system'}; a redeploy as ${tier} would start n8n on ${tier === 'scale' ? 'the database on RDS' : "the file system's old database"}, not on it`,
    `restore it as ${last.role} (drop --tier), then move it with \`gm-ops migrate ${name} --to ${tier}\``,
  );
}

function keepInConfigStep(name: string, fileSystemId: string): string {
  return `Keep ${fileSystemId} in the deployment's saved configuration (cdk.json "geusemaker:deployments" > "${name}" > "retainedData"), so that every later deploy mounts it instead of creating a file system and secrets`;
}

/** The tier a fresh start would deploy: --tier, the last deleted compute stack's, else dev. */
function resolveTierOrDev(requested: Tier | undefined, deleted: readonly DeletedStack[]): { tier: Tier } {
  if (requested) return { tier: requested };
  const compute = deleted.find((s): s is DeletedStack & { role: Tier } => s.role !== 'data');
  return { tier: compute?.role ?? 'dev' };
}

/** Secrets retained, their file system gone: restore has nothing to rebuild on; the ways out, one line each. */
function secretsWithoutData(name: string, region: string, tier: Tier, held: readonly SecretStatus[], facts: [string, string][]): Plan {
  const pending = held.filter((s) => s.state === 'pending-deletion');
  const ways: WayOut[] = [
    {
      text: `Keep the old data: restore the file system from its AWS Backup recovery point (automatic EFS backups are on), tag it geuse:deployment=${name}, then run gm-ops restore ${name} again; it rebuilds around it and these secrets${pending.length > 0 ? ' (first cancel their deletion)' : ''}`,
      commands: pending.map((s) => `aws secretsmanager restore-secret --secret-id ${s.name} --region ${region}`),
    },
    {
      text: `Start afresh without the old data (the n8n credentials saved before can never be read again): free the secret names for good, then deploy`,
      commands: [
        ...held.map((s) => `aws secretsmanager delete-secret --secret-id ${s.name} --force-delete-without-recovery --region ${region}`),
        `AWS_REGION=${region} npx cdk deploy ${computeStackName(tier, name)} -c name=${name} -c tier=${tier}`,
      ],
    },
  ];
  return {
    deployment: name,
    region,
    situation: { kind: 'secrets-without-data', tier, secrets: held, ways },
    summary: `${dataStackName(name)} and its file system are gone, but ${describeHeldSecrets(held)} are retained: restore has no data to rebuild on, and their names block a fresh data stack`,
    facts,
    steps: [],
  };
}
