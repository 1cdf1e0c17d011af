import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../lib/app';
import { PIPELINES_CONTEXT_KEY } from '../../lib/config/pipeline-schema';
import { GeusePipelineStack } from '../../lib/pipeline/pipeline-stack';
import { pipelineStackName } from '../../ops/src/contract';
import { contextWith } from '../helpers/app';
import { Report, synthWithReport } from '../helpers/validation-report';
import { tempDir } from '../helpers/temp-dirs';

export const PIPELINE_ACCOUNT = '111111111111';
export const PROD_ACCOUNT = '222222222222';
export const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/12345678-1234-1234-1234-123456789012';

/** The example of the README: a CodeStar connection, the default environments, everything in one account and region. */
export const EXAMPLE_PIPELINE = {
  account: PIPELINE_ACCOUNT,
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  source: { type: 'codestar-connection', connectionArn: CONNECTION_ARN, repository: 'my-org/geusemaker', branch: 'main' },
  deployment: { tier: 'dev', models: ['llama3.2:1b'] },
  environments: {
    dev: {},
    staging: { deployment: { market: 'on-demand' } },
    prod: { deployment: { market: 'on-demand', instanceSize: 'xlarge' } },
  },
  notifications: { email: 'ops@example.com' },
};

export type { Report } from '../helpers/validation-report';

export interface SynthesizedPipeline {
  readonly app: App;
  readonly stack: GeusePipelineStack;
  readonly outdir: string;
  readonly error?: Error;
  readonly report: Report;
}

/** The app of the shipped cdk.json plus these pipelines, built by buildApp (as `cdk synth` does). */
export function pipelineApp(pipelines: Record<string, unknown>, extra: Record<string, unknown> = {}): { app: App; outdir: string } {
  const outdir = tempDir('geuse-pipeline-');
  const app = new App({ outdir, context: contextWith({ 'my-stack': { tier: 'dev' } }, { [PIPELINES_CONTEXT_KEY]: pipelines, ...extra }) });
  buildApp(app);
  return { app, outdir };
}

export function pipelineStackOf(app: App, name: string): GeusePipelineStack {
  const stack = app.node.tryFindChild(pipelineStackName(name));
  if (!(stack instanceof GeusePipelineStack)) throw new Error(`no pipeline stack ${pipelineStackName(name)}`);
  return stack;
}

/** Builds and synthesizes (every check runs); `addCanary` may add constructs before synthesis. */
export function synthPipeline(name: string, pipeline: Record<string, unknown>, addCanary?: (stack: GeusePipelineStack) => void): SynthesizedPipeline {
  const { app, outdir } = pipelineApp({ [name]: pipeline });
  const stack = pipelineStackOf(app, name);
  addCanary?.(stack);
  return { app, stack, outdir, ...synthWithReport(app, outdir) };
}

export function nagReport(report: Report) {
  const nag = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
  if (!nag) throw new Error('cdk-nag AwsSolutions did not run');
  return nag;
}

/** Every manifest of a cloud assembly, nested stage assemblies included. */
export function manifests(outdir: string): Array<{ dir: string; manifest: { artifacts: Record<string, { type: string; environment?: string; properties?: Record<string, unknown> }>; missing?: unknown[] } }> {
  const result = [];
  const root = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  result.push({ dir: outdir, manifest: root });
  for (const [id, artifact] of Object.entries(root.artifacts as Record<string, { type: string; properties?: { directoryName?: string } }>)) {
    if (artifact.type === 'cdk:cloud-assembly') result.push(...manifests(path.join(outdir, artifact.properties?.directoryName ?? id)));
  }
  return result;
}
