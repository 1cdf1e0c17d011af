import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';

/**
 * PostgreSQL 17 at the minor the host tiers run (docker/versions.env: postgres:17.9-alpine), so `gm-ops migrate` moves
 * a dump between equal majors. aws-cdk-lib 2.276 lists it as `PostgresEngineVersion.VER_17_9`.
 */
export const N8N_POSTGRES_VERSION = rds.PostgresEngineVersion.VER_17_9;
/** The database and its owner, as on the host (docker/compose.yml: POSTGRES_DB / POSTGRES_USER). */
export const N8N_DATABASE_NAME = 'n8n';
export const N8N_DATABASE_USER = 'n8n';
export const POSTGRES_PORT = 5432;

export interface N8nDatabaseProps {
  /** The deployment the database belongs to. */
  readonly deployment: string;
  readonly vpc: ec2.IVpc;
  /** Subnets of the instance: the data VPC's isolated ones (no route to the internet), in two availability zones. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** Instance class, e.g. `db.t4g.micro`. */
  readonly instanceClass: string;
  /** Allocated gp3 storage (GiB); storage autoscaling may grow it to five times this. */
  readonly storageGiB: number;
  /** A standby in a second availability zone. */
  readonly multiAz: boolean;
  /** Days of automated backups. */
  readonly backupRetentionDays: number;
  /** Refuse deletion until turned off. */
  readonly deletionProtection: boolean;
}

/**
 * n8n's database: RDS PostgreSQL 17, encrypted at rest, TLS enforced by its parameter group (`rds.force_ssl`), automated
 * backups, a final snapshot when the instance is deleted or replaced (RemovalPolicy.SNAPSHOT), deletion protection, in
 * isolated subnets behind a security group with no ingress of its own (the compute stack adds the n8n tasks' rule).
 * Its credentials are a generated Secrets Manager secret that outlives the stack: a snapshot restored later still
 * holds the same password.
 */
export class N8nDatabase extends Construct {
  public readonly instance: rds.DatabaseInstance;
  public readonly securityGroup: ec2.SecurityGroup;
  /** JSON with username, password, host, port, dbname (the shape RDS-attached secrets have). */
  public readonly secret: rds.DatabaseSecret;

  constructor(scope: Construct, id: string, props: N8nDatabaseProps) {
    super(scope, id);
    if (!/^db\./.test(props.instanceClass)) {
      throw new Error(`N8nDatabase: instanceClass must be an RDS class such as db.t4g.micro, got ${props.instanceClass}`);
    }
    if (props.backupRetentionDays < 1) {
      throw new Error(`N8nDatabase: backupRetentionDays must be at least 1 (automated backups on), got ${props.backupRetentionDays}`);
    }
    const engine = rds.DatabaseInstanceEngine.postgres({ version: N8N_POSTGRES_VERSION });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `GeuseMaker ${props.deployment} PostgreSQL (no ingress unless the scale tier adds it)`,
      allowAllOutbound: false,
    });

    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `GeuseMaker ${props.deployment}: PostgreSQL 17, TLS required`,
      parameters: { 'rds.force_ssl': '1' },
    });

    this.secret = new rds.DatabaseSecret(this, 'Secret', {
      username: N8N_DATABASE_USER,
      // No fixed name: the secret is kept with the snapshot the instance leaves behind (a restored database still
      // wants this password), and a kept secret holding a fixed name would make the stack fail to create again.
    });
    this.secret.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceType: new ec2.InstanceType(props.instanceClass.replace(/^db\./, '')),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [this.securityGroup],
      publiclyAccessible: false,
      port: POSTGRES_PORT,
      databaseName: N8N_DATABASE_NAME,
      credentials: rds.Credentials.fromSecret(this.secret),
      parameterGroup,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.storageGiB,
      maxAllocatedStorage: Math.min(props.storageGiB * 5, 16384),
      storageEncrypted: true,
      multiAz: props.multiAz,
      backupRetention: Duration.days(props.backupRetentionDays),
      deleteAutomatedBackups: false,
      deletionProtection: props.deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      // Pinned like the host's image: a minor upgrade is a deliberate change of N8N_POSTGRES_VERSION.
      autoMinorVersionUpgrade: false,
      copyTagsToSnapshot: true,
    });

    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason: 'Every n8n task reads this password at start; rotating it would stop new tasks from connecting until all were replaced. It never leaves Secrets Manager except as an ECS secret.',
    });
    const acknowledgments = [{
      id: 'AwsSolutions::AwsSolutions-RDS11',
      reason: 'The port is reachable only from the n8n tasks\' security group inside the VPC; a non-default port would hide nothing from them.',
    }];
    if (!props.multiAz) {
      acknowledgments.push({
        id: 'AwsSolutions::AwsSolutions-RDS3',
        reason: 'Multi-AZ doubles the instance price; it is the setting scale.database.multiAz. Automated backups and the final snapshot keep the data either way.',
      });
    }
    if (!props.deletionProtection) {
      acknowledgments.push({
        id: 'AwsSolutions::AwsSolutions-RDS10',
        reason: 'Turned off on purpose (scale.database.deletionProtection: false) to delete the stack; the instance still leaves a final snapshot.',
      });
    }
    Validations.of(this.instance).acknowledge(...acknowledgments);
  }
}
