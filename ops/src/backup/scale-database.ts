/**
 * How the scale tier's n8n database is backed up, as `gm-ops backups` shows it: the RDS instance of
 * `GeuseScaleData-<name>`, its automated backups' retention and latest restorable time (DescribeDBInstances), and how
 * RDS brings it back. The AI host's backup sets hold Qdrant's vectors only.
 */
import type { AwsClients } from '../aws/clients';
import { classifyAwsError, hasErrorName } from '../aws/classify-error';
import { scaleDataStackName } from '../contract';
import { databaseInstanceOf, databaseProtection, readScaleDataStack } from '../discovery/scale-deployment';
import { scaleApiOf, scaleApiProblem, type DbInstance } from '../scale/api';

export interface DatabaseBackups {
  readonly stack: string;
  readonly instanceId?: string;
  readonly status?: string;
  readonly retentionDays?: number;
  /** ISO time. */
  readonly latestRestorableTime?: string;
  /** How RDS keeps it and brings it back, in one line. */
  readonly protection: string;
  /** Why it could not be read, in one line. */
  readonly problem?: string;
}

export async function databaseBackups(clients: AwsClients, name: string): Promise<DatabaseBackups> {
  const stack = scaleDataStackName(name);
  let instanceId: string | undefined;
  try {
    const scaleData = await readScaleDataStack(clients.cloudFormation, name);
    instanceId = databaseInstanceOf(scaleData);
    const protection = databaseProtection(name, instanceId);
    if (!scaleData) return { stack, protection, problem: `${stack} does not exist` };
    if (!instanceId) return { stack, protection, problem: `${stack} has no DatabaseInstanceId output` };
    const unavailable = scaleApiProblem(clients);
    if (unavailable) return { stack, instanceId, protection, problem: unavailable };
    const [instance]: readonly DbInstance[] = (await scaleApiOf(clients).describeDBInstances({ DBInstanceIdentifier: instanceId })).DBInstances ?? [];
    if (!instance) return { stack, instanceId, protection, problem: `RDS does not know ${instanceId}` };
    return {
      stack,
      instanceId,
      protection,
      status: instance.DBInstanceStatus,
      retentionDays: instance.BackupRetentionPeriod,
      latestRestorableTime: instance.LatestRestorableTime?.toISOString(),
    };
  } catch (error) {
    const protection = databaseProtection(name, instanceId);
    if (hasErrorName(error, 'DBInstanceNotFoundFault')) return { stack, instanceId, protection, problem: `RDS has no instance ${instanceId}` };
    const known = classifyAwsError(error);
    return { stack, instanceId, protection, problem: known ? known.message : `cannot read it (${errorText(error)})` };
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

/** One line for `gm-ops backups`. */
export function databaseBackupsLine(backups: DatabaseBackups): string {
  const of = `n8n's database (${backups.instanceId ? `RDS instance ${backups.instanceId}` : 'RDS'}, ${backups.stack})`;
  if (backups.problem) return `${of}: not readable (${backups.problem})`;
  const retention =
    backups.retentionDays === undefined ? 'automated backups' : backups.retentionDays > 0 ? `automated backups kept ${backups.retentionDays} day${backups.retentionDays === 1 ? '' : 's'}` : 'automated backups OFF';
  const latest = backups.latestRestorableTime ? `, restorable to any time up to ${backups.latestRestorableTime.replace('.000Z', 'Z')}` : '';
  return `${of}: ${backups.status ?? 'status unknown'}; ${retention}${latest}`;
}
