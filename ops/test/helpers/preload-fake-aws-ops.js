/**
 * Preloaded (node -r) into a spawned `gm-ops` for the cost and restore end-to-end tests: mocks every
 * AWS client the two commands use with aws-sdk-client-mock, from the fixture in $GM_OPS_FAKE_AWS:
 * {
 *   stacks: [{name, status, outputs, tags}], deletedStacks: [{name, deletedAt, resources: [{logicalId, type, physicalId, status}]}],
 *   stackResources: {stackName: [{logicalId, type, physicalId}]}, groups: {name: {desired, instances: [{id, lifecycle}]}},
 *   instances: {id: {state, spot, az, type, launchTime, publicIp}}, healthyHosts: [id], fileSystems: [{id, deployment, sizeBytes, created}],
 *   secrets: [name | {name, deletedDate}], products: [{serviceCode, family, attributes, json}], spot: [{type, az, price, at}],
 *   volumes: [{id, instanceId, size, type}], networkInterfaces: [{groupId, publicIp, instanceId, description}],
 *   stubHost: {stateFile, functionalCheck}
 * }
 * With `stubHost`, the script of each SendCommand runs for real under sh against the stub docker and curl
 * (state in stateFile, see stub-host.ts), with the runtime's functional check at `functionalCheck`;
 * without it, every host answers the health probes as healthy.
 * Actions (TerminateInstanceInAutoScalingGroup, RestoreSecret) are appended to $GM_OPS_FAKE_AWS.actions.
 */
'use strict';
const fs = require('fs');
const { mockClient } = require('aws-sdk-client-mock');
const cfn = require('@aws-sdk/client-cloudformation');
const asg = require('@aws-sdk/client-auto-scaling');
const ec2 = require('@aws-sdk/client-ec2');
const ssm = require('@aws-sdk/client-ssm');
const efs = require('@aws-sdk/client-efs');
const sm = require('@aws-sdk/client-secrets-manager');
const pricing = require('@aws-sdk/client-pricing');

const fixture = JSON.parse(fs.readFileSync(process.env.GM_OPS_FAKE_AWS, 'utf8'));
const record = (action) => fs.appendFileSync(`${process.env.GM_OPS_FAKE_AWS}.actions`, `${JSON.stringify(action)}\n`);
const error = (name, message) => Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
const filterValues = (filters, name) => ((filters || []).find((f) => f.Name === name) || {}).Values || [];

const stacks = (fixture.stacks || []).map((s) => ({
  StackName: s.name,
  StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${s.name}/live`,
  StackStatus: s.status,
  CreationTime: new Date('2025-01-14T10:00:00Z'),
  Outputs: Object.entries(s.outputs || {}).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
  Tags: Object.entries(s.tags || {}).map(([Key, Value]) => ({ Key, Value })),
}));
const deleted = (fixture.deletedStacks || []).map((s, i) => ({
  StackName: s.name,
  StackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${s.name}/dead-${i}`,
  StackStatus: 'DELETE_COMPLETE',
  CreationTime: new Date('2024-11-02T09:55:00Z'),
  DeletionTime: new Date(s.deletedAt),
  resources: s.resources || [],
}));
const summaries = (resources) =>
  resources.map((r) => ({ LogicalResourceId: r.logicalId, ResourceType: r.type, PhysicalResourceId: r.physicalId, ResourceStatus: r.status || 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() }));

