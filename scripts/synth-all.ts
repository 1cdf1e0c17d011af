/**
 * `npx tsx scripts/synth-all.ts <outdir>`: synthesizes, offline, every shape of the app that cfn-lint must see —
 * each tier and its variants, the retained-data import path, environment-pinned stacks, and a promotion pipeline
 * whose stages are nested cloud assemblies — and copies every template into `<outdir>/<assembly>/<stack>.template.json`
 * (the cloud assembly itself is built in a temporary folder and removed). Prints one template path per line.
 * Synthesis runs every check of `cdk synth` (cdk-nag, the built-in validation), so a finding fails this script too.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Annotations, App } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { buildApp } from '../lib/app';
import { ConfigError, DEPLOYMENTS_CONTEXT_KEY } from '../lib/config/load-config';
import { PIPELINES_CONTEXT_KEY, availabilityZonesContextKey } from '../lib/config/pipeline-schema';
import { computeStackName } from '../ops/src/contract';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const ZONES = [`${REGION}a`, `${REGION}b`];
const PINNED = { account: ACCOUNT, region: REGION };
/** CloudFront serves ACM certificates from us-east-1 only. */
const CERTIFICATE_ARN = `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/0f8c6a1e-1234-4bcd-9abc-0123456789ab`;
const CONNECTION_ARN = `arn:aws:codeconnections:${REGION}:${ACCOUNT}:connection/12345678-1234-1234-1234-123456789012`;

/** One deployment per shape; the names only keep the stacks apart. */
export const LINTED_DEPLOYMENTS: Record<string, Record<string, unknown>> = {
  'lint-dev': { tier: 'dev' },
  'lint-dev-open': { tier: 'dev', allowedCidrs: ['203.0.113.0/24'], market: 'on-demand' },
  'lint-retained': { tier: 'dev', retainedData: { fileSystemId: 'fs-0123456789abcdef0' } },
  'lint-dev-x86': { tier: 'dev', architecture: 'x86_64', instanceSize: 'xlarge' },
  'lint-dev-sched': { tier: 'dev', schedule: { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '08:00', stop: '20:00' } },
  'lint-auto-sched': { tier: 'automation', schedule: { timeZone: 'America/New_York', days: 'MON,WED,FRI', start: '07:30', stop: '18:45' } },
  'lint-auto': { tier: 'automation' },
  'lint-auto-tls': { tier: 'automation', allowedCidrs: ['198.51.100.0/24'], automation: { certificateArn: CERTIFICATE_ARN, domainName: 'n8n.example.com' } },
  'lint-auto-pinned': { tier: 'automation', env: PINNED, automation: { certificateArn: CERTIFICATE_ARN, domainName: 'n8n.example.com' } },
  'lint-gpu': { tier: 'gpu' },
  'lint-gpu-open': { tier: 'gpu', allowedCidrs: ['198.51.100.0/24'], gpu: { certificateArn: CERTIFICATE_ARN, domainName: 'n8n.example.com' } },
  'lint-gpu-pinned': { tier: 'gpu', env: PINNED, gpu: { originReadTimeoutSeconds: 120 } },
  'lint-scale': { tier: 'scale' },
  'lint-scale-tls': { tier: 'scale', scale: { certificateArn: CERTIFICATE_ARN, domainName: 'n8n.example.com' } },
  'lint-scale-busy': { tier: 'scale', env: PINNED, allowedCidrs: ['198.51.100.0/24'], scale: { webhooks: { count: 1 }, workers: { min: 0, max: 6 }, database: { multiAz: true, deletionProtection: false } } },
};

/** A pipeline whose three stages hold the three tiers. */
export const LINTED_PIPELINES: Record<string, Record<string, unknown>> = {
  'lint-pipe': {
    account: ACCOUNT,
    region: REGION,
    availabilityZones: ZONES,
    source: { type: 'codestar-connection', connectionArn: CONNECTION_ARN, repository: 'my-org/geusemaker', branch: 'main' },
    environments: {
      dev: {},
      staging: { deployment: { tier: 'gpu' } },
      prod: { deployment: { tier: 'automation', automation: { certificateArn: CERTIFICATE_ARN, domainName: 'n8n.example.com' } } },
    },
    notifications: { email: 'ops@example.com' },
  },
};

function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
}

/** Synthesizes the whole set into `outdir`; returns the written template paths. */
export function synthAll(outdir: string): string[] {
  const assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'geuse-synth-all-'));
  try {
    const app = new App({
      outdir: assemblyDir,
      context: {
        ...cdkJsonContext(),
        [DEPLOYMENTS_CONTEXT_KEY]: LINTED_DEPLOYMENTS,
        [PIPELINES_CONTEXT_KEY]: LINTED_PIPELINES,
        // The pinned deployments' VPCs: what `cdk synth` with credentials would have cached.
        [availabilityZonesContextKey(ACCOUNT, REGION)]: ZONES,
      },
    });
    buildApp(app);
    const plainHttp = app.node.tryFindChild(computeStackName('automation', 'lint-auto'));
    if (plainHttp !== undefined) {
      Annotations.of(plainHttp).acknowledgeWarning('geusemaker:plain-http', 'Linted on purpose: the automation tier without a certificate.');
    }
    const assembly = app.synth();
    const written: string[] = [];
    copyTemplates(assembly, 'app', outdir, written);
    return written;
  } finally {
    fs.rmSync(assemblyDir, { recursive: true, force: true });
  }
}

/** Each stack template of `assembly` into `<outdir>/<group>/`, then each nested assembly (pipeline stage) into its own group. */
function copyTemplates(assembly: cxapi.CloudAssembly, group: string, outdir: string, written: string[]): void {
  const dir = path.join(outdir, group);
  for (const stack of assembly.stacks) {
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, path.basename(stack.templateFile));
    fs.copyFileSync(stack.templateFullPath, target);
    written.push(target);
  }
  for (const nested of assembly.nestedAssemblies) {
    copyTemplates(nested.nestedAssembly, nested.id, outdir, written);
  }
}

if (require.main === module) {
  const outdir = process.argv[2];
  if (outdir === undefined || process.argv.length > 3) {
    process.stderr.write('usage: npx tsx scripts/synth-all.ts <outdir>\n');
    process.exit(2);
  }
  try {
    for (const file of synthAll(path.resolve(outdir))) process.stdout.write(`${file}\n`);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
