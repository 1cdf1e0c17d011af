/** A system test (npm run test:system, run by CI): the CDK entry point as a real process, as `cdk synth` starts it. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../helpers/temp-dirs';

const REPO = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

/** Runs the CDK entry point as `cdk synth` would: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR. */
function runApp(context: Record<string, unknown>) {
  const outdir = tempDir('gm-app-');
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8'));
  const result = spawnSync(TSX, [path.join(REPO, 'bin', 'geusemaker.ts')], {
    cwd: REPO,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...context }) },
  });
  return { ...result, outdir };
}

describe('the CDK entry point', () => {
  test('with no credentials and the shipped config, writes the data and dev templates, dev depending on data', () => {
    const result = runApp({});
    expect(result.status).toBe(0);
    expect(fs.existsSync(path.join(result.outdir, 'GeuseData-my-stack.template.json'))).toBe(true);
    expect(fs.existsSync(path.join(result.outdir, 'GeuseDev-my-stack.template.json'))).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(result.outdir, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts['GeuseDev-my-stack'].dependencies).toContain('GeuseData-my-stack');
  });

  test('a bad value fails with exactly one line naming field, value and what is allowed, and no stack trace', () => {
    const result = runApp({ name: 'demo', tier: 'edge' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('Invalid configuration: geusemaker:deployments.demo.tier = "edge": expected one of dev, automation, gpu, scale');
    expect(result.stderr).not.toMatch(/\s+at\s/);
    expect(fs.readdirSync(result.outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
  });

  test.each([
    ['n8n open to the whole internet on dev', { 'geusemaker:deployments': { demo: { tier: 'dev', allowedCidrs: ['0.0.0.0/0'] } } },
      'Invalid configuration: geusemaker:deployments.demo.allowedCidrs.0 = "0.0.0.0/0": expected specific networks such as 203.0.113.0/24, not /0 (every address); to serve n8n to everyone, use the automation tier without allowedCidrs'],
    ['a name ending in a hyphen', { name: 'demo-' },
      'Invalid configuration: name = "demo-": expected lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, at most 31 characters'],
  ])('%s: one line at config time, exit 1, nothing written', (_case, context, expected) => {
    const result = runApp(context);
    expect(result.stderr.trim()).toBe(expected);
    expect(result.status).toBe(1);
    expect(fs.readdirSync(result.outdir)).toEqual([]);
  });
});
