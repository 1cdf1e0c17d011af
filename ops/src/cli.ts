/**
 * The gm-ops command line: every command is registered here, one line each.
 */
import { Builtins, Cli, UsageError } from 'clipanion';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackupCommand } from './commands/backup';
import { BackupsCommand } from './commands/backups';
import { CostCommand } from './commands/cost';
import { DriftCommand } from './commands/drift';
import { DrillCommand } from './commands/drill';
import { HealthCommand } from './commands/health';
import { HistoryCommand } from './commands/history';
import { ListCommand } from './commands/list';
import { InitCommand } from './commands/init';
import { LogsCommand } from './commands/logs';
import { MetricsCommand } from './commands/metrics';
import { MigrateCommand } from './commands/migrate';
import { RestoreCommand } from './commands/restore';
import { StartCommand } from './commands/start';
import { StatusCommand } from './commands/status';
import { StopCommand } from './commands/stop';
import type { OpsContext } from './context';
import { stderrColor } from './output/terminal';
import { GmOpsCli, normalizeArgv } from './output/usage-text';
import { ExitCode, UsageProblem, formatErrorLine, oneLine } from './errors';

export function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function createCli(color: boolean): Cli<OpsContext> {
  const cli = new GmOpsCli({ binaryLabel: 'gm-ops', binaryName: 'gm-ops', binaryVersion: version(), enableColors: color });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  cli.register(ListCommand);
  cli.register(StatusCommand);
  cli.register(LogsCommand);
  cli.register(HealthCommand);
  cli.register(CostCommand);
  cli.register(RestoreCommand);
  cli.register(HistoryCommand);
  cli.register(DriftCommand);
  cli.register(MetricsCommand);
  cli.register(InitCommand);
  cli.register(BackupCommand);
  cli.register(BackupsCommand);
  cli.register(MigrateCommand);
  cli.register(DrillCommand);
  cli.register(StopCommand);
  cli.register(StartCommand);
  return cli;
}

const COMMAND_NAMES = ['list', 'status', 'logs', 'health', 'cost', 'restore', 'history', 'drift', 'metrics', 'init', 'backup', 'backups', 'drill', 'stop', 'start', 'migrate', 'help'];

/** A parse error (unknown command or option, missing argument, invalid value) as one line. */
export function describeParseError(error: unknown, argv: readonly string[]): UsageProblem {
  const command = argv.find((arg) => !arg.startsWith('-'));
  const known = command !== undefined && COMMAND_NAMES.includes(command);
  const helpHint = known ? `see \`gm-ops ${command} --help\`` : `commands: ${COMMAND_NAMES.join(', ')}; see \`gm-ops --help\``;
  const message = error instanceof Error ? error.message : String(error);
  const first = oneLine(error instanceof UsageError ? message : message.split('\n')[0]).replace(/[.:;]\s*$/, '');
  if (/^Command not found/.test(first)) {
    return new UsageProblem(known ? `invalid arguments for "${command}"` : command ? `unknown command "${command}"` : 'no command given', helpHint);
  }
  return new UsageProblem(clarify(first), helpHint);
}

/** Clipanion's parse messages, in our words. */
function clarify(message: string): string {
  const rewrites: [RegExp, (...groups: string[]) => string][] = [
    [/^Unsupported option name \("(.+)"\)$/, (option) => `unknown option "${option}"`],
    [/^Not enough positional arguments$/, () => 'missing the deployment name (e.g. my-stack)'],
    [/^Extraneous positional argument \("(.+)"\)$/, (arg) => `unexpected argument "${arg}"`],
    [/^Not enough arguments to option (\S+)$/, (option) => `option ${option} needs a value`],
    [/^Invalid value for name: (.*)$/, (rest) => `invalid deployment name: ${rest}`],
  ];
  for (const [pattern, rewrite] of rewrites) {
    const match = pattern.exec(message);
    if (match) return rewrite(...match.slice(1));
  }
  return message;
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(givenArgv: readonly string[], context: OpsContext): Promise<number> {
  const argv = normalizeArgv(givenArgv);
  const color = context.services.terminal.color;
  const cli = createCli(color);
  if (argv.length === 0) {
    context.stdout.write(cli.usage(null, { colored: color }));
    return ExitCode.ok;
  }
  let command;
  try {
    command = cli.process([...argv], context);
  } catch (error) {
    context.stderr.write(formatErrorLine(describeParseError(error, argv), stderrColor(context.services.terminal)));
    return ExitCode.usage;
  }
  return cli.run(command, context);
}
