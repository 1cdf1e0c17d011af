import { findDeployment, groupDeployments, listDeployments } from '../src/discovery/deployments';
import { pickHostInstance, resolveHosts } from '../src/discovery/hosts';
import { endpointsOf, entryOf } from '../src/discovery/endpoints';
import { hostsOfDeployments } from '../src/discovery/deployment-hosts';
import { toStackSummary } from '../src/discovery/stacks';
import { DeploymentNotFound } from '../src/errors';
import { FakeAws, REGION, stackOf } from './helpers/fake-aws';

let aws: FakeAws;
beforeEach(() => {
  aws = new FakeAws();
});
afterEach(() => aws.restore());

describe('stack recognition (shared contract)', () => {
  it('reads tier and deployment from the stack name and ignores foreign stacks', () => {
    expect(toStackSummary(stackOf('GeuseDev-my-stack', 'CREATE_COMPLETE'))).toMatchObject({ deployment: 'my-stack', role: 'dev' });
    expect(toStackSummary(stackOf('GeuseData-my-stack', 'CREATE_COMPLETE'))).toMatchObject({ deployment: 'my-stack', role: 'data' });
    expect(toStackSummary(stackOf('GeuseGpu-x1', 'CREATE_COMPLETE'))).toMatchObject({ role: 'gpu' });
    expect(toStackSummary(stackOf('CDKToolkit', 'CREATE_COMPLETE'))).toBeUndefined();
    expect(toStackSummary(stackOf('GeuseDev-Not_Valid', 'CREATE_COMPLETE'))).toBeUndefined();
    expect(toStackSummary(stackOf('GeusePipeline-my-stack', 'CREATE_COMPLETE'))).toBeUndefined();
  });

  it('skips a stack whose geuse:deployment tag contradicts its name', () => {
    expect(toStackSummary(stackOf('GeuseDev-a', 'CREATE_COMPLETE', {}, { 'geuse:deployment': 'b' }))).toBeUndefined();
  });
});

describe('listDeployments', () => {
  it('follows DescribeStacks NextToken through every page', async () => {
    aws.stacksPageSize = 7;
    for (let i = 0; i < 30; i += 1) {
      aws.addDeployment({ name: `dep-${String(i).padStart(2, '0')}` });
      aws.addStack(stackOf(`unrelated-${i}`, 'CREATE_COMPLETE'));
    }
    const deployments = await listDeployments(aws.clients().cloudFormation);
    expect(deployments).toHaveLength(30);
    expect(deployments.map((d) => d.name)).toEqual(Array.from({ length: 30 }, (_, i) => `dep-${String(i).padStart(2, '0')}`));
    expect(deployments.every((d) => d.compute && d.data)).toBe(true);
    // 30 deployments × 2 stacks + 30 unrelated = 90 stacks in pages of 7
    expect(aws.cfn.commandCalls(DescribeStacksCommandRef()).length).toBe(Math.ceil(90 / 7));
  });

  it('groups a data-only deployment and flags two compute stacks of one deployment', () => {
    const grouped = groupDeployments(
      [
        stackOf('GeuseData-lonely', 'CREATE_COMPLETE'),
        { ...stackOf('GeuseDev-twice', 'CREATE_COMPLETE'), CreationTime: new Date('2025-01-01T00:00:00Z') },
        { ...stackOf('GeuseGpu-twice', 'CREATE_IN_PROGRESS'), CreationTime: new Date('2025-01-02T00:00:00Z') },
      ].map((s) => toStackSummary(s)!),
    );
    expect(grouped[0]).toMatchObject({ name: 'lonely', compute: undefined });
    expect(grouped[1].compute?.stackName).toBe('GeuseGpu-twice');
    expect(grouped[1].extraCompute.map((s) => s.stackName)).toEqual(['GeuseDev-twice']);
  });
});

