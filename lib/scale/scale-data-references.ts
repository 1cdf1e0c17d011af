import { Fn } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SCALE_OUTPUT_KEYS } from '../../ops/src/contract';
import { GeuseScaleDataStack, SCALE_DATA_LINKS } from './scale-data-stack';

/**
 * `GeuseScaleData-<name>` as the scale compute stack sees it: its outputs, read with Fn::GetStackOutput (no exports:
 * the compute stack may be deleted and redeployed without the data stack ever changing).
 */
export class ScaleDataReferences extends Construct {
  public readonly databaseHost: string;
  public readonly databasePort: string;
  public readonly databaseSecurityGroupId: string;
  /** JSON secret with `username` and `password` of n8n's database user. */
  public readonly databaseSecret: secretsmanager.ISecret;
  public readonly queueHost: string;
  public readonly queuePort: string;
  public readonly queueSecurityGroupId: string;
  /** Valkey's AUTH token (the whole secret string). */
  public readonly queueAuthToken: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, scaleData: GeuseScaleDataStack) {
    super(scope, id);
    const output = (key: string) => Fn.getStackOutput(scaleData.stackName, key);
    this.databaseHost = output(SCALE_DATA_LINKS.databaseAddress);
    this.databasePort = output(SCALE_DATA_LINKS.databasePort);
    this.databaseSecurityGroupId = output(SCALE_DATA_LINKS.databaseSecurityGroupId);
    this.databaseSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'DatabaseSecret', output(SCALE_OUTPUT_KEYS.databaseSecretArn));
    this.queueHost = output(SCALE_DATA_LINKS.queueAddress);
    this.queuePort = output(SCALE_DATA_LINKS.queuePort);
    this.queueSecurityGroupId = output(SCALE_DATA_LINKS.queueSecurityGroupId);
    this.queueAuthToken = secretsmanager.Secret.fromSecretCompleteArn(this, 'QueueAuthToken', output(SCALE_OUTPUT_KEYS.queueAuthSecretArn));
  }
}
