import * as vm from 'vm';
import { Template } from 'aws-cdk-lib/assertions';
import { OUTPUT_KEYS } from '../../ops/src/contract';
import { CACHEABLE_PATHS } from '../../lib/compute/cloudfront-entry';
import { synthDeployment, warningsOf } from '../helpers/app';
import { ingressRules, isWorldOpen } from '../helpers/network';
import { renderUserData } from '../helpers/render-user-data';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab';
const CIDRS = ['198.51.100.0/24', '203.0.113.128/25'];
const DISTRIBUTION_DOMAIN = 'd111111abcdef8.cloudfront.net';

/** Every tier served through CloudFront, by default and with an allow-list and a domain of the user's own. */
const SHAPES = {
  automation: { tier: 'automation' },
  gpu: { tier: 'gpu' },
  'automation, allowedCidrs, own domain': { tier: 'automation', allowedCidrs: CIDRS, automation: { domainName: 'n8n.example.com', certificateArn: CERT } },
  'gpu, allowedCidrs': { tier: 'gpu', allowedCidrs: CIDRS },
} as const;
type Shape = keyof typeof SHAPES;
const synth = (shape: Shape) => synthDeployment('web', SHAPES[shape] as Record<string, unknown>);

const distributionConfig = (t: Template) => Object.values(t.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
const behaviours = (t: Template) => [distributionConfig(t).DefaultCacheBehavior, ...(distributionConfig(t).CacheBehaviors ?? [])];
const hostSettings = (t: Template) => renderUserData(t, {
  region: 'eu-west-1',
  account: '123456789012',
  references: (name) => (/^EntryDistribution[0-9A-F]+\.DomainName$/.test(name) ? DISTRIBUTION_DOMAIN : `<${name}>`),
});
const allowListCode = (t: Template): string => Object.values(t.findResources('AWS::CloudFront::Function'))[0].Properties.FunctionCode;

describe.each(['automation', 'gpu'] as const)('%s: HTTPS on CloudFront, the origin private', (shape) => {
  let compute: Template;
  let data: Template;
  beforeAll(() => ({ compute, data } = synth(shape)));

  test('the load balancer is internal', () => {
    const balancers = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    expect(balancers.map((b) => b.Properties.Scheme)).toEqual(['internal']);
  });

  test('no security group in the deployment admits 0.0.0.0/0 or ::/0 (compute and data stacks)', () => {
    const rules = [...ingressRules(compute), ...ingressRules(data)];
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.filter(isWorldOpen)).toEqual([]);
  });

  test('the load balancer admits CloudFront\'s origin-facing prefix list on its one listener port, and nothing else', () => {
    const lbSg = Object.keys(compute.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: 'GeuseMaker n8n load balancer' } }))[0];
    const toLb = ingressRules(compute).filter((r) => JSON.stringify(r.groupId).includes(lbSg));
    expect(toLb).toEqual([expect.objectContaining({ fromPort: 80, toPort: 80, cidrIp: undefined, cidrIpv6: undefined })]);
    expect(JSON.stringify(toLb[0].sourcePrefixListId)).toMatch(/CloudFrontOriginFacing/);
    const listeners = Object.values(compute.findResources('AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties);
    expect(listeners).toEqual([expect.objectContaining({ Port: 80, Protocol: 'HTTP', DefaultActions: [expect.objectContaining({ Type: 'forward' })] })]);
  });

  test('the origin is a VPC origin of that load balancer: no public origin, no shared secret header', () => {
    const [origin] = distributionConfig(compute).Origins;
    expect(origin.CustomOriginConfig).toBeUndefined();
    expect(origin.OriginCustomHeaders).toBeUndefined();
    const [vpcOriginId] = Object.keys(compute.findResources('AWS::CloudFront::VpcOrigin'));
    expect(origin.VpcOriginConfig.VpcOriginId).toEqual({ 'Fn::GetAtt': [vpcOriginId, 'Id'] });
    const endpoint = compute.toJSON().Resources[vpcOriginId].Properties.VpcOriginEndpointConfig;
    expect(endpoint.Arn.Ref).toMatch(/^EntryLoadBalancer/);
    expect(compute.findResources('AWS::SecretsManager::Secret')).toEqual({});
  });

  test('every behaviour redirects viewers from HTTP to HTTPS', () => {
    for (const behaviour of behaviours(compute)) expect(behaviour.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  test('dynamic paths: caching disabled, all methods, every viewer header (WebSockets); only static assets are cached', () => {
    expect(distributionConfig(compute).DefaultCacheBehavior).toMatchObject({
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
      OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3',
    });
    const cached = distributionConfig(compute).CacheBehaviors;
    expect(cached.map((b: { PathPattern: string }) => b.PathPattern)).toEqual(CACHEABLE_PATHS);
    for (const b of cached) expect(b.CachePolicyId).toBe('658327ea-f89d-4fab-a63d-7e88639e58f6');
  });

  test('a long origin read timeout (60 s, the default quota\'s most) for slow requests and LLM streaming', () => {
    expect(distributionConfig(compute).Origins[0].VpcOriginConfig).toMatchObject({ OriginReadTimeout: 60, OriginKeepaliveTimeout: 60 });
  });

  test('the host settings the bootstrap receives carry the HTTPS public URL and the two proxy hops', () => {
    const settings = hostSettings(compute);
    expect(settings).toContain(`GM_N8N_PUBLIC_URL='https://${DISTRIBUTION_DOMAIN}/'`);
    expect(settings).toContain("GM_N8N_PROXY_HOPS='2'");
    expect(settings).not.toMatch(/GM_N8N_PUBLIC_URL='http:/);
  });

  test('the entry URL output is the distribution\'s HTTPS name', () => {
    expect(JSON.stringify(compute.findOutputs(OUTPUT_KEYS.entryUrl))).toMatch(/"https:\/\/",\{"Fn::GetAtt":\["EntryDistribution[0-9A-F]+","DomainName"\]\},"\/"/);
    expect(Object.keys(compute.findOutputs(OUTPUT_KEYS.cloudFrontUrl))).toEqual([OUTPUT_KEYS.cloudFrontUrl]);
  });

  test('a default synthesis warns of no plain HTTP', () => {
    const { app, stacks } = synth(shape);
    expect(warningsOf(app, stacks.compute).filter((w) => /plain.?http/i.test(w.message))).toEqual([]);
  });

  test('without allowedCidrs no allow-list: every viewer reaches n8n\'s login, over IPv4 or IPv6', () => {
    expect(compute.findResources('AWS::CloudFront::Function')).toEqual({});
    expect(distributionConfig(compute).IPV6Enabled).toBe(true);
  });
});

describe.each(['automation, allowedCidrs, own domain', 'gpu, allowedCidrs'] as const)('%s: a viewer allow-list at CloudFront', (shape) => {
  let compute: Template;
  beforeAll(() => ({ compute } = synth(shape)));

  test('one CloudFront Function whose code holds exactly the allowed CIDRs', () => {
    expect(Object.keys(compute.findResources('AWS::CloudFront::Function'))).toHaveLength(1);
    const literal = /^var ALLOWED_CIDRS = (\[.*\]);$/m.exec(allowListCode(compute));
    expect(JSON.parse(literal![1])).toEqual(CIDRS);
  });

  test('associated as viewer-request with every behaviour', () => {
    const [functionId] = Object.keys(compute.findResources('AWS::CloudFront::Function'));
    for (const behaviour of behaviours(compute)) {
      expect(behaviour.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } }]);
    }
  });

  test('the function lets viewers from the CIDRs through and answers 403 to everyone else, IPv6 included', () => {
    const sandbox: { handler?: (event: unknown) => { statusCode?: number; uri?: string } } = {};
    vm.runInNewContext(`${allowListCode(compute)}\nthis.handler = handler;`, sandbox);
    const request = { method: 'GET', uri: '/rest/login', headers: {} };
    const from = (ip: string) => sandbox.handler!({ viewer: { ip }, request });
    expect(from('198.51.100.7')).toBe(request);
    expect(from('203.0.113.200')).toBe(request);
    expect(from('203.0.113.127')).toMatchObject({ statusCode: 403 });
    expect(from('198.51.101.1')).toMatchObject({ statusCode: 403 });
    expect(from('2001:db8::1')).toMatchObject({ statusCode: 403 });
  });

  test('the CIDRs never reach a security group: the load balancer still takes CloudFront\'s prefix list alone', () => {
    const cidrRules = ingressRules(compute).filter((r) => r.cidrIp !== undefined || r.cidrIpv6 !== undefined);
    expect(cidrRules).toEqual([]);
  });

  test('IPv6 is off at the distribution, so every viewer arrives with an IPv4 address the list can judge', () => {
    expect(distributionConfig(compute).IPV6Enabled).toBe(false);
  });
});

describe('a domain of the user\'s own', () => {
  let compute: Template;
  beforeAll(() => ({ compute } = synth('automation, allowedCidrs, own domain')));

  test('CloudFront serves the name with the certificate, TLS 1.2 or later (TLSv1.2_2021), SNI', () => {
    const config = distributionConfig(compute);
    expect(config.Aliases).toEqual(['n8n.example.com']);
    expect(config.ViewerCertificate).toEqual({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
  });

  test('n8n\'s public URL and the entry URL are the user\'s name over HTTPS', () => {
    compute.hasOutput(OUTPUT_KEYS.entryUrl, { Value: 'https://n8n.example.com/' });
    expect(hostSettings(compute)).toContain("GM_N8N_PUBLIC_URL='https://n8n.example.com/'");
  });
});
