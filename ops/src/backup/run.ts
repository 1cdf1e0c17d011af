/** `gm-ops backup <name>` (one set now) and `gm-ops backups <name>` (the sets on the file system). */
import { runScript, scriptFailure } from '../aws/ssm-run';
import { formatBytes } from '../output/bytes';
import type { CommandIO } from '../command-io';
import { OUTPUT_KEYS, type Tier } from '../contract';
import { ExitCode, HostNotRunning, Interrupted, OpsError } from '../errors';
import { findDeployment, type Deployment } from '../discovery/deployments';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import { listSetsScript, parseSets, parseTake, takeBackupScript, type BackupSet } from './host-scripts';
import { recoveryPointListing, type RecoveryPoint } from './recovery-points';
import { databaseBackups, databaseBackupsLine, type DatabaseBackups } from './scale-database';

/** What a set holds, in words (the AI host's sets hold vectors only). */
function contentsOf(set: BackupSet): string {
  const names = new Set(set.files.map((f) => f.name));
  const parts = [names.has('postgres.dump') && "n8n's database", names.has('n8n.tar.gz') && "n8n's files", names.has('qdrant.snapshot') && 'vectors'].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'versions only';
}

/** The running host of a deployment (the scale tier's: its AI host) and the deployment it belongs to. */
export async function deploymentHost(io: CommandIO, name: string): Promise<{ instanceId: string; deployment: Deployment; tier?: Tier }> {
  const clients = io.aws();
  const deployment = await findDeployment(clients.cloudFormation, name, await clients.region());
  const lookup = (await hostsOfDeployments(clients, [deployment])).get(name);
  const host = lookup?.host;
  const tier = deployment.compute && deployment.compute.role !== 'data' ? deployment.compute.role : undefined;
  const what = tier === 'scale' ? 'its AI host' : 'its instance';
  if (!host || host.state !== 'running') throw new HostNotRunning(name, host ? `${what} ${host.instanceId} is ${host.state}` : `no instance in its group${tier === 'scale' ? ` (the AI host's, ${lookup?.autoScalingGroupName ?? 'none'})` : ''}`);
  return { instanceId: host.instanceId, deployment, tier };
}

export async function runningHost(io: CommandIO, name: string): Promise<string> {
  return (await deploymentHost(io, name)).instanceId;
}

async function onHost(io: CommandIO, instanceId: string, script: (token: string) => string, comment: string, seconds: number): Promise<string> {
  const token = io.services.randomId();
  const result = await runScript(io.aws().ssm, instanceId, script(token), {
    sleep: io.services.sleep,
    clock: io.services.clock,
    signal: io.services.signal,
    comment,
    executionTimeoutSeconds: seconds,
  });
  const failure = scriptFailure(result, token);
  if (failure) throw failure;
  return `${token}\n${result.stdout}`;
}

/** Runs a marker script on the host; the marker token and the host's stdout. */
export async function runOnHost(io: CommandIO, instanceId: string, script: (token: string) => string, comment: string, seconds: number): Promise<{ token: string; stdout: string }> {
  return split(await onHost(io, instanceId, script, comment, seconds));
}

function split(output: string): { token: string; stdout: string } {
  const newline = output.indexOf('\n');
  return { token: output.slice(0, newline), stdout: output.slice(newline + 1) };
}

/** The sets on the host's file system, oldest first. */
export async function readSets(io: CommandIO, instanceId: string): Promise<BackupSet[]> {
  const { token, stdout } = split(await onHost(io, instanceId, listSetsScript, 'gm-ops backups', 60));
  const { sets, complete } = parseSets(stdout, token);
  if (!complete) throw new OpsError(`the backup sets on ${instanceId} could not be listed (no answer from the host script)`);
  return sets;
}

/** A recovery point's row: time, status, size, vault. */
function recoveryPointRow(point: RecoveryPoint): string {
  const size = point.sizeBytes === undefined ? '-' : formatBytes(point.sizeBytes);
  const message = point.statusMessage ? `  (${point.statusMessage})` : '';
  return `  ${new Date(point.created).toISOString().replace('.000Z', 'Z').padEnd(22)} ${point.status.padEnd(10)} ${size.padStart(10)}  ${point.vault}${message}`;
}

export async function runBackups(io: CommandIO, options: { name: string; json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Reading the backups of ${options.name}…`);
  try {
    const clients = io.aws();
    const deployment = await findDeployment(clients.cloudFormation, options.name, await clients.region());
    const scale = deployment.compute?.role === 'scale';
    // The sets need a running host; the recovery points do not: a dead host still shows what AWS Backup holds.
    let sets: BackupSet[] = [];
    let setsProblem: OpsError | undefined;
    try {
      sets = await readSets(io, await runningHost(io, options.name));
    } catch (error) {
      if (!(error instanceof OpsError) || error instanceof Interrupted) throw error;
      setsProblem = error;
    }
    const [recovery, database] = await Promise.all([
      recoveryPointListing(clients, deployment.data?.outputs[OUTPUT_KEYS.fileSystemId]),
      scale ? databaseBackups(clients, options.name) : Promise.resolve<DatabaseBackups | undefined>(undefined),
    ]);
    spinner.stop();
    if (options.json) {
      io.write(
        `${JSON.stringify(
          {
            deployment: options.name,
            sets: sets.map(({ files, ...set }) => ({ ...set, files: files.map((f) => f.name) })),
            ...(setsProblem ? { setsProblem: setsProblem.message } : {}),
            fileSystemId: recovery.fileSystemId ?? null,
            recoveryPoints: recovery.points.map((p) => ({
              arn: p.arn,
              vault: p.vault,
              created: new Date(p.created).toISOString(),
              status: p.status,
              sizeBytes: p.sizeBytes ?? null,
              ...(p.statusMessage ? { statusMessage: p.statusMessage } : {}),
            })),
            recoveryPointsProblem: recovery.problem ?? null,
            ...(database
              ? {
                  database: {
                    stack: database.stack,
                    instanceId: database.instanceId ?? null,
                    status: database.status ?? null,
                    backupRetentionDays: database.retentionDays ?? null,
                    latestRestorableTime: database.latestRestorableTime ?? null,
                    protection: database.protection,
                    problem: database.problem ?? null,
                  },
                }
              : {}),
          },
          null,
          2,
        )}\n`,
      );
      if (setsProblem) throw setsProblem;
      return ExitCode.ok;
    }
    if (setsProblem) {
      io.write(`Backup sets of ${options.name}: not readable (${setsProblem.message})\n`);
    } else if (sets.length === 0) {
      io.write(`${options.name} has no backup sets yet (take one with \`gm-ops backup ${options.name}\`)\n`);
    } else {
      const rows = [...sets].reverse().map((s) => `  ${s.name.padEnd(48)} ${s.created.padEnd(21)} ${formatBytes(s.bytes).padStart(10)}  runtime ${s.runtimeVersion}${scale ? `  (${contentsOf(s)})` : ''}`);
      io.write(`Backup sets of ${options.name}${scale ? " on the AI host's file system" : ''} (newest first)\n${rows.join('\n')}\n`);
    }
    const of = recovery.fileSystemId ? `${recovery.fileSystemId} in AWS Backup` : 'its file system in AWS Backup';
    if (recovery.problem) io.write(`Recovery points of ${of}: not readable (${recovery.problem})\n`);
    else if (recovery.points.length === 0) io.write(`${recovery.fileSystemId} has no recovery points in AWS Backup yet (the data stack's AWS Backup plan runs once a day, 05:00 UTC)\n`);
    else io.write(`Recovery points of ${of} (newest first)\n${recovery.points.map(recoveryPointRow).join('\n')}\n`);
    if (database) io.write(`${databaseBackupsLine(database)}\n  ${database.protection}\n`);
    if (setsProblem) throw setsProblem;
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}

export async function runBackup(io: CommandIO, options: { name: string; json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Taking a backup set of ${options.name}…`);
  try {
    const { instanceId, tier } = await deploymentHost(io, options.name);
    // The Qdrant snapshot alone may take hours on a large store (backup.sh bounds it at 4 h).
    const { token, stdout } = split(await onHost(io, instanceId, takeBackupScript, 'gm-ops backup', 6 * 3600));
    const result = parseTake(stdout, token);
    spinner.stop();
    if (!result) throw new OpsError(`backup.sh on ${instanceId} gave no result`);
    if (result.exitCode !== 0 || !result.set) {
      throw new OpsError(`the backup of ${options.name} failed on ${instanceId}: ${result.error ?? `backup.sh exited ${result.exitCode}`}`);
    }
    const set = (await readSets(io, instanceId)).find((s) => s.name === result.set);
    // On the scale tier backup.sh runs on the AI host: its set holds Qdrant's vectors, the database is RDS's to keep.
    const database = tier === 'scale' ? `the AI host's sets hold Qdrant's vectors; n8n's database is on RDS, kept by its automated backups (see \`gm-ops backups ${options.name}\`)` : undefined;
    if (options.json) {
      const scaleFields = database ? { holds: set?.files.map((f) => f.name) ?? null, database } : {};
      io.write(`${JSON.stringify({ deployment: options.name, set: result.set, bytes: set?.bytes ?? null, created: set?.created ?? null, ...scaleFields }, null, 2)}\n`);
    } else {
      io.write(`backup set ${result.set} written${set ? ` (${formatBytes(set.bytes)}${database ? `: ${contentsOf(set)}` : ''})` : ''}\n`);
      if (database) io.write(`${database}\n`);
    }
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
