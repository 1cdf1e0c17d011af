/**
 * A system test (npm run test:system, run by CI): the real CDK CLI, which takes seconds to start.
 *
 * `npx cdk synth GeusePipeline-<name> -c 'geusemaker:pipelines=<json>'` through the real CDK CLI, with no AWS
 * credentials, profile or instance metadata: a pipeline synthesizes offline, and a bad one fails in one line.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PIPELINES_CONTEXT_KEY } from '../../lib/config/pipeline-schema';
import { EXAMPLE_PIPELINE } from '../pipeline/helpers';
import { tempDir } from '../helpers/temp-dirs';

const REPO = path.resolve(__dirname, '..', '..');
const CDK = path.join(REPO, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/**
 * Runs in a scratch directory holding the repository's cdk.json (its app command made absolute), so the CLI reads the
 * same context and writes its cdk.context.json and cdk.out there, never into the repository.
 */
function cdkSynth(stack: string, pipelines: unknown) {
  const home = tempDir('geuse-cli-home-');
  const outdir = path.join(home, 'cdk.out');
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8'));
  cdkJson.app = `${JSON.stringify(path.join(REPO, 'node_modules', '.bin', 'tsx'))} ${JSON.stringify(path.join(REPO, 'bin', 'geusemaker.ts'))}`;
  fs.writeFileSync(path.join(home, 'cdk.json'), JSON.stringify(cdkJson));
  const result = spawnSync(process.execPath, [
    CDK, 'synth', stack, '--quiet', '--no-notices', '--no-version-reporting', '--output', outdir,
    '--context', `${PIPELINES_CONTEXT_KEY}=${JSON.stringify(pipelines)}`,
  ], {
    cwd: home,
    encoding: 'utf8',
    timeout: 120_000,
    // Nothing to find credentials with: no AWS_* variables, an empty home (no ~/.aws), no instance metadata.
    env: {
      PATH: process.env.PATH,
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CI: 'true',
    },
  });
  return { ...result, outdir };
}

test('cdk synth GeusePipeline-team works with no credentials and leaves no look-up pending', () => {
  const result = cdkSynth('GeusePipeline-team', { team: EXAMPLE_PIPELINE });
  expect(result.stderr).not.toMatch(/no credentials|Need to perform AWS calls/i);
  expect(result.status).toBe(0);
  const template = JSON.parse(fs.readFileSync(path.join(result.outdir, 'GeusePipeline-team.template.json'), 'utf8'));
  const pipeline = Object.values(template.Resources as Record<string, { Type: string; Properties: { Stages: Array<{ Name: string }> } }>)
    .find((r) => r.Type === 'AWS::CodePipeline::Pipeline')!;
  expect(pipeline.Properties.Stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'UpdatePipeline', 'Assets', 'dev', 'staging', 'prod']);
  for (const dir of ['', 'assembly-GeusePipeline-team-dev', 'assembly-GeusePipeline-team-staging', 'assembly-GeusePipeline-team-prod']) {
    const manifest = JSON.parse(fs.readFileSync(path.join(result.outdir, dir, 'manifest.json'), 'utf8'));
    expect(manifest.missing ?? []).toEqual([]);
  }
});

test('a bad pipeline config fails cdk synth with exactly one line naming field, value and what is allowed', () => {
  const result = cdkSynth('GeusePipeline-team', { team: { ...EXAMPLE_PIPELINE, source: { ...EXAMPLE_PIPELINE.source, branch: '' } } });
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain('Invalid configuration: geusemaker:pipelines.team.source.branch = "": expected a git branch name such as main\n');
  expect(result.stderr).not.toMatch(/\s+at\s.*\.ts:\d+/);
});
