/**
 * The steps of a restore drill, each timed with the injected clock, and the cleanup that always follows them.
 * The source deployment is only read: its recovery point is restored into a new file system, its secrets are
 * read and copied, its sets were listed by the plan.
 */
import { DescribeRestoreJobCommand, StartRestoreJobCommand } from '@aws-sdk/client-backup';
import { DeleteFileSystemCommand, DescribeFileSystemsCommand, DescribeMountTargetsCommand, TagResourceCommand } from '@aws-sdk/client-efs';
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from '../aws/clients';
import { hasErrorName, toOpsError } from '../aws/classify-error';
import { DATA_TIER, HOST_PATHS, SECRET_PURPOSES, TAG_KEYS, secretName } from '../contract';
import type { CommandIO } from '../command-io';
import { Interrupted, OpsError } from '../errors';
import { describeStack } from '../discovery/stacks';
import { functionCheckScript, parseFunctionCheck, FUNCTION_CHECK_TIMEOUT_SECONDS, type FunctionResult } from '../health/function-check';
import { markerOf } from '../host/shell';
import { parseSets, type BackupSet } from '../backup/host-scripts';
import { backupClient } from '../backup/backup-client';
import { EFS_AUTOMATIC_BACKUP_VAULT } from '../backup/recovery-points';
import { runningHost, runOnHost } from '../backup/run';
import type { Project } from '../restore/project';
import { cdkContextArgs, type DrillPlan } from './assess';

export interface DrillTimings {
  restoreJobMs?: number;
  deployMs?: number;
  hostRestoreMs?: number;
  functionalCheckMs?: number;
  cleanupMs?: number;
}

export interface CleanupItem {
  readonly resource: string;
  readonly ok: boolean;
  readonly detail: string;
  /** How to remove it by hand when it is left. */
  readonly removal?: string;
}

/** What the drill did and found; filled as it goes, reported whatever happened. */
export interface DrillState {
  restoreJobId?: string;
  restoreJobDone?: boolean;
  restoredFileSystemId?: string;
  copiedSecrets: string[];
  deployAttempted: boolean;
  instanceId?: string;
  set?: BackupSet;
  functional?: Map<string, FunctionResult>;
  timings: DrillTimings;
  cleanup: CleanupItem[];
}

export interface ActOptions {
  readonly io: CommandIO;
  readonly clients: AwsClients;
  readonly plan: DrillPlan;
  readonly project: Project;
  readonly output: NodeJS.WritableStream;
  /** How long the restore job may take. */
  readonly restoreTimeoutMs: number;
  readonly pollMs: number;
  readonly status: (text: string) => void;
}

const RESTORED_ITEMS = ['/backups'];

function fileSystemIdOf(arn: string | undefined): string | undefined {
  return /file-system\/(fs-[0-9a-f]+)$/.exec(arn ?? '')?.[1];
}

async function timed<T>(options: ActOptions, set: (ms: number) => void, work: () => Promise<T>): Promise<T> {
  const { clock } = options.io.services;
  const started = clock.now();
  try {
    return await work();
  } finally {
    set(clock.now() - started);
  }
}

