import { Match, Template } from 'aws-cdk-lib/assertions';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { GPU_AMI_PARAMETER } from '../../lib/tiers/gpu-stack';
import { synthDeployment } from '../helpers/app';
import { ingressRules } from '../helpers/network';

const launchTemplateData = (t: Template) => Object.values(t.findResources('AWS::EC2::LaunchTemplate'))[0].Properties.LaunchTemplateData;
const distributionConfig = (t: Template) => Object.values(t.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;

describe('gpu tier', () => {
  let compute: Template;
  beforeAll(() => ({ compute } = synthDeployment('big', { tier: 'gpu' })));

  test('the Deep Learning Base OSS NVIDIA AMI on AL2023, resolved by EC2 at launch', () => {
    expect(launchTemplateData(compute).ImageId).toBe(`resolve:ssm:${GPU_AMI_PARAMETER}`);
    expect(GPU_AMI_PARAMETER).toMatch(/base-oss-nvidia-driver-gpu-amazon-linux-2023/);
  });

  test('GPU instance types only, several for spot', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    const types = group.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType);
    expect(types).toEqual(['g4dn.xlarge', 'g5.xlarge', 'g6.xlarge']);
  });

  test('a 100 GiB root volume: the Deep Learning AMI\'s snapshot does not fit in the CPU tiers\' 30', () => {
    expect(launchTemplateData(compute).BlockDeviceMappings[0].Ebs).toMatchObject({ VolumeSize: 100, VolumeType: 'gp3', Encrypted: true });
  });

  test('a longer signal timeout, Docker from the AMI, the GPU runtime variant on the host', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.CreationPolicy.ResourceSignal.Timeout).toBe('PT45M');
    const userData = JSON.stringify(launchTemplateData(compute).UserData);
    expect(userData).toContain("GM_INSTALL_DOCKER='false'");
    expect(userData).toContain("GM_TIER='gpu'");
  });

  test('the host accepts 5678 from the load balancer only', () => {
    const toHost = ingressRules(compute).filter((r) => JSON.stringify(r.groupId).includes('HostSecurityGroup'));
    expect(toHost).toEqual([expect.objectContaining({ fromPort: 5678, sourceSecurityGroupId: expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^EntryLoadBalancerSecurityGroup/), 'GroupId'] }) })]);
  });

  test('a long origin read timeout for LLM streaming, configurable', () => {
    const { compute: longer } = synthDeployment('big', { tier: 'gpu', gpu: { originReadTimeoutSeconds: 180 } });
    expect(distributionConfig(longer).Origins[0].VpcOriginConfig.OriginReadTimeout).toBe(180);
    longer.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '300' }]),
    });
  });

  test('a reboot is not a replacement: EC2 health, the load balancer\'s checks only steer requests', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.HealthCheckType).toBe('EC2');
    const statements = Object.values(compute.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const markUnhealthy = statements.find((s: { Action: unknown }) => s.Action === 'autoscaling:SetInstanceHealth');
    expect(JSON.stringify(markUnhealthy.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/geusemaker-big"');
  });

  test('the listener carries no Tags (its CloudFormation schema has none, cfn-lint E3002)', () => {
    const elbv2 = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::Listener'));
    expect(elbv2).toHaveLength(1);
    for (const resource of elbv2) expect(resource.Properties.Tags).toBeUndefined();
  });

  test('owner protection: the same launch hold as the automation tier', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.LifecycleHookSpecificationList[0]).toMatchObject({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', DefaultResult: 'ABANDON' });
  });
});

describe('gpu configuration errors', () => {
  test('arm64 is refused in one line: the Deep Learning AMI and NVIDIA types are x86_64', () => {
    expect(() => synthDeployment('big', { tier: 'gpu', architecture: 'arm64' }))
      .toThrow(/^Invalid configuration: geusemaker:deployments\.big\.architecture = "arm64": the gpu tier runs x86_64 only \(its Deep Learning AMI and NVIDIA instance types\)[^\n]*$/);
  });

  test('instanceSize is refused, not silently dropped: gpu.instanceTypes decides', () => {
    expect(() => synthDeployment('big', { tier: 'gpu', instanceSize: '2xlarge' }))
      .toThrow(/^Invalid configuration: geusemaker:deployments\.big\.instanceSize = "2xlarge": .*gpu\.instanceTypes/);
  });

  test('a non-GPU instance type is refused', () => {
    expect(() => synthDeployment('big', { tier: 'gpu', gpu: { instanceTypes: ['g5.xlarge', 'm5.xlarge'] } }))
      .toThrow('Invalid configuration: geusemaker:deployments.big.gpu.instanceTypes.1 = "m5.xlarge": expected a GPU instance type of the families g4dn, g5, g6, g6e, gr6, p4d, p5 (e.g. g5.xlarge)');
  });
});
