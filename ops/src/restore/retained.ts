/**
 * What a deleted deployment left behind: the CloudFormation history of its deleted stacks
 * (ListStacks DELETE_COMPLETE, kept about 90 days), its retained EFS file systems (by the
 * geuse:deployment tag, and by the resources of its deleted data stacks) and its secrets, found by
 * their fixed names geusemaker/<name>/<purpose>: the stored ones (the encryption key and the owner password), and
 * legacy secrets of the derived purposes (made before the host derived them), whose values win on the host.
 */
import { ListStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeFileSystemsCommand, type EFSClient, type FileSystemDescription } from '@aws-sdk/client-efs';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { hasErrorName } from '../aws/classify-error';
import { SECRET_PURPOSES, TAG_KEYS, dataStackName, parseStackName, secretName, type SecretPurpose, type Tier } from '../contract';
import { listStackResources } from '../cost/live';

export interface DeletedStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly deletedAt?: number;
  readonly createdAt?: number;
  /** The compute tier, or 'data'. */
  readonly role: Tier | 'data';
}

/** The deleted stacks of a deployment, most recently deleted first. */
export async function deletedStacks(cfn: CloudFormationClient, deployment: string): Promise<DeletedStack[]> {
  const result: DeletedStack[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cfn.send(new ListStacksCommand({ StackStatusFilter: ['DELETE_COMPLETE'], NextToken: nextToken }));
    for (const summary of page?.StackSummaries ?? []) {
      if (!summary.StackName || !summary.StackId) continue;
      const parsed = parseStackName(summary.StackName);
      if (!parsed || parsed.deployment !== deployment) continue;
      result.push({
        stackName: summary.StackName,
        stackId: summary.StackId,
        deletedAt: summary.DeletionTime?.getTime(),
        createdAt: summary.CreationTime?.getTime(),
        role: parsed.kind === 'data' ? 'data' : parsed.tier,
      });
    }
    nextToken = page?.NextToken;
  } while (nextToken);
  return result.sort((a, b) => (b.deletedAt ?? 0) - (a.deletedAt ?? 0));
}

export interface FileSystemCandidate {
  readonly fileSystemId: string;
  readonly createdAt?: number;
  readonly sizeBytes?: number;
  readonly state?: string;
  readonly mountTargets: number;
  /** Its geuse:deployment tag (undefined when untagged). */
  readonly taggedDeployment?: string;
  readonly name?: string;
  /** How it was found: "tag geuse:deployment=x", "deleted stack GeuseData-x (deleted ...)". */
  readonly foundBy: string[];
}

function tagsOf(description: FileSystemDescription): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of description.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
  return tags;
}

function candidateOf(description: FileSystemDescription, foundBy: string): FileSystemCandidate {
  const tags = tagsOf(description);
  return {
    fileSystemId: description.FileSystemId!,
    createdAt: description.CreationTime?.getTime(),
    sizeBytes: description.SizeInBytes?.Value,
    state: description.LifeCycleState,
    mountTargets: description.NumberOfMountTargets ?? 0,
    taggedDeployment: tags[TAG_KEYS.deployment],
    name: description.Name ?? tags.Name,
    foundBy: [foundBy],
  };
}

/** One file system by id, or undefined when it does not exist. */
export async function describeFileSystem(efs: EFSClient, fileSystemId: string): Promise<FileSystemDescription | undefined> {
  try {
    return (await efs.send(new DescribeFileSystemsCommand({ FileSystemId: fileSystemId })))?.FileSystems?.[0];
  } catch (error) {
    if (hasErrorName(error, 'FileSystemNotFound')) return undefined;
    throw error;
  }
}

const GONE = new Set(['deleting', 'deleted']);

export interface RetainedSearch {
  readonly candidates: FileSystemCandidate[];
  /** What was searched, for the message when nothing is found. */
  readonly searched: string[];
}