mockClient(cfn.CloudFormationClient)
  .on(cfn.DescribeStacksCommand)
  .callsFake((input) => {
    if (!input.StackName) return { Stacks: stacks };
    const stack = stacks.find((s) => s.StackName === input.StackName);
    if (!stack) throw error('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { Stacks: [stack] };
  })
  .on(cfn.DescribeStackEventsCommand)
  .resolves({ StackEvents: [] })
  .on(cfn.ListStacksCommand)
  .callsFake(() => ({ StackSummaries: deleted.map(({ resources, ...summary }) => summary) }))
  .on(cfn.ListStackResourcesCommand)
  .callsFake((input) => {
    const dead = deleted.find((s) => s.StackId === input.StackName);
    if (dead) return { StackResourceSummaries: summaries(dead.resources) };
    const live = (fixture.stackResources || {})[input.StackName];
    if (!live) throw error('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { StackResourceSummaries: summaries(live) };
  });

mockClient(asg.AutoScalingClient)
  .on(asg.DescribeAutoScalingGroupsCommand)
  .callsFake((input) => ({
    AutoScalingGroups: (input.AutoScalingGroupNames || [])
      .filter((n) => fixture.groups && fixture.groups[n])
      .map((n) => ({
        AutoScalingGroupName: n,
        DesiredCapacity: fixture.groups[n].desired ?? fixture.groups[n].instances.length,
        Instances: fixture.groups[n].instances.map((i) => ({ InstanceId: i.id, LifecycleState: i.lifecycle || 'InService', HealthStatus: 'Healthy' })),
      })),
  }))
  .on(asg.TerminateInstanceInAutoScalingGroupCommand)
  .callsFake((input) => {
    record({ terminate: input.InstanceId, decrement: input.ShouldDecrementDesiredCapacity });
    return {};
  });

const instance = (id) => {
  const i = fixture.instances[id];
  return {
    InstanceId: id,
    State: { Name: i.state },
    InstanceType: i.type || 'm6i.large',
    InstanceLifecycle: i.spot ? 'spot' : undefined,
    Placement: { AvailabilityZone: i.az || 'eu-west-1a' },
    LaunchTime: new Date(i.launchTime || '2025-01-15T09:00:00Z'),
    PublicIpAddress: i.publicIp,
  };
};
mockClient(ec2.EC2Client)
  .on(ec2.DescribeInstancesCommand)
  .callsFake((input) => ({ Reservations: [{ Instances: filterValues(input.Filters, 'instance-id').filter((id) => fixture.instances[id]).map(instance) }] }))
  .on(ec2.DescribeVolumesCommand)
  .callsFake((input) => {
    const ids = filterValues(input.Filters, 'attachment.instance-id');
    return {
      Volumes: (fixture.volumes || [])
        .filter((v) => ids.includes(v.instanceId))
        .map((v) => ({ VolumeId: v.id, Size: v.size, VolumeType: v.type, Iops: 3000, Throughput: 125, Attachments: [{ InstanceId: v.instanceId, Device: '/dev/xvda' }] })),
    };
  })
  .on(ec2.DescribeNetworkInterfacesCommand)
  .callsFake((input) => {
    const groups = filterValues(input.Filters, 'group-id');
    return {
      NetworkInterfaces: (fixture.networkInterfaces || [])
        .filter((n) => groups.includes(n.groupId))
        .map((n) => ({ Groups: [{ GroupId: n.groupId }], Association: { PublicIp: n.publicIp }, Attachment: n.instanceId ? { InstanceId: n.instanceId } : undefined, Description: n.description })),
    };
  })
  .on(ec2.DescribeNatGatewaysCommand)
  .resolves({ NatGateways: [] })
  .on(ec2.DescribeSpotPriceHistoryCommand)
  .callsFake((input) => ({
    SpotPriceHistory: (fixture.spot || [])
      .filter((s) => (input.InstanceTypes || []).includes(s.type) && (!input.AvailabilityZone || s.az === input.AvailabilityZone))
      .map((s) => ({ InstanceType: s.type, AvailabilityZone: s.az, ProductDescription: 'Linux/UNIX', SpotPrice: s.price, Timestamp: new Date(s.at) })),
    NextToken: '',
  }));

const commands = new Map();
function runOnStubHost(script) {
  const { execFileSync } = require('child_process');
  const path = require('path');
  const body = script.split('/opt/geusemaker/host/functional-check.sh').join(fixture.stubHost.functionalCheck);
  // The bash stubs' view of the state, made here instead of by a node the first stub call would start.
  require('./stub-bin/state-cache').writeStateCache(fixture.stubHost.stateFile);
  const stdout = execFileSync('sh', ['-c', body], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.join(__dirname, 'stub-bin')}:${process.env.PATH}`, FAKE_DOCKER_STATE: fixture.stubHost.stateFile },
  });
  return { Status: 'Success', ResponseCode: 0, StandardOutputContent: stdout.slice(0, 24000), StandardErrorContent: '' };
}
mockClient(ssm.SSMClient)
  .on(ssm.DescribeInstanceInformationCommand)
  .callsFake((input) => {
    const ids = ((input.Filters || []).find((f) => f.Key === 'InstanceIds') || {}).Values || [];
    return { InstanceInformationList: ids.filter((id) => (fixture.healthyHosts || []).includes(id)).map((id) => ({ InstanceId: id, PingStatus: 'Online' })) };
  })
  .on(ssm.SendCommandCommand)
  .callsFake((input) => {
    const id = `cmd-${commands.size + 1}`;
    commands.set(id, input.Parameters.commands.join('\n'));
    return { Command: { CommandId: id } };
  })
  .on(ssm.GetCommandInvocationCommand)
  .callsFake((input) => {
    if (fixture.stubHost) return runOnStubHost(commands.get(input.CommandId));
    const token = /@@gm-ops:([A-Za-z0-9]+)/.exec(commands.get(input.CommandId))[1];
    const m = `@@gm-ops:${token}`;
    const lines = [];
    for (const [service, port] of [['n8n', 5678], ['ollama', 11434], ['qdrant', 6333], ['crawl4ai', 11235]]) {
      lines.push(`${m} probe\t${service}\thttp\t0\t200 0.0${port % 9 + 1}\t`);
    }
    lines.push(`${m} probe\tpostgres\tpg_isready\t0\t0 8ms\t`);
    for (const service of ['n8n', 'postgres', 'ollama', 'qdrant', 'crawl4ai']) {
      lines.push(`${m} container\t${service}\trunning\thealthy\t0\t2025-01-15T09:05:00.123456789Z\t${service}:1`);
    }
    return { Status: 'Success', ResponseCode: 0, StandardOutputContent: lines.join('\n'), StandardErrorContent: '' };
  });

mockClient(efs.EFSClient).on(efs.DescribeFileSystemsCommand).callsFake((input) => {
  const all = (fixture.fileSystems || []).map((f) => ({
    FileSystemId: f.id,
    CreationTime: new Date(f.created || '2024-11-02T10:00:00Z'),
    LifeCycleState: 'available',
    NumberOfMountTargets: f.mountTargets || 0,
    SizeInBytes: { Value: f.sizeBytes, ValueInStandard: f.sizeBytes, Timestamp: new Date('2025-01-15T11:00:00Z') },
    ThroughputMode: 'elastic',
    Tags: f.deployment ? [{ Key: 'geuse:deployment', Value: f.deployment }] : [],
  }));
  if (input.FileSystemId) {
    const found = all.filter((f) => f.FileSystemId === input.FileSystemId);
    if (found.length === 0) throw error('FileSystemNotFound', 'File system does not exist.');
    return { FileSystems: found };
  }
  return { FileSystems: all };
});

// secrets: names (present) or {name, deletedDate} (scheduled for deletion), answered as DescribeSecret does.
const secrets = new Map((fixture.secrets || []).map((s) => (typeof s === 'string' ? [s, {}] : [s.name, { deletedDate: s.deletedDate }])));
mockClient(sm.SecretsManagerClient)
  .on(sm.DescribeSecretCommand)
  .callsFake((input) => {
    const secret = secrets.get(input.SecretId);
    if (!secret) throw error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return {
      ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.SecretId}-AbCdEf`,
      Name: input.SecretId,
      LastChangedDate: new Date('2024-11-02T10:00:05Z'),
      ...(secret.deletedDate ? { DeletedDate: new Date(secret.deletedDate) } : {}),
      VersionIdsToStages: { '6f1b2c3d-0000-4000-8000-000000000001': ['AWSCURRENT'] },
      CreatedDate: new Date('2024-11-02T10:00:05Z'),
    };
  })
  .on(sm.RestoreSecretCommand)
  .callsFake((input) => {
    const secret = secrets.get(input.SecretId);
    if (!secret) throw error('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    record({ restoreSecret: input.SecretId });
    secret.deletedDate = undefined;
    return { ARN: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${input.SecretId}-AbCdEf`, Name: input.SecretId };
  });

mockClient(pricing.PricingClient).on(pricing.GetProductsCommand).callsFake((input) => ({
  FormatVersion: 'aws_v1',
  PriceList: (fixture.products || [])
    .filter((p) => p.serviceCode === input.ServiceCode && (input.Filters || []).every((f) => (f.Field === 'productFamily' ? p.family : p.attributes[f.Field]) === f.Value))
    .map((p) => p.json),
}));