/** StartRestoreJob of /backups into a new encrypted file system, then DescribeRestoreJob until it ends. */
async function restoreCopy(options: ActOptions, state: DrillState): Promise<void> {
  const { plan, io } = options;
  const backup = backupClient(options.clients);
  const metadata: Record<string, string> = {
    'file-system-id': plan.fileSystem.fileSystemId,
    newFileSystem: 'true',
    Encrypted: 'true',
    PerformanceMode: plan.fileSystem.performanceMode ?? 'generalPurpose',
    CreationToken: plan.creationToken,
    itemsToRestore: JSON.stringify(RESTORED_ITEMS),
  };
  if (plan.fileSystem.kmsKeyId) metadata.KmsKeyId = plan.fileSystem.kmsKeyId;
  let started;
  try {
    started = await backup.send(
      new StartRestoreJobCommand({
        RecoveryPointArn: plan.recoveryPoint.arn,
        Metadata: metadata,
        IamRoleArn: plan.restoreRole,
        ResourceType: 'EFS',
        IdempotencyToken: plan.creationToken,
        CopySourceTagsToRestoredResource: false,
      }),
    );
  } catch (error) {
    if (hasErrorName(error, 'AccessDeniedException', 'AccessDenied')) {
      const automatic = plan.recoveryPoint.vault === EFS_AUTOMATIC_BACKUP_VAULT;
      throw new OpsError(
        `AWS Backup refused to restore ${plan.recoveryPoint.arn}: ${toOpsError(error).message.replace(/^access denied: /, '')}`,
        automatic
          ? `the access policy of ${EFS_AUTOMATIC_BACKUP_VAULT} may deny backup:StartRestoreJob; back the file system up with a plan of your own into a vault of yours and drill with --recovery-point`
          : 'check backup:StartRestoreJob and iam:PassRole on the restore role (--restore-role)',
      );
    }
    throw error;
  }
  state.restoreJobId = started.RestoreJobId;
  if (!state.restoreJobId) throw new OpsError('AWS Backup accepted the restore but returned no restore job id');
  io.notice(`restore job ${state.restoreJobId} started (${plan.recoveryPoint.arn})`);
  const { clock, sleep, signal } = io.services;
  const deadline = clock.now() + options.restoreTimeoutMs;
  for (;;) {
    if (signal.aborted) throw new Interrupted();
    const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: state.restoreJobId }));
    state.restoredFileSystemId = fileSystemIdOf(job.CreatedResourceArn) ?? state.restoredFileSystemId;
    const status = job.Status ?? 'PENDING';
    if (status === 'COMPLETED') {
      state.restoreJobDone = true;
      if (!state.restoredFileSystemId) throw new OpsError(`the restore job ${state.restoreJobId} completed without naming the file system it created`);
      return;
    }
    if (status === 'FAILED' || status === 'ABORTED') {
      state.restoreJobDone = true;
      throw new OpsError(`the restore job ${state.restoreJobId} ${status === 'FAILED' ? 'failed' : 'was aborted'}: ${job.StatusMessage || 'AWS Backup gave no reason'}`, `see \`aws backup describe-restore-job --restore-job-id ${state.restoreJobId}\``);
    }
    if (clock.now() >= deadline) {
      throw new OpsError(`the restore job ${state.restoreJobId} is still ${status} after ${Math.round(options.restoreTimeoutMs / 60_000)} min`, 'run the drill with a longer --timeout');
    }
    options.status(`restore job ${status.toLowerCase()}${job.PercentDone ? ` (${job.PercentDone}%)` : ''}`);
    await sleep(options.pollMs, signal);
  }
}

/** Tags the copy for the drill deployment (never the source's tags: `gm-ops restore <source>` must not find it). */
async function tagCopy(options: ActOptions, fileSystemId: string): Promise<void> {
  const { plan } = options;
  await options.clients.efs.send(
    new TagResourceCommand({
      ResourceId: fileSystemId,
      Tags: [
        { Key: TAG_KEYS.deployment, Value: plan.drill },
        { Key: TAG_KEYS.tier, Value: DATA_TIER },
        { Key: 'Name', Value: `${plan.drill} (restore drill copy of ${plan.fileSystem.fileSystemId})` },
      ],
    }),
  );
}

