import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app';
import { DeploymentStacks } from '../../lib/deployment-stacks';
import { tempDir } from './temp-dirs';
import { DEPLOYMENTS_CONTEXT_KEY } from '../../lib/config/load-config';
import { withoutExpectedWarnings } from './quiet-synthesis';

/** The feature flags and defaults of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
  return cdkJson.context;
}

/** Context declaring exactly these deployments (the cdk.json flags kept). */
export function contextWith(deployments: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...cdkJsonContext(), [DEPLOYMENTS_CONTEXT_KEY]: deployments, ...extra };
}

export interface SynthesizedDeployment {
  readonly app: App;
  readonly stacks: DeploymentStacks;
  readonly data: Template;
  readonly compute: Template;
}

/** Syntheses already made in this test file (jest gives each file its own module instance), by their arguments. */
const synthesized = new Map<string, SynthesizedDeployment>();

/**
 * Builds the app for one deployment and returns its two templates (synthesis runs every check). Each shape is
 * synthesized once per test file: the same arguments return the same, read-only result.
 */
export function synthDeployment(name: string, settings: Record<string, unknown>, extra: Record<string, unknown> = {}): SynthesizedDeployment {
  const key = JSON.stringify([name, settings, extra]);
  const cached = synthesized.get(key);
  if (cached !== undefined) return cached;
  const app = new App({ outdir: tempDir('gm-app-'), context: contextWith({ [name]: settings }, extra) });
  const [stacks] = buildApp(app);
  const result = withoutExpectedWarnings(() => ({
    app,
    stacks,
    data: Template.fromStack(stacks.data),
    compute: Template.fromStack(stacks.compute),
  }));
  synthesized.set(key, result);
  return result;
}

/** Context a `cdk synth` with credentials would have cached for `Vpc.fromLookup` of an existing VPC. */
export function existingVpcContext(account: string, region: string, vpcId: string, withPrivateSubnets = false): Record<string, unknown> {
  const privateGroup = {
    name: 'Private',
    type: 'Private',
    subnets: [
      { subnetId: 'subnet-0ccc3333cccc33333', cidr: '10.20.2.0/24', availabilityZone: `${region}a`, routeTableId: 'rtb-0ccc3333cccc33333' },
      { subnetId: 'subnet-0ddd4444dddd44444', cidr: '10.20.3.0/24', availabilityZone: `${region}b`, routeTableId: 'rtb-0ddd4444dddd44444' },
    ],
  };
  return {
    [`vpc-provider:account=${account}:filter.vpc-id=${vpcId}:region=${region}:returnAsymmetricSubnets=true`]: {
      vpcId,
      vpcCidrBlock: '10.20.0.0/16',
      ownerAccountId: account,
      availabilityZones: [],
      subnetGroups: [{
        name: 'Public',
        type: 'Public',
        subnets: [
          { subnetId: 'subnet-0aaa1111aaaa11111', cidr: '10.20.0.0/24', availabilityZone: `${region}a`, routeTableId: 'rtb-0aaa1111aaaa11111' },
          { subnetId: 'subnet-0bbb2222bbbb22222', cidr: '10.20.1.0/24', availabilityZone: `${region}b`, routeTableId: 'rtb-0bbb2222bbbb22222' },
        ],
      }, ...(withPrivateSubnets ? [privateGroup] : [])],
    },
  };
}

/**
 * The warnings of a synthesized stack, read from the assembly the app already wrote (`Annotations.fromStack` would
 * synthesize the whole app once more).
 */
export function warningsOf(app: App, stack: Stack): Array<{ path: string; message: string }> {
  const artifact = app.synth().getStackArtifact(stack.artifactId);
  return artifact.messages
    .filter((m) => m.level === 'warning')
    .map((m) => ({ path: m.id, message: String(m.entry.data) }));
}
