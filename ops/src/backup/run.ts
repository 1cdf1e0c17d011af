/** `gm-ops backup <name>` (one set now) and `gm-ops backups <name>` (the sets on the file system). */
import { runScript, scriptFailure } from '../aws/ssm-run';
import { formatBytes } from '../output/bytes';
import type { CommandIO } from '../command-io';
import { ExitCode, HostNotRunning, OpsError } from '../errors';
import { findDeployment } from '../discovery/deployments';
import { hostsOfDeployments } from '../discovery/deployment-hosts';
import { listSetsScript, parseSets, parseTake, takeBackupScript, type BackupSet } from './host-scripts';

export async function runningHost(io: CommandIO, name: string): Promise<string> {
  const clients = io.aws();
  const deployment = await findDeployment(clients.cloudFormation, name, await clients.region());
  const lookup = (await hostsOfDeployments(clients, [deployment])).get(name);
  const host = lookup?.host;
  if (!host || host.state !== 'running') throw new HostNotRunning(name, host ? `its instance ${host.instanceId} is ${host.state}` : 'no instance in its group');
  return host.instanceId;
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

export async function runBackups(io: CommandIO, options: { name: string; json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Reading the backup sets of ${options.name}…`);
  try {
    const sets = await readSets(io, await runningHost(io, options.name));
    spinner.stop();
    if (options.json) {
      io.write(`${JSON.stringify({ deployment: options.name, sets: sets.map(({ files, ...set }) => ({ ...set, files: files.map((f) => f.name) })) }, null, 2)}\n`);
      return ExitCode.ok;
    }
    if (sets.length === 0) {
      io.write(`${options.name} has no backup sets yet (take one with \`gm-ops backup ${options.name}\`)\n`);
      return ExitCode.ok;
    }
    const rows = [...sets].reverse().map((s) => `  ${s.name.padEnd(48)} ${s.created.padEnd(21)} ${formatBytes(s.bytes).padStart(10)}  runtime ${s.runtimeVersion}`);
    io.write(`Backup sets of ${options.name} (newest first)\n${rows.join('\n')}\n`);
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}

export async function runBackup(io: CommandIO, options: { name: string; json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Taking a backup set of ${options.name}…`);
  try {
    const instanceId = await runningHost(io, options.name);
    // The Qdrant snapshot alone may take hours on a large store (backup.sh bounds it at 4 h).
    const { token, stdout } = split(await onHost(io, instanceId, takeBackupScript, 'gm-ops backup', 6 * 3600));
    const result = parseTake(stdout, token);
    spinner.stop();
    if (!result) throw new OpsError(`backup.sh on ${instanceId} gave no result`);
    if (result.exitCode !== 0 || !result.set) {
      throw new OpsError(`the backup of ${options.name} failed on ${instanceId}: ${result.error ?? `backup.sh exited ${result.exitCode}`}`);
    }
    const set = (await readSets(io, instanceId)).find((s) => s.name === result.set);
    if (options.json) {
      io.write(`${JSON.stringify({ deployment: options.name, set: result.set, bytes: set?.bytes ?? null, created: set?.created ?? null }, null, 2)}\n`);
    } else {
      io.write(`backup set ${result.set} written${set ? ` (${formatBytes(set.bytes)})` : ''}\n`);
    }
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