describe('findDeployment', () => {
  it('finds the compute stack of whichever tier exists, and its data stack', async () => {
    aws.addDeployment({ name: 'my-stack', tier: 'automation' });
    const deployment = await findDeployment(aws.clients().cloudFormation, 'my-stack', REGION);
    expect(deployment.compute?.stackName).toBe('GeuseAutomation-my-stack');
    expect(deployment.data?.stackName).toBe('GeuseData-my-stack');
  });

  it('throws DeploymentNotFound naming the region when no stack exists', async () => {
    await expect(findDeployment(aws.clients().cloudFormation, 'ghost', REGION)).rejects.toThrow(DeploymentNotFound);
    await expect(findDeployment(aws.clients().cloudFormation, 'ghost', REGION)).rejects.toThrow('deployment "ghost" not found in eu-west-1');
  });

  it('lets other CloudFormation errors through', async () => {
    aws.addDeployment({ name: 'my-stack' });
    aws.failNext.set('DescribeStacks', [Object.assign(new Error('denied'), { name: 'AccessDenied' })]);
    await expect(findDeployment(aws.clients().cloudFormation, 'my-stack', REGION)).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('host resolution from the auto scaling group', () => {
  it('prefers the InService instance over a terminating one', () => {
    const picked = pickHostInstance([
      { InstanceId: 'i-old', LifecycleState: 'Terminating' } as never,
      { InstanceId: 'i-new', LifecycleState: 'InService' } as never,
      { InstanceId: 'i-pending', LifecycleState: 'Pending' } as never,
    ]);
    expect(picked?.InstanceId).toBe('i-new');
    expect(pickHostInstance([{ InstanceId: 'i-old', LifecycleState: 'Terminating' } as never])?.InstanceId).toBe('i-old');
  });

  it('reads state, market and AZ from EC2, and reports missing groups and empty groups', async () => {
    const a = aws.addDeployment({ name: 'a', host: { id: 'i-a', spot: true, az: 'eu-west-1b', type: 'g5.xlarge' } });
    const b = aws.addDeployment({ name: 'b', host: { id: 'i-b', spot: false, state: 'stopped' } });
    const c = aws.addDeployment({ name: 'c', host: null });
    const clients = aws.clients();
    const hosts = await resolveHosts(clients.autoScaling, clients.ec2, [a.group, b.group, c.group, 'gone-asg']);
    expect(hosts.get(a.group)?.host).toMatchObject({ instanceId: 'i-a', state: 'running', market: 'spot', availabilityZone: 'eu-west-1b', instanceType: 'g5.xlarge', lifecycleState: 'InService' });
    expect(hosts.get(b.group)?.host).toMatchObject({ instanceId: 'i-b', state: 'stopped', market: 'on-demand' });
    expect(hosts.get(c.group)).toMatchObject({ groupExists: true, host: undefined, desiredCapacity: 0 });
    expect(hosts.get('gone-asg')).toMatchObject({ groupExists: false });
  });

  it('dev: the public IP is the entry point only when the security group opens n8n to some CIDR', async () => {
    aws.addDeployment({ name: 'open', host: { id: 'i-open', publicIp: '203.0.113.7', openCidrs: ['198.51.100.0/24'] } });
    aws.addDeployment({ name: 'closed', host: { id: 'i-closed', publicIp: '203.0.113.8' } });
    aws.addDeployment({ name: 'alb', tier: 'automation', outputs: { EntryUrl: 'https://n8n.example.com', N8nUrl: 'https://n8n.example.com' }, host: { id: 'i-alb' } });
    const clients = aws.clients();
    const deployments = await listDeployments(clients.cloudFormation);
    const hosts = await hostsOfDeployments(clients, deployments);
    const entry = (name: string) => entryOf(deployments.find((d) => d.name === name)!.compute, hosts.get(name)?.host);
    expect(entry('open')).toEqual({ label: 'Entry', value: 'http://203.0.113.7:5678', reach: 'cidrs', note: 'host public IP, open to 198.51.100.0/24' });
    expect(entry('closed')).toMatchObject({ value: 'http://localhost:5678', reach: 'port-forward' });
    expect(entry('alb')).toMatchObject({ value: 'https://n8n.example.com', reach: 'public' });
    // One DescribeSecurityGroups for both dev hosts; none for the automation tier.
    const calls = aws.ec2.commandCalls(require('@aws-sdk/client-ec2').DescribeSecurityGroupsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.Filters[0].Values.sort()).toEqual(['sg-closed', 'sg-open']);
  });
});

describe('endpoints of a tier behind CloudFront', () => {
  it('the HTTPS distribution URL is the entry; the load balancer is shown as internal, never as a public endpoint', () => {
    const compute = {
      stackName: 'GeuseAutomation-web', deployment: 'web', role: 'automation', status: 'CREATE_COMPLETE', tags: {},
      outputs: {
        EntryUrl: 'https://d111111abcdef8.cloudfront.net/',
        CloudFrontUrl: 'https://d111111abcdef8.cloudfront.net/',
        N8nUrl: 'https://d111111abcdef8.cloudfront.net/',
        LoadBalancerDnsName: 'internal-GeuseA-Entry-1234567890.eu-west-1.elb.amazonaws.com',
      },
    } as const;
    expect(endpointsOf(compute, undefined)).toEqual([
      { label: 'Entry', value: 'https://d111111abcdef8.cloudfront.net/', reach: 'public' },
      { label: 'Load balancer', value: 'internal-GeuseA-Entry-1234567890.eu-west-1.elb.amazonaws.com', reach: 'internal', note: 'internal: reached only through CloudFront' },
    ]);
  });
});

// Imported lazily so the SDK command class is the one the mock intercepts.
function DescribeStacksCommandRef() {
  return (require('@aws-sdk/client-cloudformation') as typeof import('@aws-sdk/client-cloudformation')).DescribeStacksCommand;
}
