import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEFAULT_BULL_PREFIX } from './runtime/backlog';
import { compiledBacklogRuntime } from './runtime-asset';

/** The namespace of the scale tier's own metrics. */
export const BACKLOG_METRIC_NAMESPACE = 'GeuseMaker/Scale';
/** Waiting jobs per running worker: what the workers' step-scaling policy tracks. */
export const BACKLOG_PER_WORKER_METRIC = 'BacklogPerWorker';
/** The raw number of waiting jobs in n8n's queue (gm-ops status shows it). */
export const WAITING_JOBS_METRIC = 'WaitingJobs';
/** The metrics' one dimension: the deployment's name. */
export const BACKLOG_METRIC_DIMENSION = 'Deployment';
/** How often the function runs, and so the metrics' period. */
export const BACKLOG_PERIOD = Duration.minutes(1);

export interface BacklogMetricProps {
  /** The deployment's name: the metric's `Deployment` dimension. */
  readonly deploymentName: string;
  /** The VPC the reader function runs in, to reach Valkey privately. */
  readonly vpc: ec2.IVpc;
  /** The reader's subnets (the isolated ones beside Valkey: it calls no AWS API, so it needs no route out). */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The reader's security group; the caller lets it reach Valkey's port. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Valkey's primary endpoint address (e.g. `CfnReplicationGroup.attrPrimaryEndPointAddress`). */
  readonly redisHost: string;
  /** Valkey's port (e.g. `CfnReplicationGroup.attrPrimaryEndPointPort`, a string token, or a number). */
  readonly redisPort: string | number;
  /** The secret that holds Valkey's auth token (the whole secret string, or one JSON field: `authTokenField`). */
  readonly authToken: secretsmanager.ISecret;
  /** The JSON field of `authToken` that holds the token; the whole secret string when absent. */
  readonly authTokenField?: string;
  /** A Redis ACL user name (QUEUE_BULL_REDIS_USERNAME); none by default (an auth token is the default user's). */
  readonly redisUsername?: string;
  /** TLS to Valkey; on by default (the scale tier's Valkey requires transit encryption). */
  readonly tls?: boolean;
  /** n8n's QUEUE_BULL_PREFIX; `bull` by default (n8n's default). */
  readonly queuePrefix?: string;
  /** The workers' ECS service: its running count is the divisor. */
  readonly workerService: ecs.IBaseService;
}

/**
 * n8n's queue backlog as a CloudWatch metric, every minute: `BacklogPerWorker` = waiting jobs / max(running workers, 1)
 * and `WaitingJobs`, namespace GeuseMaker/Scale, dimension Deployment.
 *
 * Two small functions, so that nothing needs a NAT gateway or an interface endpoint (the VPC has neither):
 * - the reader, in the VPC beside Valkey, only speaks RESP to Valkey (TLS, AUTH) and returns the counts;
 * - the publisher, outside the VPC, run by an EventBridge schedule, reads the auth token from Secrets Manager, invokes
 *   the reader with it, reads the workers' running count (ECS DescribeServices) and calls PutMetricData.
 * The auth token travels only inside the Invoke request (TLS to the Lambda API; neither function logs it).
 */
