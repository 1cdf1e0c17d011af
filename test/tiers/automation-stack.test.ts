import { Match, Template } from 'aws-cdk-lib/assertions';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { ARM64_CPU_FAMILIES } from '../../lib/compute/instance-types';
import { originSubnetOutputKey } from '../../lib/data/data-stack';
import { AL2023_ARM64_AMI_PARAMETER } from '../../lib/tiers/compute-stack';
import { existingVpcContext, synthDeployment } from '../helpers/app';
import { coversPort, ingressRules, isWorldOpen } from '../helpers/network';

const automation = (options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  synthDeployment('demo', { tier: 'automation', ...extra, ...(Object.keys(options).length ? { automation: options } : {}) });

const listeners = (t: Template) => Object.values(t.findResources('AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties);
const lbSecurityGroupId = (t: Template) => Object.keys(t.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'GeuseMaker n8n load balancer' } }))[0];

describe('automation tier, in every case', () => {
  let compute: Template;
  let data: Template;
  beforeAll(() => ({ compute, data } = automation()));

  test('the load balancer sits in the data stack\'s isolated subnets, with a long idle timeout and invalid headers dropped', () => {
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: [0, 1].map((index) => ({ 'Fn::GetStackOutput': { StackName: 'GeuseData-demo', OutputName: originSubnetOutputKey(index) } })),
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: '900' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
  });

  test('the target group checks n8n\'s own readiness (/healthz/readiness) on 5678, never a static page', () => {
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 5678, Protocol: 'HTTP', TargetType: 'instance', HealthCheckPath: '/healthz/readiness', Matcher: { HttpCode: '200' },
    });
  });

  test('the auto scaling group is the load balancer\'s target', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(JSON.stringify(group.Properties.TargetGroupARNs)).toMatch(/EntryLoadBalancerN8n/);
  });

  test('a reboot is not a replacement: the group judges the host by EC2 health, not by the load balancer\'s checks', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.HealthCheckType).toBe('EC2');
    // The grace period starts when the launch hook completes, i.e. after the bootstrap: it only covers n8n settling.
    expect(group.Properties.HealthCheckGracePeriod).toBe(300);
  });

  test('a host whose stack really fails replaces itself: it may mark itself unhealthy, in its own group only', () => {
    const statements = Object.values(compute.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const markUnhealthy = statements.filter((s: { Action: unknown }) => s.Action === 'autoscaling:SetInstanceHealth');
    expect(markUnhealthy).toHaveLength(1);
    expect(JSON.stringify(markUnhealthy[0].Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/geusemaker-demo"');
  });

  test('listeners carry no Tags (their CloudFormation schema has none, cfn-lint E3002), while the load balancer does', () => {
    for (const listener of listeners(compute)) expect(listener.Tags).toBeUndefined();
    const [loadBalancer] = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(loadBalancer.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'geuse:tier', Value: 'automation' }]));
  });

  test('the host accepts 5678 from the load balancer only; nothing else reaches it', () => {
    const lbSg = lbSecurityGroupId(compute);
    const toHost = ingressRules(compute).filter((r) => JSON.stringify(r.groupId).includes('HostSecurityGroup'));
    expect(toHost).toEqual([expect.objectContaining({ fromPort: 5678, toPort: 5678, sourceSecurityGroupId: { 'Fn::GetAtt': [lbSg, 'GroupId'] } })]);
    for (const rule of ingressRules(compute)) expect(coversPort(rule, 22)).toBe(false);
    for (const rule of ingressRules(data)) expect(isWorldOpen(rule)).toBe(false);
  });

  test('the load balancer sends traffic to n8n on the host and nowhere else', () => {
    const lbSg = Object.values(compute.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'GeuseMaker n8n load balancer' } }))[0];
    const egress = [...(lbSg.Properties.SecurityGroupEgress ?? []), ...Object.values(compute.findResources('AWS::EC2::SecurityGroupEgress')).map((e) => e.Properties)];
    const real = egress.filter((e: { CidrIp?: string }) => e.CidrIp !== '255.255.255.255/32');
    expect(real).toEqual([expect.objectContaining({ FromPort: 5678, ToPort: 5678, DestinationSecurityGroupId: expect.anything() })]);
  });

  test('owner protection: a launch lifecycle hook on the group itself holds every new host out of the load balancer until the bootstrap releases it', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.LifecycleHookSpecificationList).toContainEqual({
      LifecycleHookName: 'geusemaker-bootstrap', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 1800, DefaultResult: 'ABANDON',
    });
    const userData = JSON.stringify(Object.values(compute.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData.UserData);
    expect(userData).toContain("GM_LIFECYCLE_HOOK='geusemaker-bootstrap'");
    const statements = Object.values(compute.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const release = statements.find((s: { Action: unknown }) => s.Action === 'autoscaling:CompleteLifecycleAction');
    expect(JSON.stringify(release.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/geusemaker-demo"');
  });

  test('beside the launch hold, the clean-stop hook every group has', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.LifecycleHookSpecificationList.map((h: { LifecycleHookName: string }) => h.LifecycleHookName))
      .toEqual(['geusemaker-bootstrap', 'geusemaker-clean-stop']);
  });

  test('Graviton by default: the AL2023 arm64 AMI and arm64 types only', () => {
    const template = Object.values(compute.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(template.Properties.LaunchTemplateData.ImageId).toBe(`resolve:ssm:${AL2023_ARM64_AMI_PARAMETER}`);
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    const types = group.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType.split('.')[0]);
    expect(types).toEqual([...ARM64_CPU_FAMILIES]);
  });

  test('n8n binds beyond localhost only because the load balancer is its sole peer', () => {
    const userData = JSON.stringify(Object.values(compute.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData.UserData);
    expect(userData).toContain("GM_N8N_BIND='0.0.0.0'");
  });

  test('outputs the entry URL and the load balancer name', () => {
    compute.hasOutput(OUTPUT_KEYS.tier, { Value: 'automation' });
    compute.hasOutput(OUTPUT_KEYS.loadBalancerDns, { Description: Match.stringLikeRegexp('Internal') });
    compute.hasOutput(OUTPUT_KEYS.autoScalingGroupName, {});
  });
});

