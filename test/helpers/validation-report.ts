import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { withoutValidationOutput } from './quiet-synthesis';

/** The validation report CDK writes next to the templates (cdk-nag, built-in validation, annotations). */
export interface Report {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{ ruleName: string; severity?: string; violatingConstructs: Array<{ constructPath: string }> }>;
    suppressedViolations?: Array<{ ruleName: string; reason: string; acknowledgedAt: string; violatingConstructs?: Array<{ constructPath: string }> }>;
  }>;
}

/** Synthesizes `app` into `outdir` (every check runs) and returns the error synthesis threw, if any, and the report (CDK's own printout of it is left out). */
export function synthWithReport(app: App, outdir: string): { error?: Error; report: Report } {
  let error: Error | undefined;
  try {
    withoutValidationOutput(() => app.synth());
  } catch (e) {
    error = e as Error;
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
  return { error, report };
}
