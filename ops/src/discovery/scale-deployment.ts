/**
 * What the commands beyond status, logs and health need to know of a scale deployment: its database stack
 * (`GeuseScaleData-<name>`, which the stack-name contract does not count as a deployment's own: it outlives a
 * move back to a host tier), which services its AI host runs, and how its n8n database is kept safe.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { AI_HOST_SERVICES, SCALE_OUTPUT_KEYS, scaleDataStackName, type Tier } from '../contract';
import { readStack, type RawStack } from '../scale/stacks';


/** Whether a probe or container of `service` belongs on the host of `tier` (the scale tier's AI host runs three). */
export function runsOnHost(tier: Tier | undefined, service: string): boolean {
  return tier !== 'scale' || (AI_HOST_SERVICES as readonly string[]).includes(service);
}

/** `GeuseScaleData-<name>`, or undefined when it does not exist. */
export function readScaleDataStack(cfn: CloudFormationClient, name: string): Promise<RawStack | undefined> {
  return readStack(cfn, scaleDataStackName(name));
}

/** The RDS instance identifier `GeuseScaleData-<name>` outputs. */
export function databaseInstanceOf(stack: RawStack | undefined): string | undefined {
  const id = stack?.outputs[SCALE_OUTPUT_KEYS.databaseInstanceId]?.trim();
  return id ? id : undefined;
}

/**
 * How the scale tier's n8n database is protected and brought back (Amazon RDS User Guide, "Restoring a DB instance to
 * a specified time": point-in-time recovery within the backup retention period, into a new DB instance; CloudFormation's
 * DeletionPolicy/UpdateReplacePolicy Snapshot, set by lib/scale/n8n-database.ts: a final snapshot when the stack deletes
 * or replaces it; RestoreDBInstanceFromDBSnapshot: a snapshot restores into a new DB instance).
 */
export function databaseProtection(name: string, instanceId: string | undefined): string {
  const instance = instanceId ? `RDS instance ${instanceId}` : `the RDS instance of ${scaleDataStackName(name)}`;
  return `n8n's database is on ${instance}, not on the AI host: RDS automated backups allow a point-in-time restore within their retention period (scale.database.backupRetentionDays, 7 days by default), and deleting or replacing the instance leaves a final snapshot; RDS restores either into a new DB instance`;
}
