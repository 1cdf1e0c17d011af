/**
 * What `gm-ops drill <name>` will do, found before anything is touched: the source deployment, the newest
 * recovery point of its file system in AWS Backup, the source's backup sets (read-only, when its host runs), what an
 * earlier drill left behind (refused, with how to remove it), and the drill deployment `<name>-drill` the CDK app
 * is given on the command line (`-c geusemaker:deployments=<json> -c name=<name>-drill`: no file is written).
 */
import * as fs from 'node:fs';
import { DescribeFileSystemsCommand } from '@aws-sdk/client-efs';
import type { AwsClients } from '../aws/clients';
import { hasErrorName } from '../aws/classify-error';
import {
  DEPLOYMENT_NAME_PATTERN,
  DEPLOYMENT_NAME_RULE,
  OUTPUT_KEYS,
  SECRET_PURPOSES,
  TAG_KEYS,
  TIERS,
  computeStackName,
  dataStackName,
  secretName,
  type Tier,
  DRILL_CONTEXT_KEY,
} from '../contract';
import { findDeployment, type Deployment } from '../discovery/deployments';
import { DeploymentNotFound, OpsError, UsageProblem } from '../errors';
import type { BackupSet } from '../backup/host-scripts';
import { EFS_AUTOMATIC_BACKUP_VAULT, fileSystemFacts, listRecoveryPoints, type FileSystemFacts, type RecoveryPoint } from '../backup/recovery-points';
import type { Project } from '../restore/project';
import { secretStatuses } from '../restore/retained';
import { DEPLOYMENTS_CONTEXT_KEY } from '../restore/saved-config';

export const DRILL_SUFFIX = '-drill';

/** The role AWS Backup creates on first use in the console (AWS Backup Developer Guide, "Default service role"). */
export function defaultRestoreRole(recoveryPointArn: string): string {
  const [, partition = 'aws', , , account = ''] = recoveryPointArn.split(':');
  return `arn:${partition}:iam::${account}:role/service-role/AWSBackupDefaultServiceRole`;
}

/** The restored file system's CreationToken begins with this: a restore that outlived its drill is found by it. */
export function creationTokenPrefix(drill: string): string {
  return `geusemaker-${drill}-`;
}

export interface Leftover {
  readonly what: string;
  /** The command that removes it. */
  readonly removal: string;
}

export interface DrillPlan {
  readonly source: string;
  readonly drill: string;
  readonly region: string;
  readonly tier: Tier;
  readonly fileSystem: FileSystemFacts;
  readonly recoveryPoint: RecoveryPoint;
  readonly restoreRole: string;
  readonly creationToken: string;
  /** The source's sets (read-only), or why they could not be read. */
  readonly sourceSets: { readonly sets: readonly BackupSet[] } | { readonly problem: string };
  /** The drill's entry for the CDK app, without its retained file system (known after the restore). */
  readonly entry: Readonly<Record<string, unknown>>;
  readonly entrySource: string;
  readonly stacks: { readonly data: string; readonly compute: string };
  readonly steps: readonly string[];
}

export interface AssessOptions {
  readonly recoveryPointArn?: string;
  readonly restoreRole?: string;
  readonly now: number;
  readonly project?: Project;
  /** The source's backup sets, read on its host through SSM (throws when it has no running host). */
  readonly readSourceSets: () => Promise<BackupSet[]>;
}

