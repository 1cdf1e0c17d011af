/**
 * What a stack status means for the user, and for the states CloudFormation cannot leave by itself,
 * the exact command that gets them out.
 */

export type StackCondition = 'ok' | 'busy' | 'warning' | 'stuck';

export interface StackAssessment {
  readonly condition: StackCondition;
  readonly explanation: string;
  /** A command to run (stuck stacks only). */
  readonly remedy?: string;
  /** What to do after the remedy. */
  readonly next?: string;
}

function aws(verb: string, stackName: string, region: string | undefined, extra = ''): string {
  return `aws cloudformation ${verb} --stack-name ${stackName}${extra}${region ? ` --region ${region}` : ''}`;
}

/**
 * @param failedResources logical ids that failed to delete (from the events), for DELETE_FAILED.
 */
export function assessStack(
  stackName: string,
  status: string,
  region: string | undefined,
  failedResources: readonly string[] = [],
): StackAssessment {
  switch (status) {
    case 'CREATE_COMPLETE':
    case 'UPDATE_COMPLETE':
    case 'IMPORT_COMPLETE':
      return { condition: 'ok', explanation: 'deployed' };
    case 'UPDATE_ROLLBACK_COMPLETE':
    case 'IMPORT_ROLLBACK_COMPLETE':
      return {
        condition: 'warning',
        explanation: 'the last update failed and was rolled back; the stack runs its previous version',
        next: 'fix the cause shown in the events below, then deploy again',
      };
    case 'ROLLBACK_COMPLETE':
      return {
        condition: 'stuck',
        explanation: 'creation failed and CloudFormation rolled it back; a stack in this state can only be deleted',
        remedy: aws('delete-stack', stackName, region),
        next: 'deploy again (the data stack and its EFS are not touched)',
      };
    case 'ROLLBACK_FAILED':
      return {
        condition: 'stuck',
        explanation: 'creation failed and so did its rollback',
        remedy: aws('delete-stack', stackName, region),
        next: 'deploy again',
      };
    case 'CREATE_FAILED':
      return {
        condition: 'stuck',
        explanation: 'creation failed (rollback was disabled)',
        remedy: aws('delete-stack', stackName, region),
        next: 'deploy again',
      };
    case 'UPDATE_FAILED':
      return {
        condition: 'stuck',
        explanation: 'the update failed (rollback was disabled)',
        remedy: aws('rollback-stack', stackName, region),
        next: 'alternatively, fix the cause and deploy again',
      };
    case 'UPDATE_ROLLBACK_FAILED':
      return {
        condition: 'stuck',
        explanation: 'an update failed and so did its rollback; the stack cannot be updated until the rollback completes',
        remedy: aws('continue-update-rollback', stackName, region),
        next: 'if a resource keeps failing, add --resources-to-skip <LogicalId>',
      };
    case 'DELETE_FAILED':
      return {
        condition: 'stuck',
        explanation: 'deletion failed',
        remedy:
          failedResources.length > 0
            ? aws('delete-stack', stackName, region, ` --retain-resources ${failedResources.join(' ')}`)
            : aws('delete-stack', stackName, region, ' --deletion-mode FORCE_DELETE_STACK'),
        next: 'retained resources must then be removed by hand',
      };
    case 'IMPORT_ROLLBACK_FAILED':
      return {
        condition: 'stuck',
        explanation: 'a resource import failed and so did its rollback',
        remedy: aws('describe-stack-events', stackName, region),
        next: 'fix the resources named in the events, then retry the import or delete the stack',
      };
    case 'REVIEW_IN_PROGRESS':
      return {
        condition: 'stuck',
        explanation: 'a change set was created but never executed',
        remedy: aws('delete-stack', stackName, region),
        next: 'deploy again',
      };
    case 'DELETE_COMPLETE':
      return { condition: 'busy', explanation: 'deleted' };
    default:
      if (status.endsWith('_IN_PROGRESS')) {
        return { condition: 'busy', explanation: 'CloudFormation is working on it; check again in a few minutes' };
      }
      return { condition: 'warning', explanation: `unrecognised status ${status}` };
  }
}