/** The stored secrets (required) and any legacy secret of a derived purpose, copied under the drill's names. */
async function copySecrets(options: ActOptions, state: DrillState): Promise<void> {
  const { plan, clients } = options;
  for (const { purpose, source } of SECRET_PURPOSES) {
    const from = secretName(plan.source, purpose);
    if (source === 'derived') {
      try {
        const described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: from }));
        if (described?.DeletedDate) continue;
      } catch (error) {
        if (hasErrorName(error, 'ResourceNotFoundException')) continue;
        throw error;
      }
    }
    let value;
    try {
      value = await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: from }));
    } catch (error) {
      if (hasErrorName(error, 'ResourceNotFoundException')) throw new OpsError(`${plan.source} has no secret ${from}: the drill cannot run its data without it`);
      throw error;
    }
    const to = secretName(plan.drill, purpose);
    await clients.secretsManager.send(
      new CreateSecretCommand({
        Name: to,
        Description: `GeuseMaker ${plan.drill}: ${purpose} (copy of ${from} for a restore drill; deleted with the drill)`,
        ...(value.SecretString !== undefined ? { SecretString: value.SecretString } : { SecretBinary: value.SecretBinary }),
        Tags: [
          { Key: TAG_KEYS.deployment, Value: plan.drill },
          { Key: TAG_KEYS.tier, Value: DATA_TIER },
        ],
      }),
    );
    state.copiedSecrets.push(to);
  }
}

function cdkArgs(options: ActOptions, verb: 'deploy' | 'destroy', fileSystemId: string): string[] {
  const { plan } = options;
  const stacks = verb === 'deploy' ? [plan.stacks.data, plan.stacks.compute] : [plan.stacks.compute, plan.stacks.data];
  const tail = verb === 'deploy' ? ['--require-approval', 'never'] : ['--force'];
  return ['cdk', verb, ...stacks, ...cdkContextArgs(plan, fileSystemId), ...tail];
}

async function deploy(options: ActOptions, state: DrillState): Promise<void> {
  const args = cdkArgs(options, 'deploy', state.restoredFileSystemId!);
  options.io.notice(`running: npx ${args.slice(0, 4).join(' ')} … (in ${options.project.root})`);
  state.deployAttempted = true;
  const result = await options.io.services.processRunner.run('npx', args, { cwd: options.project.root, output: options.output, signal: options.io.services.signal });
  if (options.io.services.signal.aborted) throw new Interrupted();
  if (result.exitCode !== 0) {
    throw new OpsError(`cdk deploy of the drill deployment ${options.plan.drill} failed (${result.exitCode === null ? `ended by ${result.signal ?? 'a signal'}` : `exit ${result.exitCode}`})`, 'its output is above');
  }
}

/** Moves the newest set of the restored copy into the backups directory and runs restore-backup.sh on it. */
export function placeAndRestoreScript(token: string): string {
  const marker = markerOf(token);
  const efs = HOST_PATHS.efsMount;
  return [
    `M='${marker}'`,
    `src=$(ls -1d ${efs}/aws-backup-restore_*/backups 2>/dev/null | LC_ALL=C sort | tail -n 1)`,
    `if [ -z "$src" ]; then printf '%s no-copy\\n' "$M"; exit 0; fi`,
    `manifest=$(ls -1d "$src"/[0-9]*/manifest.json 2>/dev/null | LC_ALL=C sort | tail -n 1)`,
    `if [ -z "$manifest" ]; then printf '%s no-set %s\\n' "$M" "$src"; exit 0; fi`,
    `dir=$(dirname "$manifest"); name=$(basename "$dir")`,
    `printf '%s set %s\\n' "$M" "$(tr -d '\\n' <"$manifest")"`,
    `mkdir -p ${efs}/backups && chmod 700 ${efs}/backups`,
    `if [ ! -e "${efs}/backups/$name" ] && ! mv "$dir" "${efs}/backups/$name"; then printf '%s exit 1\\n%s error could not move %s into ${efs}/backups\\n' "$M" "$M" "$dir"; exit 0; fi`,
    `out=$(mktemp)`,
    `bash ${HOST_PATHS.runtimeDir}/host/restore-backup.sh "$name" >"$out" 2>&1; rc=$?`,
    `printf '%s exit %s\\n' "$M" "$rc"`,
    `grep -E ' ERROR |^[a-z0-9]+ FAIL ' "$out" | tail -n 3 | sed "s/^/$M error /"`,
    `rm -f "$out"`,
  ].join('\n');
}

