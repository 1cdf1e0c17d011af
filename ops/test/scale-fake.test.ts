/**
 * The shared scale fake (helpers/fake-scale.ts) is no kinder than AWS: what the ECS and Application Auto Scaling API
 * references say they refuse, it refuses with the same error names; what RegisterScalableTarget does to the current
 * count (moves it into the new range at once), and what a scaling activity does (never leaves the range), it does.
 */
import { FakeScale, ecsResourceId } from './helpers/fake-scale';

const CLUSTER = 'geusemaker-big';
const fake = () => new FakeScale({ cluster: CLUSTER, services: { main: { desired: 1 }, worker: { desired: 3, spot: true } } });
const target = (f: FakeScale, min?: number, max?: number) =>
  f.registerScalableTarget({ ServiceNamespace: 'ecs', ResourceId: ecsResourceId(CLUSTER, 'worker'), ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: min, MaxCapacity: max });

it('RegisterScalableTarget: MinCapacity above MaxCapacity, a new target without bounds, a service that does not exist: ValidationException', async () => {
  const f = fake();
  await expect(target(f, 5, 2)).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(target(f, 1)).rejects.toMatchObject({ name: 'ValidationException' });
  await expect(
    f.registerScalableTarget({ ServiceNamespace: 'ecs', ResourceId: ecsResourceId(CLUSTER, 'ghost'), ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 0, MaxCapacity: 1 }),
  ).rejects.toMatchObject({ name: 'ValidationException' });
  expect(f.calls).toEqual([]);
});

it('RegisterScalableTarget moves the current count into the new range at once; UpdateService outside it holds until a scaling activity', async () => {
  const f = fake();
  await target(f, 1, 2);
  expect(f.services.get('worker')!.desired).toBe(2);
  await f.updateService({ cluster: CLUSTER, service: 'worker', desiredCount: 0 });
  expect(f.services.get('worker')!.desired).toBe(0);
  f.scalingActivity();
  expect(f.services.get('worker')!.desired).toBe(1);
  expect((await f.describeScalableTargets({ ServiceNamespace: 'ecs', ResourceIds: [ecsResourceId(CLUSTER, 'worker')] })).ScalableTargets).toMatchObject([{ MinCapacity: 1, MaxCapacity: 2 }]);
});

it('ECS: another cluster, an unknown or inactive service, a negative count: the API reference errors', async () => {
  const f = fake();
  await expect(f.describeServices({ cluster: 'other', services: ['main'] })).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
  await expect(f.updateService({ cluster: CLUSTER, service: 'ghost', desiredCount: 0 })).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
  f.services.get('main')!.status = 'INACTIVE';
  await expect(f.updateService({ cluster: CLUSTER, service: 'main', desiredCount: 0 })).rejects.toMatchObject({ name: 'ServiceNotActiveException' });
  await expect(f.updateService({ cluster: CLUSTER, service: 'worker', desiredCount: -1 })).rejects.toMatchObject({ name: 'InvalidParameterException' });
  expect((await f.describeServices({ cluster: CLUSTER, services: ['ghost'] })).failures).toEqual([{ arn: expect.stringMatching(/service\/geusemaker-big\/ghost$/), reason: 'MISSING' }]);
});

it('ListTasks and DescribeTasks: task ARNs with 32-hex ids, the running ones only; a task that stopped is MISSING', async () => {
  const f = fake();
  const { taskArns } = await f.listTasks({ cluster: CLUSTER, serviceName: 'worker', desiredStatus: 'RUNNING' });
  expect(taskArns).toHaveLength(3);
  expect(taskArns![0]).toMatch(/^arn:aws:ecs:[a-z0-9-]+:\d{12}:task\/geusemaker-big\/[0-9a-f]{32}$/);
  f.services.get('worker')!.running = 1;
  const described = await f.describeTasks({ cluster: CLUSTER, tasks: taskArns! });
  expect(described.tasks!.map((t) => t.capacityProviderName)).toEqual(['FARGATE_SPOT']);
  expect(described.failures!.map((x) => x.reason)).toEqual(['MISSING', 'MISSING']);
});

it('RDS and ElastiCache: another identifier is not found, as the services throw it', async () => {
  const f = fake();
  await expect(f.describeDBInstances({ DBInstanceIdentifier: 'other' })).rejects.toMatchObject({ name: 'DBInstanceNotFoundFault' });
  await expect(f.describeReplicationGroups({ ReplicationGroupId: 'other' })).rejects.toMatchObject({ name: 'ReplicationGroupNotFoundFault' });
  await expect(f.filterLogEvents({ logGroupName: '/nowhere' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});