/** The retained file systems of a deployment: tagged for it, or retained by one of its deleted data stacks. */
export async function findRetainedFileSystems(
  efs: EFSClient,
  cfn: CloudFormationClient,
  deployment: string,
  deleted: readonly DeletedStack[],
): Promise<RetainedSearch> {
  const found = new Map<string, FileSystemCandidate>();
  const add = (candidate: FileSystemCandidate) => {
    const known = found.get(candidate.fileSystemId);
    found.set(candidate.fileSystemId, known ? { ...known, foundBy: [...known.foundBy, ...candidate.foundBy] } : candidate);
  };
  let marker: string | undefined;
  let scanned = 0;
  do {
    const page = await efs.send(new DescribeFileSystemsCommand({ Marker: marker }));
    for (const description of page?.FileSystems ?? []) {
      scanned += 1;
      if (!description.FileSystemId || GONE.has(description.LifeCycleState ?? '')) continue;
      if (tagsOf(description)[TAG_KEYS.deployment] === deployment) add(candidateOf(description, `tag ${TAG_KEYS.deployment}=${deployment}`));
    }
    marker = page?.NextMarker;
  } while (marker);

  const dataStacks = deleted.filter((s) => s.role === 'data');
  for (const stack of dataStacks) {
    const resources = await listStackResources(cfn, stack.stackId);
    for (const resource of resources) {
      if (resource.type !== 'AWS::EFS::FileSystem' || !resource.physicalId?.startsWith('fs-')) continue;
      const description = await describeFileSystem(efs, resource.physicalId);
      if (!description || GONE.has(description.LifeCycleState ?? '')) continue;
      const when = stack.deletedAt ? ` (deleted ${new Date(stack.deletedAt).toISOString().slice(0, 10)})` : '';
      add(candidateOf(description, `deleted stack ${stack.stackName}${when}`));
    }
  }
  return {
    candidates: [...found.values()].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0)),
    searched: [
      `${scanned} EFS file system${scanned === 1 ? '' : 's'} for the tag ${TAG_KEYS.deployment}=${deployment}`,
      dataStacks.length > 0
        ? `the resources of ${dataStacks.length} deleted ${dataStackName(deployment)} stack${dataStacks.length === 1 ? '' : 's'}`
        : `the CloudFormation history (no deleted ${dataStackName(deployment)} stack)`,
    ],
  };
}

export type SecretState = 'present' | 'pending-deletion' | 'missing';

export interface SecretStatus {
  readonly purpose: SecretPurpose;
  /**
   * stored: the data stack keeps it (a deployment needs it); derived: the host computes it from the encryption key,
   * so a secret of that name is a legacy one (a deployment made before that layout), whose value wins on the host.
   */
  readonly source: 'stored' | 'derived';
  readonly name: string;
  readonly state: SecretState;
  readonly arn?: string;
  readonly deletedAt?: number;
}

/**
 * Every purpose is looked up by its fixed name: the stored ones (the deployment needs them), and the derived ones too,
 * because a legacy secret of a derived purpose overrides the derived value on the host (its value is inside the data).
 */
export async function secretStatuses(secrets: SecretsManagerClient, deployment: string): Promise<SecretStatus[]> {
  return Promise.all(
    SECRET_PURPOSES.map(async ({ purpose, source }): Promise<SecretStatus> => {
      const name = secretName(deployment, purpose);
      try {
        const secret = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
        if (secret?.DeletedDate) return { purpose, source, name, state: 'pending-deletion', arn: secret.ARN, deletedAt: secret.DeletedDate.getTime() };
        return { purpose, source, name, state: 'present', arn: secret?.ARN };
      } catch (error) {
        if (hasErrorName(error, 'ResourceNotFoundException')) return { purpose, source, name, state: 'missing' };
        throw error;
      }
    }),
  );
}

/** The secrets that matter for a restore: every stored one (missing or not), and the legacy derived ones that exist. */
export function relevantSecrets(secrets: readonly SecretStatus[]): SecretStatus[] {
  return secrets.filter((s) => s.source === 'stored' || s.state !== 'missing');
}