export function functionalScript(token: string): string {
  return [
    `M='${markerOf(token)}'`,
    `d=$(mktemp -d)`,
    `clean() { head -c 200 | tr '\\t\\n\\r' '   '; }`,
    functionCheckScript(),
    `fc_run`,
    `rm -rf "$d"`,
  ].join('\n');
}

async function restoreOnHost(options: ActOptions, state: DrillState): Promise<void> {
  const { io, plan } = options;
  const instanceId = (state.instanceId = await runningHost(io, plan.drill));
  const { token, stdout } = await runOnHost(io, instanceId, placeAndRestoreScript, 'gm-ops drill', 2 * 3600);
  const marker = markerOf(token);
  const lines = stdout.split('\n');
  if (lines.includes(`${marker} no-copy`)) throw new OpsError(`the restored file system ${state.restoredFileSystemId} holds no backups directory (no aws-backup-restore_*/backups on ${instanceId})`);
  const noSet = lines.find((l) => l.startsWith(`${marker} no-set `));
  if (noSet) throw new OpsError(`the recovery point holds no backup set (${noSet.slice(`${marker} no-set `.length)} is empty)`, `take one with \`gm-ops backup ${plan.source}\`, then drill after the next AWS Backup run`);
  state.set = parseSets(stdout, token).sets[0];
  const exit = /^(\d+)$/.exec(lines.find((l) => l.startsWith(`${marker} exit `))?.slice(`${marker} exit `.length) ?? '');
  const errors = lines.filter((l) => l.startsWith(`${marker} error `)).map((l) => l.slice(`${marker} error `.length).replace(/^.*? ERROR /, ''));
  if (!exit) throw new OpsError(`restore-backup.sh on the drill host ${instanceId} gave no result`);
  if (exit[1] !== '0') {
    throw new OpsError(`the drill's restore of ${state.set?.name ?? 'the newest set'} failed: ${errors.join('; ') || `restore-backup.sh exited ${exit[1]}`}`);
  }
}

async function functionalCheck(options: ActOptions, state: DrillState): Promise<void> {
  const { token, stdout } = await runOnHost(options.io, state.instanceId!, functionalScript, 'gm-ops drill functional check', FUNCTION_CHECK_TIMEOUT_SECONDS + 30);
  state.functional = parseFunctionCheck(stdout, token);
  const failed = [...state.functional].filter(([, r]) => r.state !== 'ok');
  if (failed.length > 0) throw new OpsError(`the functional check failed on the drill host: ${failed.map(([service, r]) => `${service} ${r.detail}`).join('; ')}`);
}

/** Every step but the cleanup; throws the first failure. */
export async function runDrillSteps(options: ActOptions, state: DrillState): Promise<void> {
  const { timings } = state;
  options.status('restoring the recovery point');
  await timed(options, (ms) => (timings.restoreJobMs = ms), () => restoreCopy(options, state));
  await tagCopy(options, state.restoredFileSystemId!);
  options.status('copying the secrets');
  await copySecrets(options, state);
  await timed(options, (ms) => (timings.deployMs = ms), () => deploy(options, state));
  options.status('restoring the newest backup set on the drill host');
  await timed(options, (ms) => (timings.hostRestoreMs = ms), () => restoreOnHost(options, state));
  options.status('running the functional check on the drill host');
  await timed(options, (ms) => (timings.functionalCheckMs = ms), () => functionalCheck(options, state));
}

async function waitNoMountTargets(options: ActOptions, fileSystemId: string): Promise<number> {
  const { clock, sleep } = options.io.services;
  const deadline = clock.now() + 10 * 60_000;
  for (;;) {
    const targets = (await options.clients.efs.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystemId })))?.MountTargets ?? [];
    const left = targets.filter((t) => t.LifeCycleState !== 'deleted').length;
    if (left === 0 || clock.now() >= deadline) return left;
    await sleep(15_000);
  }
}

