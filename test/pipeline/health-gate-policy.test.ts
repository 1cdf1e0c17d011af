/** What the health gate may read, by tier: a scale deployment's health also reads ECS, RDS, ElastiCache and its backlog metric. */
import { healthGatePolicyStatements } from '../../lib/pipeline/health-gate';

const sids = (tier?: Parameters<typeof healthGatePolicyStatements>[4]) =>
  healthGatePolicyStatements('team', '111111111111', 'eu-west-1', 'aws', tier).map((s) => s.sid);

test('a single-host tier gets no ECS, RDS, ElastiCache or CloudWatch read', () => {
  expect(sids('dev')).not.toContain('ReadScaleServices');
  expect(sids(undefined)).not.toContain('ReadScaleServices');
});

test('the scale tier reads its services, database, queue and backlog metric, and nothing that writes', () => {
  const statement = healthGatePolicyStatements('team', '111111111111', 'eu-west-1', 'aws', 'scale').find((s) => s.sid === 'ReadScaleServices')!;
  expect(statement.actions.sort()).toEqual([
    'cloudwatch:GetMetricData', 'ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:ListTasks', 'elasticache:DescribeReplicationGroups', 'rds:DescribeDBInstances',
  ]);
});

test('every stack name a deployment can have is readable, the scale data stack included', () => {
  const [stacks] = healthGatePolicyStatements('team', '111111111111', 'eu-west-1', 'aws').filter((s) => s.sid === 'ReadDeploymentStacks');
  expect(stacks.resources).toContain('arn:aws:cloudformation:eu-west-1:111111111111:stack/GeuseScaleData-team/*');
  expect(stacks.resources).toContain('arn:aws:cloudformation:eu-west-1:111111111111:stack/GeuseScale-team/*');
});
