import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DATA_TIER, SCALE_OUTPUT_KEYS, TAG_KEYS } from '../../ops/src/contract';
import { ScaleOptions } from '../config/scale-schema';
import { GeuseDataStack } from '../data/data-stack';
import { DataStackReferences } from '../tiers/data-references';
import { N8N_DATABASE_NAME, N8nDatabase } from './n8n-database';
import { N8nQueue } from './n8n-queue';

/**
 * Outputs of `GeuseScaleData-<name>` that only the scale compute stack reads (through Fn::GetStackOutput, never an
 * export, so the compute stack can go and come without touching this stack). gm-ops reads SCALE_OUTPUT_KEYS.
 */
export const SCALE_DATA_LINKS = {
  databaseAddress: 'DatabaseAddress',
  databasePort: 'DatabasePort',
  databaseSecurityGroupId: 'DatabaseSecurityGroupId',
  queueAddress: 'QueueAddress',
  queuePort: 'QueuePort',
  queueSecurityGroupId: 'QueueSecurityGroupId',
} as const;

export interface GeuseScaleDataStackProps extends StackProps {
  /** The validated deployment's name. */
  readonly deployment: string;
  /** The deployment's data stack, whose VPC (isolated subnets) this stack uses; this stack depends on it. */
  readonly data: GeuseDataStack;
  /** The scale options with their defaults. */
  readonly options: ScaleOptions;
  /** The deployment's vpcId setting, named in the error when its VPC has no private subnets. */
  readonly vpcId?: string;
}

/**
 * `GeuseScaleData-<name>`: the scale tier's data that outlives its compute — RDS PostgreSQL (final snapshot on delete,
 * deletion protection, retained credentials) and the Valkey queue. Separate from `GeuseData-<name>`, which stays
 * identical whatever the tier (so tiers can switch), and from `GeuseScale-<name>`, which is disposable.
 */
export class GeuseScaleDataStack extends Stack {
  public readonly database: N8nDatabase;
  public readonly queue: N8nQueue;
  public readonly deployment: string;

  constructor(scope: Construct, id: string, props: GeuseScaleDataStackProps) {
    super(scope, id, props);
    this.deployment = props.deployment;
    Tags.of(this).add(TAG_KEYS.deployment, props.deployment);
    Tags.of(this).add(TAG_KEYS.tier, DATA_TIER);
    const data = new DataStackReferences(this, 'Data', props.data);
    this.addStackDependency(props.data, 'the database and the queue live in the data stack\'s VPC');
    const vpcSubnets = data.requireOriginSubnets(props.deployment, props.vpcId, 'scale');

    const { database, queue } = props.options;
    this.database = new N8nDatabase(this, 'Database', {
      deployment: props.deployment,
      vpc: data.vpc,
      vpcSubnets,
      instanceClass: database.instanceClass,
      storageGiB: database.storageGiB,
      multiAz: database.multiAz,
      backupRetentionDays: database.backupRetentionDays,
      deletionProtection: database.deletionProtection,
    });
    this.queue = new N8nQueue(this, 'Queue', {
      deployment: props.deployment,
      vpc: data.vpc,
      vpcSubnets,
      nodeType: queue.nodeType,
    });

    const instance = this.database.instance;
    const group = this.queue.replicationGroup;
    const outputs: Record<string, string> = {
      [SCALE_OUTPUT_KEYS.databaseEndpoint]: `${instance.dbInstanceEndpointAddress}:${instance.dbInstanceEndpointPort}`,
      [SCALE_OUTPUT_KEYS.databaseInstanceId]: instance.instanceIdentifier,
      [SCALE_OUTPUT_KEYS.databaseName]: N8N_DATABASE_NAME,
      [SCALE_OUTPUT_KEYS.databaseSecretArn]: this.database.secret.secretArn,
      [SCALE_OUTPUT_KEYS.queueEndpoint]: this.queue.endpoint,
      [SCALE_OUTPUT_KEYS.queueReplicationGroupId]: group.ref,
      [SCALE_OUTPUT_KEYS.queueAuthSecretArn]: this.queue.authToken.secretArn,
      [SCALE_DATA_LINKS.databaseAddress]: instance.dbInstanceEndpointAddress,
      [SCALE_DATA_LINKS.databasePort]: instance.dbInstanceEndpointPort,
      [SCALE_DATA_LINKS.databaseSecurityGroupId]: this.database.securityGroup.securityGroupId,
      [SCALE_DATA_LINKS.queueAddress]: group.attrPrimaryEndPointAddress,
      [SCALE_DATA_LINKS.queuePort]: group.attrPrimaryEndPointPort,
      [SCALE_DATA_LINKS.queueSecurityGroupId]: this.queue.securityGroup.securityGroupId,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });
  }
}
