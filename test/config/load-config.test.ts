import { ConfigError, DEPLOYMENTS_CONTEXT_KEY, loadDeployments } from '../../lib/config/load-config';

const context = (values: Record<string, unknown>) => (key: string) => values[key];
const declared = (deployments: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  context({ [DEPLOYMENTS_CONTEXT_KEY]: deployments, ...extra });

function errorOf(read: (key: string) => unknown): string {
  try {
    loadDeployments(read);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  test('the shipped my-stack deployment is a spot dev host with nothing exposed', () => {
    const [config] = loadDeployments(declared({ 'my-stack': { tier: 'dev' } }));
    expect(config).toMatchObject({
      name: 'my-stack', tier: 'dev', market: 'spot', instanceSize: 'large', allowedCidrs: [], bootstrapTimeoutMinutes: 30,
    });
  });

  test('gpu gets a longer bootstrap timeout', () => {
    const [config] = loadDeployments(declared({ big: { tier: 'gpu' } }));
    expect(config.bootstrapTimeoutMinutes).toBe(45);
  });
});

describe('command-line overrides', () => {
  test('-c name declares a new dev deployment and selects only it', () => {
    const configs = loadDeployments(declared({ 'my-stack': { tier: 'dev' } }, { name: 'demo' }));
    expect(configs.map((c) => [c.name, c.tier])).toEqual([['demo', 'dev']]);
  });

  test('-c name with -c tier selects that tier', () => {
    const configs = loadDeployments(declared({ 'my-stack': { tier: 'dev' } }, { name: 'demo', tier: 'automation' }));
    expect(configs.map((c) => [c.name, c.tier])).toEqual([['demo', 'automation']]);
  });

  test('-c name of a declared deployment keeps its settings and -c tier switches its tier', () => {
    const [config] = loadDeployments(declared({ team: { tier: 'dev', market: 'on-demand' } }, { name: 'team', tier: 'gpu' }));
    expect(config).toMatchObject({ name: 'team', tier: 'gpu', market: 'on-demand' });
  });

  test('-c tier alone applies to the only declared deployment', () => {
    const [config] = loadDeployments(declared({ 'my-stack': { tier: 'dev' } }, { tier: 'automation' }));
    expect(config.tier).toBe('automation');
  });

  test('-c tier alone with several deployments asks for -c name', () => {
    expect(errorOf(declared({ a: { tier: 'dev' }, b: { tier: 'dev' } }, { tier: 'gpu' })))
      .toBe('Invalid configuration: tier = "gpu": -c tier applies to one deployment; add -c name=<name> (declared: a, b)');
  });

  test('-c retainedFileSystemId rebuilds the selected deployment around a retained file system', () => {
    const [config] = loadDeployments(declared({ team: { tier: 'automation', market: 'on-demand' } }, { name: 'team', retainedFileSystemId: 'fs-0123456789abcdef0' }));
    expect(config).toMatchObject({ name: 'team', tier: 'automation', market: 'on-demand', retainedData: { fileSystemId: 'fs-0123456789abcdef0' } });
  });

  test('-c retainedFileSystemId of the wrong shape is one clear line', () => {
    expect(errorOf(context({ name: 'team', retainedFileSystemId: 'fs-xyz' })))
      .toBe('Invalid configuration: geusemaker:deployments.team.retainedData.fileSystemId = "fs-xyz": expected an EFS file system id such as fs-0123456789abcdef0');
  });

  test('deployments given as a JSON string with -c are parsed', () => {
    const configs = loadDeployments(context({ [DEPLOYMENTS_CONTEXT_KEY]: '{"x":{"tier":"dev"}}' }));
    expect(configs[0].name).toBe('x');
  });
});

describe('bad configuration fails with one line naming field, value and what is allowed', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['a name with capitals', () => declared({ MyStack: { tier: 'dev' } }),
      'Invalid configuration: geusemaker:deployments.MyStack = "MyStack": deployment names must be lowercase letters, digits and hyphens, starting with a letter, at most 31 characters'],
    ['a name with underscores', () => declared({ my_stack: { tier: 'dev' } }),
      'Invalid configuration: geusemaker:deployments.my_stack = "my_stack": deployment names must be lowercase letters, digits and hyphens, starting with a letter, at most 31 characters'],
    ['a name over 31 characters from -c name', () => context({ name: 'a'.repeat(32) }),
      `Invalid configuration: name = "${'a'.repeat(32)}": expected lowercase letters, digits and hyphens, starting with a letter, at most 31 characters`],
    ['an unknown tier', () => declared({ x: { tier: 'prod' } }),
      'Invalid configuration: geusemaker:deployments.x.tier = "prod": expected one of dev, automation, gpu'],
    ['an unknown tier from -c tier', () => context({ name: 'x', tier: 'edge' }),
      'Invalid configuration: geusemaker:deployments.x.tier = "edge": expected one of dev, automation, gpu'],
    ['a malformed CIDR', () => declared({ x: { tier: 'dev', allowedCidrs: ['10.0.0.0/8', '300.1.2.3/24'] } }),
      'Invalid configuration: geusemaker:deployments.x.allowedCidrs.1 = "300.1.2.3/24": expected an IPv4 CIDR such as 203.0.113.0/24'],
    ['an unknown instance size', () => declared({ x: { tier: 'dev', instanceSize: 'medium' } }),
      'Invalid configuration: geusemaker:deployments.x.instanceSize = "medium": expected one of large, xlarge, 2xlarge, 4xlarge'],
    ['a zero timeout', () => declared({ x: { tier: 'dev', bootstrapTimeoutMinutes: 0 } }),
      'Invalid configuration: geusemaker:deployments.x.bootstrapTimeoutMinutes = 0: expected a whole number of minutes from 1 to 120'],
    ['a negative timeout', () => declared({ x: { tier: 'dev', bootstrapTimeoutMinutes: -10 } }),
      'Invalid configuration: geusemaker:deployments.x.bootstrapTimeoutMinutes = -10: expected a whole number of minutes from 1 to 120'],
    ['an existing VPC id of the wrong shape', () => declared({ x: { tier: 'dev', vpcId: 'vpc-12345', env: { account: '123456789012', region: 'eu-west-1' } } }),
      'Invalid configuration: geusemaker:deployments.x.vpcId = "vpc-12345": expected a VPC id such as vpc-0abc1234 (vpc- and 8 or 17 hex digits)'],
    ['an existing VPC without an account and region to look it up in', () => declared({ x: { tier: 'dev', vpcId: 'vpc-0abc1234' } }),
      'Invalid configuration: geusemaker:deployments.x.vpcId = "vpc-0abc1234": an existing VPC is looked up in its account: set env.account and env.region too'],
    ['an unknown setting', () => declared({ x: { tier: 'dev', instancetype: 't3.large' } }),
      'Invalid configuration: geusemaker:deployments.x: unknown setting "instancetype"; allowed: tier, env, vpcId, market, instanceSize, allowedCidrs, n8nOwnerEmail, bootstrapTimeoutMinutes, rootVolumeGiB, models, qdrantSnapshotMinutes, retainedData, automation, gpu'],
    ['two compute tiers at once', () => declared({ x: { tier: ['dev', 'gpu'] } }),
      'Invalid configuration: geusemaker:deployments.x.tier = ["dev","gpu"]: a deployment has exactly one compute tier at a time (one of dev, automation, gpu)'],
    ['options of another tier', () => declared({ x: { tier: 'dev', gpu: { instanceTypes: ['g5.xlarge'] } } }),
      'Invalid configuration: geusemaker:deployments.x.gpu = {"instanceTypes":["g5.xlarge"]}: options for tier gpu given, but the tier is dev; a deployment has one compute tier at a time — remove them or set tier to gpu'],
    ['no deployment at all', () => context({}),
      'Invalid configuration: geusemaker:deployments declares no deployment; add one in cdk.json or pass -c name=<name>'],
  ];

  test.each(cases)('%s', (_name, read, expected) => {
    const message = errorOf(read() as (key: string) => unknown);
    expect(message).toBe(expected);
    expect(message.split('\n')).toHaveLength(1);
  });
});
