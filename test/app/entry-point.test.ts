import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
const TSX = path.join(REPO, 'node_modules', '.bin', 'tsx');

/** Runs the CDK entry point as `cdk synth` would: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR. */
function runApp(context: Record<string, unknown>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-app-'));
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
    expect(result.stderr.trim()).toBe('Invalid configuration: geusemaker:deployments.demo.tier = "edge": expected one of dev, automation, gpu');
    expect(result.stderr).not.toMatch(/\s+at\s/);
    expect(fs.readdirSync(result.outdir).filter((f) => f.endsWith('.template.json'))).toEqual([]);
  });
});
