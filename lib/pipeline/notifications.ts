import { Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as notifications from 'aws-cdk-lib/aws-codestarnotifications';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** What the team hears about: a failed run, and a promotion waiting for its approval. */
export const NOTIFIED_EVENTS = [
  codepipeline.PipelineNotificationEvents.PIPELINE_EXECUTION_FAILED,
  codepipeline.PipelineNotificationEvents.MANUAL_APPROVAL_NEEDED,
] as const;

export interface PipelineNotificationsProps {
  readonly pipeline: codepipeline.IPipeline;
  /** Subscribed by email when given. */
  readonly email?: string;
}

/**
 * An SNS topic encrypted with its own KMS key (the AWS managed SNS key cannot be opened to CodeStar Notifications),
 * SSL-only, fed by a CodeStar Notifications rule on the pipeline.
 */
export class PipelineNotifications extends Construct {
  public readonly key: kms.Key;
  public readonly topic: sns.Topic;
  public readonly rule: notifications.INotificationRule;

  constructor(scope: Construct, id: string, props: PipelineNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `GeuseMaker pipeline notifications of ${stack.stackName}`,
      enableKeyRotation: true,
    });
    // CodeStar Notifications publishes to the encrypted topic: it needs the key, through SNS only.
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CodeStarNotificationsPublishThroughSns',
      principals: [new iam.ServicePrincipal('codestar-notifications.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } },
    }));
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `GeuseMaker pipeline ${stack.stackName}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
    this.rule = new notifications.NotificationRule(this, 'Rule', {
      source: props.pipeline,
      events: [...NOTIFIED_EVENTS],
      targets: [this.topic],
      detailType: notifications.DetailType.FULL,
    });
  }
}
