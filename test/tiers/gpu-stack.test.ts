import { Match, Template } from 'aws-cdk-lib/assertions';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { CACHEABLE_PATHS, GPU_AMI_PARAMETER, ORIGIN_VERIFY_HEADER } from '../../lib/tiers/gpu-stack';
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

  test('a 100 GiB root volume: the Deep Learning AMI\'s snapshot does not fit in the CPU tiers\' 50', () => {
    expect(launchTemplateData(compute).BlockDeviceMappings[0].Ebs).toMatchObject({ VolumeSize: 100, VolumeType: 'gp3', Encrypted: true });
  });

  test('a longer signal timeout, Docker from the AMI, the GPU runtime variant on the host', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.CreationPolicy.ResourceSignal.Timeout).toBe('PT45M');
    const userData = JSON.stringify(launchTemplateData(compute).UserData);
    expect(userData).toContain("GM_INSTALL_DOCKER='false'");
    expect(userData).toContain("GM_TIER='gpu'");
  });

  test('the load balancer takes traffic from CloudFront\'s origin-facing prefix list only', () => {
    const lbSg = Object.keys(compute.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'GeuseMaker n8n load balancer' } }))[0];
    const toLb = ingressRules(compute).filter((r) => JSON.stringify(r.groupId).includes(lbSg));
    expect(toLb).toHaveLength(1);
    expect(toLb[0]).toMatchObject({ fromPort: 80, toPort: 80, cidrIp: undefined });
    expect(JSON.stringify(toLb[0].sourcePrefixListId)).toMatch(/CloudFrontOriginFacing/);
    const lookup = Object.values(compute.findResources('Custom::AWS'))[0];
    expect(JSON.stringify(lookup.Properties.Update)).toContain('describeManagedPrefixLists');
    expect(JSON.stringify(lookup.Properties.Update)).toContain('com.amazonaws.global.cloudfront.origin-facing');
  });

  test('only our own distribution gets through: the load balancer forwards requests carrying the header CloudFront adds, and answers 403 to the rest', () => {
    const listener = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::Listener'))[0].Properties;
    expect(listener.DefaultActions).toEqual([expect.objectContaining({ Type: 'fixed-response', FixedResponseConfig: expect.objectContaining({ StatusCode: '403' }) })]);
    const rules = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r) => r.Properties);
    expect(rules).toHaveLength(1);
    expect(rules[0].Actions).toEqual([expect.objectContaining({ Type: 'forward' })]);
    const condition = rules[0].Conditions[0];
    expect(condition).toMatchObject({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: ORIGIN_VERIFY_HEADER } });
    const [sent] = distributionConfig(compute).Origins[0].OriginCustomHeaders;
    expect(sent.HeaderName).toBe(ORIGIN_VERIFY_HEADER);
    // The same value on both sides, and in the template only as a reference to a generated secret.
    expect(condition.HttpHeaderConfig.Values).toEqual([sent.HeaderValue]);
    expect(JSON.stringify(sent.HeaderValue)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",\{"Ref":"OriginVerify[0-9A-F]+"\},":SecretString:::\}\}"\]\]\}$/);
    compute.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: Match.objectLike({ PasswordLength: 48 }) });
  });

  test('the host accepts 5678 from the load balancer only', () => {
    const toHost = ingressRules(compute).filter((r) => JSON.stringify(r.groupId).includes('HostSecurityGroup'));
    expect(toHost).toEqual([expect.objectContaining({ fromPort: 5678, sourceSecurityGroupId: expect.objectContaining({ 'Fn::GetAtt': [expect.stringMatching(/^EntrySecurityGroup/), 'GroupId'] }) })]);
  });

  test('dynamic paths: caching disabled, all methods, every viewer header (WebSockets), HTTPS for viewers', () => {
    const behavior = distributionConfig(compute).DefaultCacheBehavior;
    expect(behavior).toMatchObject({
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3',
      ViewerProtocolPolicy: 'redirect-to-https',
    });
  });

  test('only n8n\'s static assets are cached', () => {
    const cached = distributionConfig(compute).CacheBehaviors;
    expect(cached.map((b: { PathPattern: string }) => b.PathPattern)).toEqual(CACHEABLE_PATHS);
    for (const b of cached) expect(b.CachePolicyId).toBe('658327ea-f89d-4fab-a63d-7e88639e58f6');
  });

  test('a long origin read timeout for LLM streaming, configurable', () => {
    expect(distributionConfig(compute).Origins[0].CustomOriginConfig.OriginReadTimeout).toBe(60);
    const { compute: longer } = synthDeployment('big', { tier: 'gpu', gpu: { originReadTimeoutSeconds: 180 } });
    expect(distributionConfig(longer).Origins[0].CustomOriginConfig.OriginReadTimeout).toBe(180);
    longer.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '300' }]),
    });
  });

  test('the CloudFront URL is an output and n8n\'s public URL', () => {
    const url = compute.findOutputs(OUTPUT_KEYS.cloudFrontUrl)[OUTPUT_KEYS.cloudFrontUrl].Value;
    expect(JSON.stringify(url)).toMatch(/https:\/\/.*DomainName/);
    expect(JSON.stringify(launchTemplateData(compute).UserData)).toMatch(/GM_N8N_PUBLIC_URL='https:\/\/",\{"Fn::GetAtt":\["Distribution/);
  });

  test('a reboot is not a replacement: EC2 health, the load balancer\'s checks only steer requests', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.HealthCheckType).toBe('EC2');
    const statements = Object.values(compute.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const markUnhealthy = statements.find((s: { Action: unknown }) => s.Action === 'autoscaling:SetInstanceHealth');
    expect(JSON.stringify(markUnhealthy.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/geusemaker-big"');
  });

  test('the listener and its rule carry no Tags (their CloudFormation schema has none, cfn-lint E3002)', () => {
    const elbv2 = [
      ...Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::Listener')),
      ...Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')),
    ];
    expect(elbv2).toHaveLength(2);
    for (const resource of elbv2) expect(resource.Properties.Tags).toBeUndefined();
  });

  test('owner protection: the same launch hold as the automation tier', () => {
    const group = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.LifecycleHookSpecificationList[0]).toMatchObject({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', DefaultResult: 'ABANDON' });
  });
});

describe('gpu configuration errors', () => {
  test('allowedCidrs is refused, not silently dropped: CloudFront would still serve everyone', () => {
    expect(() => synthDeployment('big', { tier: 'gpu', allowedCidrs: ['203.0.113.0/24'] }))
      .toThrow(/^Invalid configuration: geusemaker:deployments\.big\.allowedCidrs = \["203\.0\.113\.0\/24"\]: the gpu tier serves n8n through CloudFront/);
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