export class BacklogMetric extends Construct {
  /** `BacklogPerWorker`, maximum over one minute, for the workers' scaling policy. */
  public readonly metric: cloudwatch.Metric;
  /** `WaitingJobs`, maximum over one minute. */
  public readonly waitingMetric: cloudwatch.Metric;
  public readonly reader: lambda.Function;
  public readonly publisher: lambda.Function;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: BacklogMetricProps) {
    super(scope, id);
    const dimensionsMap = { [BACKLOG_METRIC_DIMENSION]: props.deploymentName };
    const metricProps = { namespace: BACKLOG_METRIC_NAMESPACE, dimensionsMap, statistic: cloudwatch.Stats.MAXIMUM, period: BACKLOG_PERIOD };
    this.metric = new cloudwatch.Metric({ ...metricProps, metricName: BACKLOG_PER_WORKER_METRIC });
    this.waitingMetric = new cloudwatch.Metric({ ...metricProps, metricName: WAITING_JOBS_METRIC });

    const code = lambda.Code.fromAsset(compiledBacklogRuntime(), { exclude: ['.complete'] });
    const common = {
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code,
      memorySize: 128,
    };

    this.reader = new lambda.Function(this, 'Reader', {
      ...common,
      description: `GeuseMaker ${props.deploymentName}: counts n8n's waiting jobs in Valkey (for the backlog publisher)`,
      handler: 'reader.handler',
      timeout: Duration.seconds(10),
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      logGroup: this.logGroup('ReaderLogs'),
      environment: {
        REDIS_HOST: props.redisHost,
        REDIS_PORT: Token.isUnresolved(props.redisPort) ? Token.asString(props.redisPort) : String(props.redisPort),
        REDIS_TLS: String(props.tls ?? true),
        QUEUE_BULL_PREFIX: props.queuePrefix ?? DEFAULT_BULL_PREFIX,
        REDIS_TIMEOUT_MS: '3000',
        ...(props.redisUsername ? { REDIS_USERNAME: props.redisUsername } : {}),
      },
    });

    this.publisher = new lambda.Function(this, 'Publisher', {
      ...common,
      memorySize: 256,
      description: `GeuseMaker ${props.deploymentName}: publishes n8n's queue backlog per running worker to CloudWatch every minute`,
      handler: 'publisher.handler',
      timeout: Duration.seconds(30),
      logGroup: this.logGroup('PublisherLogs'),
      environment: {
        READER_FUNCTION: this.reader.functionArn,
        AUTH_TOKEN_SECRET: props.authToken.secretArn,
        ...(props.authTokenField ? { AUTH_TOKEN_FIELD: props.authTokenField } : {}),
        ECS_CLUSTER: props.workerService.cluster.clusterArn,
        ECS_SERVICE: props.workerService.serviceArn,
        METRIC_NAMESPACE: BACKLOG_METRIC_NAMESPACE,
        DEPLOYMENT: props.deploymentName,
      },
    });
    // A late run would publish a stale number; the next minute's run is better than a retry.
    this.publisher.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });

    props.authToken.grantRead(this.publisher);
    this.publisher.addToRolePolicy(new iam.PolicyStatement({
      sid: 'InvokeBacklogReader', actions: ['lambda:InvokeFunction'], resources: [this.reader.functionArn],
    }));
    this.publisher.addToRolePolicy(new iam.PolicyStatement({
      sid: 'ReadWorkerRunningCount', actions: ['ecs:DescribeServices'], resources: [props.workerService.serviceArn],
    }));
    this.publisher.addToRolePolicy(new iam.PolicyStatement({
      sid: 'PublishBacklogMetric',
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': BACKLOG_METRIC_NAMESPACE } },
    }));

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `GeuseMaker ${props.deploymentName}: n8n queue backlog metric, every minute`,
      schedule: events.Schedule.rate(BACKLOG_PERIOD),
      targets: [new targets.LambdaFunction(this.publisher, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    this.acknowledgeFindings();
  }

  private logGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
  }

  private acknowledgeFindings(): void {
    // CDK names an AWS managed policy with the AWS::Partition pseudo parameter, pinned environment or not.
    const managed = (name: string) => `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}]`;
    Validations.of(this.reader.role!).acknowledge({
      id: managed('AWSLambdaBasicExecutionRole'),
      reason: 'The reader writes only its own logs; AWSLambdaBasicExecutionRole is exactly that and calls no other AWS API.',
    }, {
      id: managed('AWSLambdaVPCAccessExecutionRole'),
      reason: 'Lambda needs these network interface permissions to place the reader in the VPC beside Valkey; AWS documents this managed policy for it.',
    });
    Validations.of(this.publisher.role!).acknowledge({
      id: managed('AWSLambdaBasicExecutionRole'),
      reason: 'The publisher writes only its own logs through it; its other permissions are inline and scoped (one secret, one service, one function, one namespace).',
    }, {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData supports no resource-level permissions; a cloudwatch:namespace condition limits it to GeuseMaker/Scale.',
    });
  }
}
