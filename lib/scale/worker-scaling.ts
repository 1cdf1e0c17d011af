import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

/** CPU of the workers above which target tracking adds workers, and below which it removes them. */
export const WORKER_CPU_TARGET_PERCENT = 70;

export interface WorkerScalingProps {
  /** The workers' service. */
  readonly service: ecs.FargateService;
  /** Fewest and most running workers. */
  readonly min: number;
  readonly max: number;
  /** Waiting jobs per running worker (the backlog function's metric), maximum per minute. */
  readonly backlogPerWorker: cloudwatch.IMetric;
  /** Backlog per worker from which one more worker starts; three more from three times this. */
  readonly scaleOutBacklog: number;
}

/**
 * The workers' scaling: out on queue backlog (step scaling on `BacklogPerWorker`: a job waits only when every worker
 * runs `concurrency` executions already), and CPU target tracking as the safety net, which is also the only way in:
 * an empty queue does not mean idle workers (a saturated pool has no waiting job), and a worker stopped with work in
 * hand loses any execution longer than its graceful shutdown. Scale-in is therefore slow (15 minutes of low CPU).
 */
export class WorkerScaling extends Construct {
  public readonly scalableTarget: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: WorkerScalingProps) {
    super(scope, id);
    if (props.min < 0 || props.max < props.min) {
      throw new Error(`WorkerScaling: expected 0 <= min <= max, got min ${props.min} and max ${props.max}`);
    }
    if (props.scaleOutBacklog <= 0) throw new Error(`WorkerScaling: scaleOutBacklog must be above 0, got ${props.scaleOutBacklog}`);
    this.scalableTarget = props.service.autoScaleTaskCount({ minCapacity: props.min, maxCapacity: props.max });
    this.scalableTarget.scaleOnMetric('Backlog', {
      metric: props.backlogPerWorker,
      scalingSteps: [
        { upper: props.scaleOutBacklog, change: 0 },
        { lower: props.scaleOutBacklog, change: +1 },
        { lower: props.scaleOutBacklog * 3, change: +3 },
      ],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      // A new worker pulls its image and reaches readiness in about a minute; give it that before adding more.
      cooldown: Duration.seconds(90),
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
    });
    this.scalableTarget.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: WORKER_CPU_TARGET_PERCENT,
      scaleOutCooldown: Duration.seconds(90),
      scaleInCooldown: Duration.minutes(15),
    });
  }
}
