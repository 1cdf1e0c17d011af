import { Stack, Token } from 'aws-cdk-lib';

/**
 * How cdk-nag spells a stack's partition, region and account inside finding ids: the literal value when the
 * stack is environment-specific, the `<AWS::…>` pseudo parameter otherwise. Acknowledgment ids must match it.
 */
export function nagEnv(stack: Stack): { partition: string; region: string; account: string } {
  const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  return {
    partition: literal(stack.partition, 'AWS::Partition'),
    region: literal(stack.region, 'AWS::Region'),
    account: literal(stack.account, 'AWS::AccountId'),
  };
}
