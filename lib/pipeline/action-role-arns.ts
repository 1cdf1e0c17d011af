import { IResolvable, Lazy, Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';

/** An action as CfnPipeline's `stages` property holds it (L1 property names; `configuration` is passed through as written). */
interface ActionDeclaration {
  configuration?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * CDK Pipelines writes each deploy action's `Configuration.RoleArn` (the environment's CloudFormation execution role)
 * as `Fn::Join ['', ['arn:', Ref AWS::Partition, ':iam::…']]`. cfn-lint 1.x reports that as an error (E3703 re-raises
 * I1022 "Prefer using Fn::Sub over Fn::Join with an empty delimiter"), so the same value is written as `Fn::Sub`:
 * identical at deploy time, partition still resolved by CloudFormation.
 */
export function writeActionRoleArnsWithSub(pipeline: codepipeline.CfnPipeline): void {
  const original = pipeline.stages as IResolvable | object;
  const stack = Stack.of(pipeline);
  pipeline.stages = Lazy.any({
    produce: () => (stack.resolve(original) as Array<{ actions: ActionDeclaration[] }>).map((stage) => ({
      ...stage,
      actions: stage.actions.map((action) => {
        const asSub = joinAsSub(action.configuration?.RoleArn);
        return asSub === undefined ? action : { ...action, configuration: { ...action.configuration, RoleArn: asSub } };
      }),
    })),
  });
}

/** `Fn::Join` with an empty delimiter over strings, `Ref`s and `Fn::GetAtt`s as the equivalent `Fn::Sub`; undefined for anything else. */
export function joinAsSub(value: unknown): { 'Fn::Sub': string } | undefined {
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (join === undefined || join[0] !== '' || !Array.isArray(join[1])) return undefined;
  let template = '';
  for (const part of join[1]) {
    if (typeof part === 'string') {
      template += part.replace(/\$\{/g, '${!');
    } else if (typeof (part as { Ref?: unknown }).Ref === 'string') {
      template += `\${${(part as { Ref: string }).Ref}}`;
    } else if (Array.isArray((part as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'])) {
      template += `\${${((part as { 'Fn::GetAtt': string[] })['Fn::GetAtt']).join('.')}}`;
    } else {
      return undefined;
    }
  }
  return { 'Fn::Sub': template };
}
