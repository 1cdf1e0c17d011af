/**
 * The recovery points AWS Backup holds of a deployment's file system (ListRecoveryPointsByResource, every page).
 * The data stack backs the file system up daily with a plan and vault of its own (lib/data/data-stack.ts); points
 * in `aws/efs/automatic-backup-vault` (EFS automatic backups, on in data stacks made before) and of the user's own
 * plans are listed too, whatever their vault.
 */
import { ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import type { EFSClient } from '@aws-sdk/client-efs';
import type { AwsClients } from '../aws/clients';
import { classifyAwsError, hasErrorName, toOpsError } from '../aws/classify-error';
import { OpsError } from '../errors';
import { describeFileSystem } from '../restore/retained';
import { backupClient } from './backup-client';

/** The vault of EFS automatic backups (AWS Backup Developer Guide, "Amazon EFS" supported service). */
export const EFS_AUTOMATIC_BACKUP_VAULT = 'aws/efs/automatic-backup-vault';

export interface RecoveryPoint {
  readonly arn: string;
  readonly vault: string;
  /** Epoch ms. */
  readonly created: number;
  /** COMPLETED, PARTIAL, CREATING, DELETING, EXPIRED, AVAILABLE, STOPPED. */
  readonly status: string;
  readonly statusMessage?: string;
  readonly sizeBytes?: number;
}

export interface FileSystemFacts {
  readonly fileSystemId: string;
  readonly arn: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  readonly performanceMode?: string;
}

export async function fileSystemFacts(efs: EFSClient, fileSystemId: string): Promise<FileSystemFacts> {
  const description = await describeFileSystem(efs, fileSystemId);
  if (!description?.FileSystemArn) throw new OpsError(`the file system ${fileSystemId} does not exist`, 'see `gm-ops status`');
  return {
    fileSystemId,
    arn: description.FileSystemArn,
    encrypted: description.Encrypted ?? false,
    kmsKeyId: description.KmsKeyId,
    performanceMode: description.PerformanceMode,
  };
}

/** Every recovery point of the resource, newest first. */
export async function listRecoveryPoints(clients: AwsClients, resourceArn: string): Promise<RecoveryPoint[]> {
  const backup = backupClient(clients);
  const points: RecoveryPoint[] = [];
  let nextToken: string | undefined;
  do {
    const page = await backup.send(new ListRecoveryPointsByResourceCommand({ ResourceArn: resourceArn, NextToken: nextToken, MaxResults: 100 }));
    for (const point of page?.RecoveryPoints ?? []) {
      if (!point.RecoveryPointArn) continue;
      points.push({
        arn: point.RecoveryPointArn,
        vault: point.BackupVaultName ?? '-',
        created: point.CreationDate?.getTime() ?? 0,
        status: point.Status ?? 'UNKNOWN',
        statusMessage: point.StatusMessage || undefined,
        sizeBytes: point.BackupSizeBytes,
      });
    }
    nextToken = page?.NextToken;
  } while (nextToken);
  return points.sort((a, b) => b.created - a.created);
}

export interface RecoveryPointListing {
  readonly fileSystemId?: string;
  readonly points: RecoveryPoint[];
  /** Why nothing could be listed (one line), or undefined. */
  readonly problem?: string;
}

/** The recovery points of a file system for `gm-ops backups`: a problem becomes one line, never a crash. */
export async function recoveryPointListing(clients: AwsClients, fileSystemId: string | undefined): Promise<RecoveryPointListing> {
  if (!fileSystemId) return { points: [], problem: 'the data stack names no file system (output FileSystemId)' };
  try {
    const facts = await fileSystemFacts(clients.efs, fileSystemId);
    return { fileSystemId, points: await listRecoveryPoints(clients, facts.arn) };
  } catch (error) {
    if (hasErrorName(error, 'ResourceNotFoundException')) return { fileSystemId, points: [] };
    const known = error instanceof OpsError ? error : classifyAwsError(error) ?? toOpsError(error);
    return { fileSystemId, points: [], problem: known.message };
  }
}
