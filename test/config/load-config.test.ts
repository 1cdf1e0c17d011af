import { ConfigError, DEFAULT_CPU_ROOT_VOLUME_GIB, DEPLOYMENTS_CONTEXT_KEY, loadDeployments } from '../../lib/config/load-config';

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

  test.each([['dev'], ['automation']])('%s runs on arm64 with a 30 GiB root volume and no schedule', (tier) => {
    const [config] = loadDeployments(declared({ x: { tier } }));
    expect(config).toMatchObject({ architecture: 'arm64', rootVolumeGiB: DEFAULT_CPU_ROOT_VOLUME_GIB });
    expect(DEFAULT_CPU_ROOT_VOLUME_GIB).toBe(30);
    expect(config.schedule).toBeUndefined();
  });

  test('gpu runs on x86_64 with a 100 GiB root volume', () => {
    const [config] = loadDeployments(declared({ big: { tier: 'gpu' } }));
    expect(config).toMatchObject({ architecture: 'x86_64', rootVolumeGiB: 100 });
  });

  test('x86_64 is a setting on the CPU tiers, and an explicit x86_64 on gpu is what it runs anyway', () => {
    expect(loadDeployments(declared({ x: { tier: 'dev', architecture: 'x86_64' } }))[0].architecture).toBe('x86_64');
    expect(loadDeployments(declared({ x: { tier: 'gpu', architecture: 'x86_64' } }))[0].architecture).toBe('x86_64');
  });

  test('the smallest root volume allowed is 20 GiB', () => {
    expect(loadDeployments(declared({ x: { tier: 'dev', rootVolumeGiB: 20 } }))[0].rootVolumeGiB).toBe(20);
  });

  test('a schedule runs on weekdays unless its days are given', () => {
    const [config] = loadDeployments(declared({ x: { tier: 'dev', schedule: { timeZone: 'Europe/Berlin', start: '08:00', stop: '20:00' } } }));
    expect(config.schedule).toEqual({ timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '08:00', stop: '20:00' });
  });

  test.each([['*'], ['MON,WED,FRI'], ['MON-SAT'], ['SUN,TUE-THU']])('the day field %s is accepted', (days) => {
    const [config] = loadDeployments(declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', days, start: '22:00', stop: '06:00' } } }));
    expect(config.schedule?.days).toBe(days);
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
      'Invalid configuration: geusemaker:deployments.MyStack = "MyStack": deployment names must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters'],
    ['a name with underscores', () => declared({ my_stack: { tier: 'dev' } }),
      'Invalid configuration: geusemaker:deployments.my_stack = "my_stack": deployment names must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters'],
    ['a name over 31 characters from -c name', () => context({ name: 'a'.repeat(32) }),
      `Invalid configuration: name = "${'a'.repeat(32)}": expected lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters`],
    ['an unknown tier', () => declared({ x: { tier: 'prod' } }),
      'Invalid configuration: geusemaker:deployments.x.tier = "prod": expected one of dev, automation, gpu, scale'],
    ['an unknown tier from -c tier', () => context({ name: 'x', tier: 'edge' }),
      'Invalid configuration: geusemaker:deployments.x.tier = "edge": expected one of dev, automation, gpu, scale'],
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
      'Invalid configuration: geusemaker:deployments.x: unknown setting "instancetype"; allowed: tier, env, vpcId, market, architecture, instanceSize, allowedCidrs, n8nOwnerEmail, bootstrapTimeoutMinutes, rootVolumeGiB, schedule, models, qdrantSnapshotMinutes, backups, retainedData, automation, gpu, scale'],
    ['two compute tiers at once', () => declared({ x: { tier: ['dev', 'gpu'] } }),
      'Invalid configuration: geusemaker:deployments.x.tier = ["dev","gpu"]: a deployment has exactly one compute tier at a time (one of dev, automation, gpu, scale)'],
    ['options of another tier', () => declared({ x: { tier: 'dev', gpu: { instanceTypes: ['g5.xlarge'] } } }),
      'Invalid configuration: geusemaker:deployments.x.gpu = {"instanceTypes":["g5.xlarge"]}: options for tier gpu given, but the tier is dev; a deployment has one compute tier at a time — remove them or set tier to gpu'],
    ['a name ending in a hyphen', () => declared({ 'my-stack-': { tier: 'dev' } }),
      'Invalid configuration: geusemaker:deployments.my-stack- = "my-stack-": deployment names must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters'],
    ['a name ending in a hyphen from -c name', () => context({ name: 'demo-' }),
      'Invalid configuration: name = "demo-": expected lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters'],
    ['the whole internet as an allowed CIDR', () => declared({ x: { tier: 'dev', allowedCidrs: ['203.0.113.0/24', '0.0.0.0/0'] } }),
      'Invalid configuration: geusemaker:deployments.x.allowedCidrs.1 = "0.0.0.0/0": expected specific networks such as 203.0.113.0/24, not /0 (every address); to serve n8n to everyone, use the automation tier without allowedCidrs'],
    ['any /0 as an allowed CIDR, on any tier', () => declared({ x: { tier: 'automation', allowedCidrs: ['10.0.0.0/0'] } }),
      'Invalid configuration: geusemaker:deployments.x.allowedCidrs.0 = "10.0.0.0/0": expected specific networks such as 203.0.113.0/24, not /0 (every address); to serve n8n to everyone, use the automation tier without allowedCidrs'],
    ['a backup schedule systemd would not parse safely', () => declared({ x: { tier: 'dev', backups: { schedule: 'daily; rm -rf /' } } }),
      'Invalid configuration: geusemaker:deployments.x.backups.schedule = "daily; rm -rf /": expected a systemd calendar expression such as "*-*-* 03:00:00" or "daily"'],
    ['no backup sets kept', () => declared({ x: { tier: 'dev', backups: { keep: 0 } } }),
      'Invalid configuration: geusemaker:deployments.x.backups.keep = 0: expected a whole number of sets from 1 to 365'],
    ['a CIDR with host bits set', () => declared({ x: { tier: 'dev', allowedCidrs: ['10.0.0.1/24'] } }),
      'Invalid configuration: geusemaker:deployments.x.allowedCidrs.0 = "10.0.0.1/24": host bits are set; expected the network address 10.0.0.0/24'],
    ['a CIDR with host bits set beyond an octet boundary', () => declared({ x: { tier: 'dev', allowedCidrs: ['198.51.100.77/26'] } }),
      'Invalid configuration: geusemaker:deployments.x.allowedCidrs.0 = "198.51.100.77/26": host bits are set; expected the network address 198.51.100.64/26'],
    ['an instance size on gpu, which runs GPU instance types', () => declared({ x: { tier: 'gpu', instanceSize: 'large' } }),
      'Invalid configuration: geusemaker:deployments.x.instanceSize = "large": the gpu tier runs GPU instance types, not CPU sizes: remove instanceSize and list the types in gpu.instanceTypes (e.g. ["g5.xlarge"])'],
    ['a certificate CloudFront cannot serve (not in us-east-1)', () => declared({ x: { tier: 'automation', automation: { domainName: 'n8n.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab' } } }),
      'Invalid configuration: geusemaker:deployments.x.automation.certificateArn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab": CloudFront serves ACM certificates from us-east-1 only, this one is in eu-west-1: request or import it in us-east-1'],
    ['a domain of one\'s own without its certificate', () => declared({ x: { tier: 'gpu', gpu: { domainName: 'n8n.example.com' } } }),
      'Invalid configuration: geusemaker:deployments.x.gpu.domainName = "n8n.example.com": a domain of your own needs gpu.certificateArn too (an ACM certificate for it in us-east-1); remove domainName to use the distribution\'s own *.cloudfront.net name'],
    ['a certificate without the domain it names', () => declared({ x: { tier: 'automation', automation: { certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab' } } }),
      'Invalid configuration: geusemaker:deployments.x.automation.certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab": a certificate needs automation.domainName too (the name it was issued for); remove certificateArn to use the distribution\'s own *.cloudfront.net name'],
    ['gpu options on automation', () => declared({ x: { tier: 'automation', gpu: { originReadTimeoutSeconds: 120 } } }),
      'Invalid configuration: geusemaker:deployments.x.gpu = {"originReadTimeoutSeconds":120}: options for tier gpu given, but the tier is automation; a deployment has one compute tier at a time — remove them or set tier to gpu'],
    ['automation options on dev', () => declared({ x: { tier: 'dev', automation: { idleTimeoutSeconds: 120 } } }),
      'Invalid configuration: geusemaker:deployments.x.automation = {"idleTimeoutSeconds":120}: options for tier automation given, but the tier is dev; a deployment has one compute tier at a time — remove them or set tier to automation'],
    ['automation options on gpu', () => declared({ x: { tier: 'gpu', automation: { idleTimeoutSeconds: 120 } } }),
      'Invalid configuration: geusemaker:deployments.x.automation = {"idleTimeoutSeconds":120}: options for tier automation given, but the tier is gpu; a deployment has one compute tier at a time — remove them or set tier to automation'],
    ['an unknown architecture', () => declared({ x: { tier: 'dev', architecture: 'aarch64' } }),
      'Invalid configuration: geusemaker:deployments.x.architecture = "aarch64": expected one of arm64, x86_64'],
    ['arm64 on gpu', () => declared({ x: { tier: 'gpu', architecture: 'arm64' } }),
      'Invalid configuration: geusemaker:deployments.x.architecture = "arm64": the gpu tier runs x86_64 only (its Deep Learning AMI and NVIDIA instance types): remove architecture, or use the dev or automation tier for arm64'],
    ['a root volume below 20 GiB', () => declared({ x: { tier: 'dev', rootVolumeGiB: 19 } }),
      'Invalid configuration: geusemaker:deployments.x.rootVolumeGiB = 19: expected 20 to 1000 GiB'],
    ['a time zone that is no IANA name', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'CET+1', start: '08:00', stop: '20:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.timeZone = "CET+1": expected an IANA time zone name such as Europe/Berlin, America/New_York or UTC'],
    ['a time zone the IANA database does not know', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'Mars/Olympus_Mons', start: '08:00', stop: '20:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.timeZone = "Mars/Olympus_Mons": expected an IANA time zone name such as Europe/Berlin, America/New_York or UTC'],
    ['a start time that is no HH:MM', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', start: '8am', stop: '20:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.start = "8am": expected a time of day HH:MM from 00:00 to 23:59, such as 08:00'],
    ['a stop time past midnight', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', start: '08:00', stop: '24:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.stop = "24:00": expected a time of day HH:MM from 00:00 to 23:59, such as 20:00'],
    ['the same start and stop time', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', start: '08:00', stop: '08:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.stop = "08:00": start and stop are both 08:00: the host would start and stop at once; set different times'],
    ['days that are no cron day names', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', days: 'weekdays', start: '08:00', stop: '20:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.days = "weekdays": expected "*" or day names SUN, MON, TUE, WED, THU, FRI, SAT as a list and/or ranges such as "MON-FRI" or "MON,WED,FRI"'],
    ['a day range running backwards', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', days: 'FRI-MON', start: '08:00', stop: '20:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.days = "FRI-MON": expected "*" or day names SUN, MON, TUE, WED, THU, FRI, SAT as a list and/or ranges such as "MON-FRI" or "MON,WED,FRI"; a range runs forwards within one week (SUN first), so "FRI-MON" is not one'],
    ['a schedule without its stop time', () => declared({ x: { tier: 'dev', schedule: { timeZone: 'UTC', start: '08:00' } } }),
      'Invalid configuration: geusemaker:deployments.x.schedule.stop = (missing): expected a time of day HH:MM from 00:00 to 23:59, such as 20:00'],
    ['no deployment at all', () => context({}),
      'Invalid configuration: geusemaker:deployments declares no deployment; add one in cdk.json or pass -c name=<name>'],
  ];

  test.each(cases)('%s', (_name, read, expected) => {
    const message = errorOf(read() as (key: string) => unknown);
    expect(message).toBe(expected);
    expect(message.split('\n')).toHaveLength(1);
  });
});

describe('every setting a tier accepts is honoured, every other one refused', () => {
  test('a tier switch with -c tier refuses the settings the new tier would ignore, one line each (allowedCidrs is honoured on gpu)', () => {
    const message = errorOf(declared({ team: { tier: 'dev', instanceSize: 'xlarge', allowedCidrs: ['203.0.113.0/24'] } }, { name: 'team', tier: 'gpu' }));
    expect(message.split('\n').map((line) => line.split(' = ')[0])).toEqual([
      'Invalid configuration: geusemaker:deployments.team.instanceSize',
    ]);
  });

  test('gpu without instanceSize or allowedCidrs: their defaults alone are not a setting the user gave', () => {
    const [config] = loadDeployments(declared({ big: { tier: 'gpu', market: 'on-demand' } }));
    expect(config).toMatchObject({ tier: 'gpu', market: 'on-demand' });
  });

  test.each([
    ['dev', { instanceSize: 'xlarge', allowedCidrs: ['203.0.113.0/24'], market: 'on-demand', models: ['qwen2.5:0.5b'], qdrantSnapshotMinutes: 30 }],
    ['automation', { instanceSize: 'xlarge', allowedCidrs: ['203.0.113.0/24'], automation: { idleTimeoutSeconds: 120 } }],
    ['gpu', { market: 'on-demand', gpu: { instanceTypes: ['g5.xlarge'] }, rootVolumeGiB: 200 }],
    // CloudFront enforces allowedCidrs at the edge on gpu as on automation.
    ['gpu', { allowedCidrs: ['203.0.113.0/24'], gpu: { domainName: 'n8n.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab' } }],
  ])('%s accepts the settings it honours', (tier, settings) => {
    const [config] = loadDeployments(declared({ x: { tier, ...settings } }));
    expect(config).toMatchObject({ tier, ...settings });
  });
});
