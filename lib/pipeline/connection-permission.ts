import { IResolvable, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

const LEGACY_ACTION = 'codestar-connections:UseConnection';
const RENAMED_ACTION = 'codeconnections:UseConnection';
const RENAMED_ARN = /^arn:aws[a-z-]*:codeconnections:/;

interface Statement {
  Action?: string | string[];
  Resource?: unknown;
  [key: string]: unknown;
}

/**
 * CDK's connection source action always grants `codestar-connections:UseConnection`. Since the service was renamed to
 * AWS CodeConnections, "when specifying a resource in the IAM policy, the service prefix needs to match that of the
 * resource" (https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html): a `codeconnections` connection ARN
 * is paired here with `codeconnections:UseConnection` instead (cfn-lint I3510 otherwise). Statements on a
 * `codestar-connections` ARN keep the old action. Applied to the IAM policies of `stack` itself (not of its stages), once the pipeline is built.
 */
export function matchConnectionPermissionToArn(stack: Stack): void {
  const ownPolicies = stack.node.findAll().filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy && Stack.of(c) === stack);
  for (const policy of ownPolicies) {
    const original = policy.policyDocument as IResolvable | object;
    policy.policyDocument = Lazy.any({
      produce: () => {
        const document = stack.resolve(original) as { Statement?: Statement[] };
        return { ...document, Statement: (document.Statement ?? []).map(renameConnectionAction) };
      },
    });
  }
}

function renameConnectionAction(statement: Statement): Statement {
  const actions = ([] as string[]).concat(statement.Action ?? []);
  const resources = ([] as unknown[]).concat(statement.Resource ?? []);
  const onRenamedArns = resources.length > 0 && resources.every((r) => typeof r === 'string' && RENAMED_ARN.test(r));
  if (!actions.includes(LEGACY_ACTION) || !onRenamedArns) return statement;
  const renamed = actions.map((a) => (a === LEGACY_ACTION ? RENAMED_ACTION : a));
  return { ...statement, Action: renamed.length === 1 ? renamed[0] : renamed };
}