/** Removes everything the drill made, whatever failed; each item says whether it is gone. */
export async function cleanUp(options: ActOptions, state: DrillState): Promise<CleanupItem[]> {
  const { plan, clients, io } = options;
  const items: CleanupItem[] = [];
  const region = plan.region;
  const attempt = async (resource: string, removal: string, work: () => Promise<string>) => {
    try {
      items.push({ resource, ok: true, detail: await work() });
    } catch (error) {
      items.push({ resource, ok: false, detail: toOpsError(error).message, removal });
    }
  };
  // 1. The stacks (their mount targets with them): those the deploy made, or found now.
  const existing = async () => (await Promise.all([plan.stacks.compute, plan.stacks.data].map((s) => describeStack(clients.cloudFormation, s)))).filter((s) => s && s.status !== 'DELETE_COMPLETE');
  if (state.deployAttempted || (await existing()).length > 0) {
    const stacks = `stacks ${plan.stacks.compute}, ${plan.stacks.data}`;
    await attempt(stacks, `npx cdk destroy ${plan.stacks.compute} ${plan.stacks.data} --force (or aws cloudformation delete-stack for each, compute first)`, async () => {
      const args = cdkArgs(options, 'destroy', state.restoredFileSystemId ?? 'fs-00000000');
      io.notice(`running: npx ${args.slice(0, 4).join(' ')} … --force`);
      const result = await io.services.processRunner.run('npx', args, { cwd: options.project.root, output: options.output });
      const left = await existing();
      if (left.length > 0) throw new OpsError(`still there: ${left.map((s) => `${s!.stackName} (${s!.status})`).join(', ')}${result.exitCode !== 0 ? ` (cdk destroy exit ${result.exitCode ?? result.signal})` : ''}`);
      return 'destroyed';
    });
  }
  // 2. The restored file system: by the restore job's answer and by its creation token.
  const ids = new Set<string>(state.restoredFileSystemId ? [state.restoredFileSystemId] : []);
  if (state.restoreJobId) {
    try {
      const found = await clients.efs.send(new DescribeFileSystemsCommand({ CreationToken: plan.creationToken }));
      for (const f of found?.FileSystems ?? []) if (f.FileSystemId && f.CreationToken === plan.creationToken) ids.add(f.FileSystemId);
    } catch {
      // the lookup is a second chance only; the job's answer stands
    }
  }
  for (const id of ids) {
    await attempt(`file system ${id}`, `aws efs delete-file-system --file-system-id ${id} --region ${region}`, async () => {
      const left = await waitNoMountTargets(options, id);
      if (left > 0) throw new OpsError(`${left} mount target${left === 1 ? '' : 's'} still on it`);
      try {
        await clients.efs.send(new DeleteFileSystemCommand({ FileSystemId: id }));
      } catch (error) {
        if (hasErrorName(error, 'FileSystemNotFound')) return 'already gone';
        throw error;
      }
      return 'deleted';
    });
  }
  if (state.restoreJobId && !state.restoreJobDone) {
    items.push({
      resource: `restore job ${state.restoreJobId}`,
      ok: false,
      detail: `still running: the file system it creates (creation token ${plan.creationToken}) will be left`,
      removal: `when \`aws backup describe-restore-job --restore-job-id ${state.restoreJobId}\` ends, aws efs delete-file-system --file-system-id <its CreatedResourceArn's fs id>`,
    });
  }
  // 3. The copied secrets: copies, so no recovery window.
  for (const name of state.copiedSecrets) {
    await attempt(`secret ${name}`, `aws secretsmanager delete-secret --secret-id ${name} --force-delete-without-recovery --region ${region}`, async () => {
      try {
        await clients.secretsManager.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      } catch (error) {
        if (hasErrorName(error, 'ResourceNotFoundException')) return 'already gone';
        throw error;
      }
      return 'deleted';
    });
  }
  return items;
}
