import { ConfigError, DEPLOYMENTS_CONTEXT_KEY, loadDeployments } from '../../lib/config/load-config';
import { fargateSizeProblem, scaleOptions } from '../../lib/config/scale-schema';

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab';
const declared = (deployments: Record<string, unknown>) => (key: string) => (key === DEPLOYMENTS_CONTEXT_KEY ? deployments : undefined);

function errorOf(deployments: Record<string, unknown>): string {
  try {
    loadDeployments(declared(deployments));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

test('defaults: one main of 0.5 vCPU / 2 GiB, arm64 workers 1..4 at concurrency 10, no webhook processors, the smallest Graviton database and node', () => {
  expect(scaleOptions(undefined)).toEqual({
    main: { cpu: 512, memoryMiB: 2048 },
    workers: { min: 1, max: 4, concurrency: 10, scaleOutBacklog: 2, architecture: 'arm64', cpu: 512, memoryMiB: 2048 },
    webhooks: { count: 0, cpu: 512, memoryMiB: 1024 },
    database: { instanceClass: 'db.t4g.micro', storageGiB: 20, multiAz: false, backupRetentionDays: 7, deletionProtection: true },
    queue: { nodeType: 'cache.t4g.micro' },
    idleTimeoutSeconds: 900,
  });
});

test('a scale deployment loads with its options, defaults filled in', () => {
  const [config] = loadDeployments(declared({ big: { tier: 'scale', scale: { workers: { max: 10 } } } }));
  expect(config.tier).toBe('scale');
  expect(scaleOptions(config.scale).workers).toMatchObject({ min: 1, max: 10, concurrency: 10 });
});

test('a domain of the user\'s own loads with its us-east-1 certificate, as on automation', () => {
  const [config] = loadDeployments(declared({ own: { tier: 'scale', scale: { domainName: 'n8n.example.com', certificateArn: CERT } } }));
  expect(scaleOptions(config.scale)).toMatchObject({ domainName: 'n8n.example.com', certificateArn: CERT });
  expect(scaleOptions(undefined).domainName).toBeUndefined();
});

test.each([
  ['scale options on another tier', { tier: 'automation', scale: { workers: { max: 2 } } },
    'Invalid configuration: geusemaker:deployments.x.scale = {"workers":{"max":2}}: options for tier scale given, but the tier is automation; a deployment has one compute tier at a time — remove them or set tier to scale'],
  ['a memory Fargate does not give that CPU', { tier: 'scale', scale: { main: { cpu: 512, memoryMiB: 512 } } },
    'Invalid configuration: geusemaker:deployments.x.scale.main.memoryMiB = 512: Fargate gives 512 CPU units 1024 to 4096 MiB in steps of 1024 (1024, 2048, 3072, 4096), not 512'],
  ['more workers at least than at most', { tier: 'scale', scale: { workers: { min: 5, max: 2 } } },
    'Invalid configuration: geusemaker:deployments.x.scale.workers.min = 5: min (5) is above max (2): set min at most max'],
  ['an architecture Fargate does not run', { tier: 'scale', scale: { workers: { architecture: 'aarch64' } } },
    'Invalid configuration: geusemaker:deployments.x.scale.workers.architecture = "aarch64": expected arm64 or x86_64'],
  ['a concurrency n8n warns about', { tier: 'scale', scale: { workers: { concurrency: 2 } } },
    'Invalid configuration: geusemaker:deployments.x.scale.workers.concurrency = 2: expected a whole number of executions from 5 to 100'],
  ['a host schedule on the scale tier', { tier: 'scale', schedule: { timeZone: 'UTC', start: '08:00', stop: '20:00' } },
    'Invalid configuration: geusemaker:deployments.x.schedule = {"timeZone":"UTC","start":"08:00","stop":"20:00"}: the scale tier\'s n8n runs on ECS, which a host schedule does not stop: remove schedule (set scale.workers.min to 0 to pay for no idle worker)'],
  ['an unknown scale setting', { tier: 'scale', scale: { workerz: {} } },
    'Invalid configuration: geusemaker:deployments.x.scale: unknown setting "workerz"; allowed: domainName, certificateArn, main, workers, webhooks, database, queue, idleTimeoutSeconds'],
  ['a domain of one\'s own without its certificate', { tier: 'scale', scale: { domainName: 'n8n.example.com' } },
    'Invalid configuration: geusemaker:deployments.x.scale.domainName = "n8n.example.com": a domain of your own needs scale.certificateArn too (an ACM certificate for it in us-east-1); remove domainName to use the distribution\'s own *.cloudfront.net name'],
  ['a certificate without the domain it names', { tier: 'scale', scale: { certificateArn: CERT } },
    `Invalid configuration: geusemaker:deployments.x.scale.certificateArn = "${CERT}": a certificate needs scale.domainName too (the name it was issued for); remove certificateArn to use the distribution's own *.cloudfront.net name`],
  ['a certificate CloudFront cannot serve (not in us-east-1)', { tier: 'scale', scale: { domainName: 'n8n.example.com', certificateArn: CERT.replace('us-east-1', 'eu-west-1') } },
    `Invalid configuration: geusemaker:deployments.x.scale.certificateArn = "${CERT.replace('us-east-1', 'eu-west-1')}": CloudFront serves ACM certificates from us-east-1 only, this one is in eu-west-1: request or import it in us-east-1`],
  ['a domain name that is not one', { tier: 'scale', scale: { domainName: 'N8N.Example.com', certificateArn: CERT } },
    'Invalid configuration: geusemaker:deployments.x.scale.domainName = "N8N.Example.com": expected a lowercase DNS name such as n8n.example.com'],
])('%s is refused in one line', (_what, settings, message) => {
  const error = errorOf({ x: settings });
  expect(error).toBe(message);
  expect(error.split('\n')).toHaveLength(1);
});

test('Fargate sizes follow its table: 0.25 vCPU up to 2 GiB, 4 vCPU from 8 GiB', () => {
  expect(fargateSizeProblem(256, 2048)).toBeUndefined();
  expect(fargateSizeProblem(256, 4096)).toMatch(/^Fargate gives 256 CPU units 512 to 2048 MiB/);
  expect(fargateSizeProblem(4096, 8192)).toBeUndefined();
  expect(fargateSizeProblem(3000, 8192)).toMatch(/^expected cpu 256, 512, 1024, 2048, 4096/);
});