/** `<name>-drill`, or a usage error naming the rule it would break. */
export function drillName(source: string): string {
  if (source.endsWith(DRILL_SUFFIX)) throw new UsageProblem(`"${source}" is itself a drill deployment; drill its source instead`);
  const drill = `${source}${DRILL_SUFFIX}`;
  if (!DEPLOYMENT_NAME_PATTERN.test(drill)) {
    throw new UsageProblem(
      `the drill deployment "${drill}" would break the deployment-name rule (${DEPLOYMENT_NAME_RULE})`,
      `drills need a source name of at most ${31 - DRILL_SUFFIX.length} characters`,
    );
  }
  return drill;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The source's saved settings (cdk.json), as the drill's: the same tier, sizes, network and models; never its own
 * domain (a CloudFront alias and its certificate belong to one distribution) or its retained data.
 */
export function drillEntry(project: Project | undefined, source: string, runningTier: Tier | undefined): { entry: Record<string, unknown>; tier: Tier; from: string } {
  let saved: Record<string, unknown> | undefined;
  if (project) {
    try {
      const document = JSON.parse(fs.readFileSync(project.cdkJson, 'utf8')) as unknown;
      const deployments = isObject(document) && isObject(document.context) ? document.context[DEPLOYMENTS_CONTEXT_KEY] : undefined;
      const parsed = typeof deployments === 'string' ? (JSON.parse(deployments) as unknown) : deployments;
      if (isObject(parsed) && isObject(parsed[source])) saved = parsed[source];
    } catch {
      saved = undefined;
    }
  }
  const entry: Record<string, unknown> = { ...(saved ?? {}) };
  delete entry.retainedData;
  for (const other of TIERS) {
    if (isObject(entry[other])) {
      const options = { ...entry[other] };
      delete options.domainName;
      delete options.certificateArn;
      entry[other] = options;
    }
  }
  // The tier that runs now; else the saved one (a deployment whose compute stack is gone); else dev.
  const tier: Tier = runningTier ?? ((TIERS as readonly unknown[]).includes(entry.tier) ? (entry.tier as Tier) : 'dev');
  entry.tier = tier;
  return { entry, tier, from: saved ? `the settings of "${source}" in cdk.json (its own domain left out)` : `tier ${tier} with default settings (cdk.json does not declare "${source}")` };
}

/** What an earlier drill left: its stacks, file systems (tag or creation token) and secrets. */
export async function findLeftovers(clients: AwsClients, drill: string, region: string): Promise<Leftover[]> {
  const leftovers: Leftover[] = [];
  let deployment: Deployment | undefined;
  try {
    deployment = await findDeployment(clients.cloudFormation, drill, region);
  } catch (error) {
    if (!(error instanceof DeploymentNotFound)) throw error;
  }
  for (const stack of [deployment?.compute, ...(deployment?.extraCompute ?? []), deployment?.data]) {
    if (!stack || stack.status === 'DELETE_COMPLETE') continue;
    leftovers.push({ what: `stack ${stack.stackName} (${stack.status})`, removal: `aws cloudformation delete-stack --stack-name ${stack.stackName} --region ${region}` });
  }
  let marker: string | undefined;
  do {
    const page = await clients.efs.send(new DescribeFileSystemsCommand({ Marker: marker }));
    for (const description of page?.FileSystems ?? []) {
      if (!description.FileSystemId || ['deleting', 'deleted'].includes(description.LifeCycleState ?? '')) continue;
      const tagged = (description.Tags ?? []).some((t) => t.Key === TAG_KEYS.deployment && t.Value === drill);
      if (tagged || (description.CreationToken ?? '').startsWith(creationTokenPrefix(drill))) {
        leftovers.push({
          what: `file system ${description.FileSystemId} (a restored copy for ${drill}, ${description.NumberOfMountTargets ?? 0} mount targets)`,
          removal: `aws efs delete-file-system --file-system-id ${description.FileSystemId} --region ${region}`,
        });
      }
    }
    marker = page?.NextMarker;
  } while (marker);
  for (const secret of await secretStatuses(clients.secretsManager, drill)) {
    if (secret.state === 'missing') continue;
    leftovers.push({
      what: `secret ${secret.name}${secret.state === 'pending-deletion' ? ' (scheduled for deletion: its name stays taken)' : ''}`,
      removal: `aws secretsmanager delete-secret --secret-id ${secret.name} --force-delete-without-recovery --region ${region}`,
    });
  }
  return leftovers;
}

export class LeftoversFound extends OpsError {
  constructor(readonly drill: string, readonly leftovers: readonly Leftover[]) {
    super(
      `an earlier drill left ${leftovers.length} resource${leftovers.length === 1 ? '' : 's'} of ${drill}: ${leftovers.map((l) => l.what).join(', ')}`,
      `remove ${leftovers.length === 1 ? 'it' : 'them'} first (stacks before the file system): ${leftovers.map((l) => l.removal).join('; ')}`,
    );
    this.name = 'LeftoversFound';
  }
}

/** A drill of the scale tier: refused, with what proves its restores instead. */
function scaleRefusal(source: string): OpsError {
  return new OpsError(
    `${source} runs the scale tier: its database is RDS, which a drill deployment would have to create and could not remove (deletion protection), and its backup sets hold vectors only`,
    `its database is RDS's to restore (a point in time within its backup retention, or its final snapshot, into a new DB instance); \`gm-ops restore ${source} --to <set>\` restores its vectors; drill a single-host deployment`,
  );
}

export async function assessDrill(clients: AwsClients, source: string, options: AssessOptions): Promise<DrillPlan> {
  const drill = drillName(source);
  const region = (await clients.region()) ?? '';
  const deployment = await findDeployment(clients.cloudFormation, source, region);
  // Before anything is read or run: nothing of a scale deployment can be drilled.
  if (deployment.compute?.role === 'scale') throw scaleRefusal(source);
  const fileSystemId = deployment.data?.outputs[OUTPUT_KEYS.fileSystemId];
  if (!deployment.data || !fileSystemId) {
    throw new OpsError(`${source} has no data stack with a file system to drill from`, `see \`gm-ops status ${source}\``);
  }
  const leftovers = await findLeftovers(clients, drill, region);
  if (leftovers.length > 0) throw new LeftoversFound(drill, leftovers);

  const fileSystem = await fileSystemFacts(clients.efs, fileSystemId);
  let points: RecoveryPoint[];
  try {
    points = await listRecoveryPoints(clients, fileSystem.arn);
  } catch (error) {
    if (hasErrorName(error, 'ResourceNotFoundException')) points = [];
    else throw error;
  }
  let recoveryPoint: RecoveryPoint | undefined;
  if (options.recoveryPointArn) {
    recoveryPoint = points.find((p) => p.arn === options.recoveryPointArn);
    if (!recoveryPoint) throw new OpsError(`${options.recoveryPointArn} is not a recovery point of ${fileSystemId}`, `see \`gm-ops backups ${source}\``);
    if (recoveryPoint.status !== 'COMPLETED') throw new OpsError(`the recovery point ${recoveryPoint.arn} is ${recoveryPoint.status}, not COMPLETED`);
  } else {
    // The data stack's own vault first: the access policy of EFS automatic backups' vault denies restores.
    recoveryPoint = points.find((p) => p.status === 'COMPLETED' && p.vault !== EFS_AUTOMATIC_BACKUP_VAULT)
      ?? points.find((p) => p.status === 'COMPLETED');
    if (!recoveryPoint) {
      throw new OpsError(
        `${source} has no completed recovery point of ${fileSystemId} in AWS Backup to drill from${points.length > 0 ? ` (${points.length} not completed)` : ''}`,
        `the data stack's AWS Backup plan runs once a day (05:00 UTC); see \`gm-ops backups ${source}\``,
      );
    }
  }

  let sourceSets: DrillPlan['sourceSets'];
  try {
    sourceSets = { sets: await options.readSourceSets() };
  } catch (error) {
    if (!(error instanceof OpsError)) throw error;
    sourceSets = { problem: error.message };
  }
  if ('sets' in sourceSets) {
    if (sourceSets.sets.length === 0) {
      throw new OpsError(`${source} has no backup sets: its recovery points hold nothing to restore`, `take one with \`gm-ops backup ${source}\`, then drill after the next AWS Backup run`);
    }
    const oldest = Math.min(...sourceSets.sets.map((s) => Date.parse(s.created)).filter((t) => !Number.isNaN(t)));
    if (Number.isFinite(oldest) && recoveryPoint.created < oldest) {
      throw new OpsError(
        `the recovery point of ${new Date(recoveryPoint.created).toISOString()} was taken before ${source}'s first backup set (${new Date(oldest).toISOString()}): it holds no set`,
        'drill after the next AWS Backup run',
      );
    }
  }

  const running = deployment.compute?.role && deployment.compute.role !== 'data' ? deployment.compute.role : undefined;
  const { entry, tier, from } = drillEntry(options.project, source, running);
  if (tier === 'scale') throw scaleRefusal(source);
  const stacks = { data: dataStackName(drill), compute: computeStackName(tier, drill) };
  const restoreRole = options.restoreRole ?? deployment.data?.outputs[OUTPUT_KEYS.backupRoleArn] ?? defaultRestoreRole(recoveryPoint.arn);
  const creationToken = `${creationTokenPrefix(drill)}${options.now}`;
  const storedNames = SECRET_PURPOSES.filter((p) => p.source === 'stored').map((p) => secretName(drill, p.purpose));
  const steps = [
    `AWS Backup restores ${fileSystemId}'s /backups from the recovery point of ${new Date(recoveryPoint.created).toISOString().replace('.000Z', 'Z')} into a new encrypted file system (StartRestoreJob, role ${restoreRole}); ${source} is not touched`,
    `copy ${source}'s stored secrets into ${storedNames.join(', ')} (and any legacy secret of a derived purpose); values are never printed`,
    `npx cdk deploy ${stacks.data} ${stacks.compute}: a throwaway deployment ${drill} on the restored file system, with ${from}`,
    `on the drill host: the newest backup set of the copy goes through restore-backup.sh (checksums, fence, database, files, vectors), then the functional check`,
    `always, whatever failed: cdk destroy ${stacks.compute} ${stacks.data}, delete the restored file system and the copied secrets (no recovery window: they are copies)`,
  ];
  return { source, drill, region, tier, fileSystem, recoveryPoint, restoreRole, creationToken, sourceSets, entry, entrySource: from, stacks, steps };
}

/** `-c` arguments that give the CDK app the drill deployment (load-config.ts: a JSON string, one name selected). */
export function cdkContextArgs(plan: DrillPlan, fileSystemId: string): string[] {
  const deployments = { [plan.drill]: { ...plan.entry, retainedData: { fileSystemId } } };
  return ['-c', `${DEPLOYMENTS_CONTEXT_KEY}=${JSON.stringify(deployments)}`, '-c', `name=${plan.drill}`, '-c', `${DRILL_CONTEXT_KEY}=${plan.drill}`];
}

