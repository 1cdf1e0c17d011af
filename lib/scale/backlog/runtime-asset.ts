import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

/** The function's sources: plain TypeScript using only Node's own modules and the AWS SDK the Lambda runtime ships. */
export const BACKLOG_RUNTIME_DIR = path.join(__dirname, 'runtime');

/**
 * The backlog function's code, compiled at synthesis: each runtime/*.ts transpiled on its own (the repository's
 * TypeScript, CommonJS, ES2022; no bundler) into a folder named after a hash of the sources, which becomes the
 * Lambda asset. The same sources always give the same folder and so the same asset hash. Type checking is
 * `npm run typecheck`'s job (tsconfig.json covers lib/**), not synthesis's.
 */
export function compiledBacklogRuntime(sourceDir: string = BACKLOG_RUNTIME_DIR): string {
  const sources = fs.readdirSync(sourceDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  if (sources.length === 0) throw new Error(`backlog function: no TypeScript sources in ${sourceDir}`);
  const hash = crypto.createHash('sha256');
  hash.update(ts.version);
  const texts = sources.map((file) => {
    const text = fs.readFileSync(path.join(sourceDir, file), 'utf8');
    hash.update(file).update('\0').update(text).update('\0');
    return { file, text };
  });
  const outDir = path.join(os.tmpdir(), `geusemaker-backlog-${hash.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(path.join(outDir, '.complete'))) return outDir;

  const staging = fs.mkdtempSync(`${outDir}.tmp-`);
  for (const { file, text } of texts) {
    const out = ts.transpileModule(text, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true, sourceMap: false },
    });
    const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (errors.length > 0) {
      throw new Error(`backlog function: ${file}: ${ts.flattenDiagnosticMessageText(errors[0].messageText, ' ')}`);
    }
    fs.writeFileSync(path.join(staging, file.replace(/\.ts$/, '.js')), out.outputText);
  }
  fs.writeFileSync(path.join(staging, '.complete'), '');
  try {
    fs.renameSync(staging, outDir);
  } catch {
    // Another synthesis made the same folder first: its content is the same.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return outDir;
}
