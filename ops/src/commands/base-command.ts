/**
 * The base of every gm-ops command (yarn berry / datadog-ci style): shared options (--region,
 * --profile), the command IO, and one place where any error becomes one line and an exit code.
 */
import { Command, Option, UsageError } from 'clipanion';
import type { AwsClients } from '../aws/clients';
import type { CommandIO } from '../command-io';
import type { OpsContext } from '../context';
import { ExitCode, Interrupted, OpsError, UsageProblem, formatErrorLine, oneLine } from '../errors';
import { createSpinner } from '../output/spinner';
import { createStyle } from '../output/style';
import { stderrColor } from '../output/terminal';
import { isRegion } from './validators';

export abstract class GmOpsCommand extends Command<OpsContext> {
  region = Option.String('--region', {
    description: 'AWS region (default: AWS_REGION, then the profile\u2019s region)',
    validator: isRegion,
  });

  profile = Option.String('--profile', { description: 'AWS profile (default: AWS_PROFILE)' });

  private clients?: AwsClients;

  /** The services and output of this run, for the command's implementation module. */
  protected io(): CommandIO {
    const { services, stdout, stderr } = this.context;
    const style = createStyle(services.terminal.color);
    const errorStyle = createStyle(stderrColor(services.terminal));
    return {
      services,
      style,
      write: (text) => {
        stdout.write(text);
      },
      notice: (text) => {
        stderr.write(`${errorStyle.dim('gm-ops:')} ${oneLine(text)}\n`);
      },
      spinner: (json) => createSpinner(stderr, services.terminal, json),
      aws: () => (this.clients ??= services.aws({ region: this.region, profile: this.profile })),
    };
  }

  /** Every failure, including option validation, ends here: one line on stderr, the right exit code. */
  async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (error) {
      return this.report(error);
    }
  }

  private report(error: unknown): number {
    const { stderr, env, services } = this.context;
    let problem: OpsError;
    if (error instanceof UsageError) {
      problem = new UsageProblem(error.message, `see \`gm-ops ${this.path.join(' ')} --help\``);
    } else if (services.signal.aborted && !(error instanceof OpsError)) {
      problem = new Interrupted();
    } else {
      // Loaded only on failure: it is tiny, but keeps the happy path of --help lean.
      const { toOpsError } = require('../aws/classify-error') as typeof import('../aws/classify-error');
      problem = toOpsError(error, { profile: this.profile ?? (env.AWS_PROFILE || undefined) });
    }
    stderr.write(formatErrorLine(problem, stderrColor(services.terminal)));
    if (env.GM_OPS_DEBUG && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
    return problem.exitCode ?? ExitCode.failure;
  }
}
