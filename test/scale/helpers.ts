import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { DeploymentStacks } from '../../lib/deployment-stacks';
import { SCALE_HOLD_CONTEXT_KEY } from '../../ops/src/contract';
import { contextWith } from '../helpers/app';
import { tempDir } from '../helpers/temp-dirs';
import { Report, synthWithReport } from '../helpers/validation-report';

export interface ScaleTemplates {
  readonly data: Template;
  readonly scaleData: Template;
  readonly compute: Template;
  readonly stacks: DeploymentStacks;
}

export interface ScaleSynthesis {
  readonly error?: Error;
  readonly report: Report;
  /** The three templates of one deployment of the app. */
  of(name: string): ScaleTemplates;
}

/** Every scale shape the tests look at, each its own deployment of one app: one synthesis per test file. */
export const SCALE_SHAPES: Record<string, Record<string, unknown>> = {
  // Defaults: one main, workers 1..4 at concurrency 10, no webhook processors, single-AZ database.
  demo: { tier: 'scale' },
  // Webhook processors, Multi-AZ, no deletion protection, pinned environment, bounds and concurrency set.
  busy: {
    tier: 'scale',
    env: { account: '123456789012', region: 'eu-west-1' },
    allowedCidrs: ['203.0.113.0/24'],
    scale: {
      workers: { min: 2, max: 8, concurrency: 20, cpu: 1024, memoryMiB: 4096, architecture: 'x86_64' },
      webhooks: { count: 2 },
      database: { multiAz: true, deletionProtection: false, instanceClass: 'db.t4g.small' },
    },
  },
  // Held by gm-ops migrate: every service at 0 tasks.
  held: { tier: 'scale' },
};

let cached: ScaleSynthesis | undefined;

/** Synthesizes SCALE_SHAPES once (every check runs) and returns the report and each deployment's templates. */
export function synthScale(): ScaleSynthesis {
  if (cached) return cached;
  const outdir = tempDir('gm-scale-');
  const app = new App({
    outdir,
    context: contextWith(SCALE_SHAPES, {
      [SCALE_HOLD_CONTEXT_KEY]: 'held',
      // The pinned deployment's availability zones, as `cdk synth` with credentials would have cached them.
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a', 'eu-west-1b'],
    }),
  });
  const all = buildApp(app);
  const { error, report } = synthWithReport(app, outdir);
  const byName = new Map(all.map((stacks) => [stacks.data.deployment, stacks]));
  const templates = new Map<string, ScaleTemplates>();
  cached = {
    error,
    report,
    of(name: string): ScaleTemplates {
      const found = templates.get(name);
      if (found) return found;
      const stacks = byName.get(name);
      if (!stacks?.scaleData) throw new Error(`no scale deployment ${name}`);
      const result = {
        stacks,
        data: Template.fromStack(stacks.data),
        scaleData: Template.fromStack(stacks.scaleData),
        compute: Template.fromStack(stacks.compute),
      };
      templates.set(name, result);
      return result;
    },
  };
  return cached;
}

/** Every container definition of a template's task definitions, with its task definition's logical id. */
export function containers(template: Template): Array<Record<string, any> & { task: string }> {
  return Object.entries(template.findResources('AWS::ECS::TaskDefinition'))
    .flatMap(([task, resource]) => resource.Properties.ContainerDefinitions.map((c: Record<string, unknown>) => ({ ...c, task })));
}

/** The ECS service whose logical id starts with `prefix` (Main, Workers, Webhooks). */
export function service(template: Template, prefix: string): Record<string, any> {
  const entry = Object.entries(template.findResources('AWS::ECS::Service')).find(([id]) => id.startsWith(prefix));
  if (!entry) throw new Error(`no ECS service ${prefix}`);
  return entry[1].Properties;
}
