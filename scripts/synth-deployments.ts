/**
 * `npx tsx scripts/synth-deployments.ts <outdir> '<json>'`: synthesizes, offline and in one process, several
 * independent sets of deployments, `{ "<set>": { "<name>": <deployment settings>, ... }, ... }`, each as its own app
 * with cdk.json's context, into `<outdir>/<set>/<stack>.template.json` — what `cdk synth -c geusemaker:deployments=…`
 * would write, without the CLI's start-up per set (gm-ops' cost tests price these templates).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { ConfigError, DEPLOYMENTS_CONTEXT_KEY } from '../lib/config/load-config';

function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
}

export function synthDeploymentSets(outdir: string, sets: Record<string, Record<string, unknown>>): void {
  for (const [set, deployments] of Object.entries(sets)) {
    const assemblyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'geuse-synth-set-'));
    try {
      const app = new App({ outdir: assemblyDir, context: { ...cdkJsonContext(), [DEPLOYMENTS_CONTEXT_KEY]: deployments } });
      buildApp(app);
      const assembly = app.synth();
      const dir = path.join(outdir, set);
      fs.mkdirSync(dir, { recursive: true });
      for (const stack of assembly.stacks) fs.copyFileSync(stack.templateFullPath, path.join(dir, path.basename(stack.templateFile)));
    } finally {
      fs.rmSync(assemblyDir, { recursive: true, force: true });
    }
  }
}

if (require.main === module) {
  const [outdir, json] = process.argv.slice(2);
  if (outdir === undefined || json === undefined || process.argv.length > 4) {
    process.stderr.write('usage: npx tsx scripts/synth-deployments.ts <outdir> \'{"<set>":{"<name>":{"tier":"dev"}}}\'\n');
    process.exit(2);
  }
  try {
    synthDeploymentSets(path.resolve(outdir), JSON.parse(json));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
