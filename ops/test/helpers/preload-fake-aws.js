/**
 * Preloaded (node -r) into a spawned `gm-ops` in tests: mocks the AWS SDK clients of the child
 * process with aws-sdk-client-mock from the fixture in $GM_OPS_FAKE_AWS, so the real entry point
 * (bin/gm-ops.js -> dist/main.js) runs end to end without AWS. Fixture:
 * { stacks: [{name, status, outputs, tags}], groups: {name: [{id, lifecycle}]}, instances: {id: {state, spot, az, type}} }
 */
'use strict';
const fs = require('fs');
const { mockClient } = require('aws-sdk-client-mock');
const cfn = require('@aws-sdk/client-cloudformation');
const asg = require('@aws-sdk/client-auto-scaling');
const ec2 = require('@aws-sdk/client-ec2');

const fixture = JSON.parse(fs.readFileSync(process.env.GM_OPS_FAKE_AWS, 'utf8'));
const stacks = fixture.stacks.map((s) => ({
  StackName: s.name,
  StackStatus: s.status,
  CreationTime: new Date('2025-01-14T10:00:00Z'),
  Outputs: Object.entries(s.outputs || {}).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
  Tags: Object.entries(s.tags || {}).map(([Key, Value]) => ({ Key, Value })),
}));

mockClient(cfn.CloudFormationClient)
  .on(cfn.DescribeStacksCommand)
  .callsFake((input) => {
    if (!input.StackName) return { Stacks: stacks };
    const stack = stacks.find((s) => s.StackName === input.StackName);
    if (!stack) throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    return { Stacks: [stack] };
  })
  .on(cfn.DescribeStackEventsCommand)
  .resolves({ StackEvents: [] });
mockClient(asg.AutoScalingClient)
  .on(asg.DescribeAutoScalingGroupsCommand)
  .callsFake((input) => ({
    AutoScalingGroups: (input.AutoScalingGroupNames || [])
      .filter((n) => fixture.groups[n])
      .map((n) => ({
        AutoScalingGroupName: n,
        DesiredCapacity: fixture.groups[n].length,
        Instances: fixture.groups[n].map((i) => ({ InstanceId: i.id, LifecycleState: i.lifecycle || 'InService', HealthStatus: 'Healthy' })),
      })),
  }));
mockClient(ec2.EC2Client)
  .on(ec2.DescribeInstancesCommand)
  .callsFake((input) => {
    const ids = (input.Filters || []).find((f) => f.Name === 'instance-id').Values;
    return {
      Reservations: [
        {
          Instances: ids.map((id) => {
            const i = fixture.instances[id];
            return {
              InstanceId: id,
              State: { Name: i.state },
              InstanceType: i.type || 't3.xlarge',
              InstanceLifecycle: i.spot ? 'spot' : undefined,
              Placement: { AvailabilityZone: i.az || 'eu-west-1a' },
            };
          }),
        },
      ],
    };
  });
