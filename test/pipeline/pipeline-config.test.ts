import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DEPLOYMENTS_CONTEXT_KEY, loadDeployments } from '../../lib/config/load-config';
import {
  PIPELINES_CONTEXT_KEY, PipelineConfig, availabilityZonesContextKey, loadPipelines,
} from '../../lib/config/pipeline-schema';
import { CONNECTION_ARN, EXAMPLE_PIPELINE, PIPELINE_ACCOUNT, PROD_ACCOUNT } from './helpers';

const BASE = {
  account: PIPELINE_ACCOUNT,
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  source: { type: 'codestar-connection', connectionArn: CONNECTION_ARN, repository: 'my-org/geusemaker', branch: 'main' },
};

function load(pipelines: unknown, extra: Record<string, unknown> = {}): PipelineConfig[] {
  const values: Record<string, unknown> = { [PIPELINES_CONTEXT_KEY]: pipelines, ...extra };
  const read = (key: string) => values[key];
  const deployments = values[DEPLOYMENTS_CONTEXT_KEY] !== undefined ? loadDeployments(read) : [];
  return loadPipelines(read, deployments);
}

/** The one-line message of the ConfigError that `pipelines` raise. */
function errorOf(pipelines: unknown, extra: Record<string, unknown> = {}): string {
  try {
    load(pipelines, extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('pipeline defaults', () => {
  let team: PipelineConfig;
  beforeAll(() => ([team] = load({ team: BASE })));

  test('no pipeline declared: nothing to build', () => {
    expect(load(undefined)).toEqual([]);
  });

  test('dev -> staging -> prod, each with its own deployment name, prod keeping the pipeline\'s name', () => {
    expect(team.environments.map((e) => [e.name, e.deployment.name])).toEqual([
      ['dev', 'team-dev'], ['staging', 'team-staging'], ['prod', 'team'],
    ]);
  });

  test('every environment in the pipeline\'s account and region, dev tier, a health gate; approval only before prod', () => {
    for (const env of team.environments) {
      expect(env).toMatchObject({ account: PIPELINE_ACCOUNT, region: 'eu-west-1', healthGate: { enabled: true, attempts: 3 } });
      expect(env.deployment).toMatchObject({ tier: 'dev', market: 'spot', env: { account: PIPELINE_ACCOUNT, region: 'eu-west-1' }, bootstrapTimeoutMinutes: 30 });
      expect(env.availabilityZones).toEqual(['eu-west-1a', 'eu-west-1b']);
    }
    expect(team.environments.map((e) => e.approval)).toEqual([false, false, true]);
    expect(team.crossAccount).toBe(false);
  });

  test('deployment settings: the pipeline\'s apply to every environment, an environment\'s override them key by key', () => {
    const [pipeline] = load({ team: EXAMPLE_PIPELINE });
    expect(pipeline.environments.map((e) => [e.deployment.market, e.deployment.instanceSize])).toEqual([
      ['spot', 'large'], ['on-demand', 'large'], ['on-demand', 'xlarge'],
    ]);
    expect(pipeline.notifications.email).toBe('ops@example.com');
  });

  test('each environment gets the tier configured for it, with that tier\'s defaults', () => {
    const [pipeline] = load({ team: { ...BASE, environments: { dev: {}, prod: { deployment: { tier: 'gpu' } } } } });
    expect(pipeline.environments.map((e) => [e.name, e.deployment.tier, e.deployment.bootstrapTimeoutMinutes])).toEqual([
      ['dev', 'dev', 30], ['prod', 'gpu', 45],
    ]);
  });

  test('a CodeCommit source, a JSON string from -c, explicit names and approvals', () => {
    const [pipeline] = load(JSON.stringify({
      ops: {
        ...BASE,
        source: { type: 'codecommit', repository: 'geusemaker', branch: 'release/1.x' },
        environments: { qa: { deploymentName: 'ops-qa', approval: true }, live: { deploymentName: 'ops-live' } },
      },
    }));
    expect(pipeline.source).toEqual({ type: 'codecommit', repository: 'geusemaker', branch: 'release/1.x' });
    expect(pipeline.environments.map((e) => [e.name, e.deployment.name, e.approval])).toEqual([['qa', 'ops-qa', true], ['live', 'ops-live', false]]);
  });

  test('an environment in another account: cross-account keys are needed, and its health gate assumes the configured role', () => {
    const roleArn = `arn:aws:iam::${PROD_ACCOUNT}:role/geuse-health-gate`;
    const [pipeline] = load({ team: { ...BASE, environments: { dev: {}, prod: { account: PROD_ACCOUNT, healthGate: { roleArn } } } } });
    expect(pipeline.crossAccount).toBe(true);
    expect(pipeline.environments[1]).toMatchObject({ account: PROD_ACCOUNT, healthGate: { enabled: true, roleArn } });
  });

  test('the same deployment name in different regions of one account does not collide', () => {
    const [pipeline] = load({
      team: { ...BASE, environments: { a: { deploymentName: 'team' }, b: { deploymentName: 'team', region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b'] } } },
    });
    expect(pipeline.environments.map((e) => `${e.region}/${e.deployment.name}`)).toEqual(['eu-west-1/team', 'us-east-1/team']);
  });

  test('availability zones may come from a committed cdk.context.json lookup instead of the config', () => {
    const { availabilityZones: _omitted, ...withoutZones } = BASE;
    const [pipeline] = load({ team: { ...withoutZones, environments: { dev: {} } } },
      { [availabilityZonesContextKey(PIPELINE_ACCOUNT, 'eu-west-1')]: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] });
    expect(pipeline.environments[0].availabilityZones).toBeUndefined();
  });
});

describe('pipeline config errors: one line naming field, value and what is allowed', () => {
  test('two environments sharing an account and region with the same deployment name collide', () => {
    expect(errorOf({ team: { ...BASE, environments: { staging: { deploymentName: 'team' }, prod: {} } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.prod.deploymentName = "team": stacks GeuseData-team and GeuseDev-team '
      + 'would collide with geusemaker:pipelines.team.environments.staging in 111111111111/eu-west-1; give each environment sharing an account and region its own deploymentName');
  });

  test('an environment colliding with a deployment of geusemaker:deployments pinned to the same account and region', () => {
    expect(errorOf({ team: { ...BASE, environments: { dev: {} } } }, {
      [DEPLOYMENTS_CONTEXT_KEY]: { 'team-dev': { tier: 'automation', env: { account: PIPELINE_ACCOUNT, region: 'eu-west-1' } } },
    })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.dev.deploymentName = "team-dev": stacks GeuseData-team-dev and GeuseDev-team-dev '
      + 'would collide with geusemaker:deployments.team-dev in 111111111111/eu-west-1; give each environment sharing an account and region its own deploymentName');
  });

  test('two pipelines deploying the same deployment name to one account and region collide', () => {
    expect(errorOf({ a: { ...BASE, environments: { prod: { deploymentName: 'shared' } } }, b: { ...BASE, environments: { prod: { deploymentName: 'shared' } } } }))
      .toMatch(/^Invalid configuration: geusemaker:pipelines\.b\.environments\.prod\.deploymentName = "shared": stacks GeuseData-shared and GeuseDev-shared would collide with geusemaker:pipelines\.a\.environments\.prod in 111111111111\/eu-west-1;/);
  });

  test('a bad connection ARN', () => {
    expect(errorOf({ team: { ...BASE, source: { ...BASE.source, connectionArn: 'arn:aws:codestar:eu-west-1:111111111111:connection/abc' } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.source.connectionArn = "arn:aws:codestar:eu-west-1:111111111111:connection/abc": '
      + 'expected a connection ARN (connection/ then the connection id, a UUID) such as '
      + 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789');
  });

  test('the example ARN that the connection ARN message gives passes the schema itself', () => {
    const message = errorOf({ team: { ...BASE, source: { ...BASE.source, connectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/<uuid>' } } });
    const example = /such as (\S+)$/.exec(message)?.[1];
    expect(example).toMatch(/^arn:/);
    const [team] = load({ team: { ...BASE, source: { ...BASE.source, connectionArn: example } } });
    expect(team.source).toMatchObject({ connectionArn: example });
  });

  test('a missing branch', () => {
    const { branch: _omitted, ...source } = BASE.source;
    expect(errorOf({ team: { ...BASE, source } })).toBe('Invalid configuration: geusemaker:pipelines.team.source.branch = (missing): expected a git branch name such as main');
  });

  test('a branch git would refuse', () => {
    expect(errorOf({ team: { ...BASE, source: { type: 'codecommit', repository: 'geusemaker', branch: 'feature..x' } } }))
      .toBe('Invalid configuration: geusemaker:pipelines.team.source.branch = "feature..x": expected a git branch name such as main');
  });

  test('an unknown tier in an environment', () => {
    expect(errorOf({ team: { ...BASE, environments: { dev: {}, prod: { deployment: { tier: 'edge' } } } } }))
      .toBe('Invalid configuration: geusemaker:pipelines.team.environments.prod.deployment.tier = "edge": expected one of dev, automation, gpu, scale');
  });

  test('a bad deployment setting from the pipeline\'s shared deployment names the environment it lands in', () => {
    expect(errorOf({ team: { ...BASE, deployment: { market: 'cheap' }, environments: { dev: {} } } }))
      .toBe('Invalid configuration: geusemaker:pipelines.team.environments.dev.deployment.market = "cheap": expected one of spot, on-demand');
  });

  test('an unknown source type', () => {
    expect(errorOf({ team: { ...BASE, source: { type: 's3', bucket: 'x' } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.source.type = "s3": expected type "codestar-connection" (connectionArn, repository, branch) or "codecommit" (repository, branch)');
  });

  test('pipeline account and region are required', () => {
    const { account: _omitted, ...rest } = BASE;
    expect(errorOf({ team: rest })).toBe('Invalid configuration: geusemaker:pipelines.team.account = (missing): expected a 12-digit AWS account id');
  });

  test('an existing VPC is refused: its lookup would need credentials at synthesis', () => {
    expect(errorOf({ team: { ...BASE, environments: { prod: { deployment: { vpcId: 'vpc-0abc1234' } } } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.prod.deployment.vpcId = "vpc-0abc1234": pipeline environments cannot use an existing VPC: '
      + 'its lookup needs AWS credentials at synth time; leave it out to create the deployment\'s own VPC');
  });

  test('env inside an environment\'s deployment is refused: the environment sets it', () => {
    expect(errorOf({ team: { ...BASE, environments: { prod: { deployment: { env: { account: PROD_ACCOUNT, region: 'eu-west-1' } } } } } }))
      .toMatch(/^Invalid configuration: geusemaker:pipelines\.team\.environments\.prod\.deployment\.env = \{.*\}: a pipeline environment sets its account and region with environments\.<env>\.account and \.region$/);
  });

  test('availability zones neither configured nor in cdk.context.json', () => {
    expect(errorOf({ team: { ...BASE, environments: { dev: {}, eu: { region: 'eu-central-1' } } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.eu.availabilityZones = (missing): the deployment\'s VPC spans 2 availability zones of '
      + '111111111111/eu-central-1, which synthesis would look up with AWS credentials; list them (e.g. ["eu-central-1a", "eu-central-1b"]; '
      + 'the pipeline\'s availabilityZones serve its own region) or commit that lookup in cdk.context.json');
  });

  test('availability zones of another region', () => {
    expect(errorOf({ team: { ...BASE, environments: { eu: { region: 'eu-central-1', availabilityZones: ['eu-central-1a', 'eu-west-1b'] } } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.eu.availabilityZones = ["eu-central-1a","eu-west-1b"]: eu-west-1b is not an availability zone of eu-central-1, the region of environment eu');
  });

  test('a cross-account environment whose health gate has no role to assume', () => {
    expect(errorOf({ team: { ...BASE, environments: { prod: { account: PROD_ACCOUNT } } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.prod.healthGate.roleArn = (missing): environment account 222222222222 differs from the pipeline account '
      + '111111111111: the health gate needs a role in 222222222222 to assume (see the README), or set healthGate.enabled to false');
  });

  test('a health gate role in another account than the environment\'s', () => {
    expect(errorOf({ team: { ...BASE, environments: { prod: { account: PROD_ACCOUNT, healthGate: { roleArn: 'arn:aws:iam::111111111111:role/gate' } } } } }))
      .toBe('Invalid configuration: geusemaker:pipelines.team.environments.prod.healthGate.roleArn = "arn:aws:iam::111111111111:role/gate": expected a role in the environment\'s account 222222222222');
  });

  test('a derived deployment name that is too long', () => {
    expect(errorOf({ 'a-pipeline-with-a-long-name': { ...BASE, environments: { integration: {} } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.a-pipeline-with-a-long-name.environments.integration.deploymentName = "a-pipeline-with-a-long-name-integration": '
      + 'the derived deployment name must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters; set deploymentName to a shorter one');
  });

  test('an unknown setting of an environment lists the allowed ones', () => {
    expect(errorOf({ team: { ...BASE, environments: { prod: { tier: 'gpu' } } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.prod: unknown setting "tier"; allowed: account, region, availabilityZones, deploymentName, approval, healthGate, deployment');
  });

  test('a bad environment name', () => {
    expect(errorOf({ team: { ...BASE, environments: { Prod: {} } } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments.Prod = "Prod": expected an environment name of lowercase letters, digits and hyphens, starting with a letter, at most 20 characters');
  });

  test('no environment at all', () => {
    expect(errorOf({ team: { ...BASE, environments: {} } })).toBe(
      'Invalid configuration: geusemaker:pipelines.team.environments = {}: expected at least one environment (default: dev, staging, prod)');
  });

  test('a bad pipeline name, and pipelines that are not an object', () => {
    expect(errorOf({ Team: BASE })).toBe(
      'Invalid configuration: geusemaker:pipelines.Team = "Team": pipeline names must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters');
    expect(errorOf('[1]')).toBe('Invalid configuration: geusemaker:pipelines = [1]: expected an object mapping pipeline names to their settings');
    expect(errorOf('{not json')).toBe('Invalid configuration: geusemaker:pipelines = "{not json": expected a JSON object of pipelines');
  });
});

describe('the README', () => {
  /** The pipeline example of README.md ("Promote through a pipeline"), exactly as a user would copy it into cdk.json. */
  function readmePipelines(): unknown {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes(`"${PIPELINES_CONTEXT_KEY}"`));
    expect(blocks).toHaveLength(1);
    return (JSON.parse(`{${blocks[0]}}`) as Record<string, unknown>)[PIPELINES_CONTEXT_KEY];
  }

  test('its pipeline example passes the pipeline schema as written', () => {
    const pipelines = load(readmePipelines());
    expect(pipelines.map((p) => p.name)).toEqual(['team']);
    expect(pipelines[0].environments.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
  });
});