describe('automation configuration errors', () => {
  test('a malformed certificate ARN', () => {
    expect(() => automation({ domainName: 'n8n.example.com', certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' }))
      .toThrow('Invalid configuration: geusemaker:deployments.demo.automation.certificateArn = "arn:aws:iam::123456789012:server-certificate/x": expected an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/<uuid>');
  });
});

describe('automation tier in an existing VPC', () => {
  const ACCOUNT = '123456789012';
  const REGION = 'eu-west-1';
  const VPC_ID = 'vpc-0abc1234def567890';
  const inExistingVpc = (withPrivateSubnets: boolean) => synthDeployment('team',
    { tier: 'automation', vpcId: VPC_ID, env: { account: ACCOUNT, region: REGION } },
    existingVpcContext(ACCOUNT, REGION, VPC_ID, withPrivateSubnets));

  test('the load balancer goes into the VPC\'s private subnets', () => {
    const { compute, data } = inExistingVpc(true);
    data.hasOutput(originSubnetOutputKey(0), { Value: 'subnet-0ccc3333cccc33333' });
    data.hasOutput(originSubnetOutputKey(1), { Value: 'subnet-0ddd4444dddd44444' });
    compute.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: [0, 1].map((index) => ({ 'Fn::GetStackOutput': { StackName: 'GeuseData-team', OutputName: originSubnetOutputKey(index) } })),
    });
  });

  test('a VPC without private subnets is one configuration line, naming the way out', () => {
    expect(() => inExistingVpc(false)).toThrow(new RegExp(
      `^Invalid configuration: geusemaker:deployments\\.team\\.vpcId = "${VPC_ID}": the automation tier puts its load balancer in private subnets behind a CloudFront VPC origin, and this VPC has none: add private subnets to it, or leave vpcId out for a new VPC$`));
  });
});
