import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';

/**
 * How long a new host's EC2 health is ignored once it is in service. The launch lifecycle hook already holds the host
 * until the bootstrap is done, and the grace period only starts after that, so it covers n8n settling, not the bootstrap.
 */
export const HEALTH_CHECK_GRACE_PERIOD = Duration.minutes(5);

/**
 * The group of a host behind a load balancer judges it by EC2 health only, never by the load balancer's.
 *
 * With ELB health checks a group replaces an instance its target group reports unhealthy, and the grace period covers
 * newly launched instances only, so an ordinary reboot (n8n down for a few minutes) would get the host terminated
 * mid-start. EC2 health checks only fail an instance that is not `running` or whose status checks are impaired, and a
 * reboot keeps the instance running on the same host with the same addresses.
 * Sources: https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-checks-overview.html,
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-reboot.html.
 *
 * A host whose stack really fails says so itself: `aws autoscaling set-instance-health --health-status Unhealthy`
 * (a custom health check, allowed on its own group by GeuseHost), and the group replaces it.
 */
export function rebootSafeHealthChecks(): autoscaling.HealthChecks {
  return autoscaling.HealthChecks.ec2({ gracePeriod: HEALTH_CHECK_GRACE_PERIOD });
}
