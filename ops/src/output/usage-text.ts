/**
 * Clipanion's usage text in our words: an option's value is named (`--since <duration|time>`, not
 * clipanion's `--since #0`), and a list of names is `[<name>...]`, not `...`.
 */
import { Cli, type CommandClass } from 'clipanion';
import type { OpsContext } from '../context';

const VALUE_NAMES: Record<string, string> = {
  '--region': '<region>',
  '--profile': '<profile>',
  '--service': '<service>',
  '--since': '<duration|time>',
  '--tail': '<lines>',
  '--interval': '<duration>',
  '--timeout': '<duration>',
  '--template': '<file>',
  '--cache-dir': '<dir>',
  '--tier': '<tier>',
  '--file-system': '<fs-id>',
  '--limit': '<count>',
};

/** `-s,--service #0` → `-s,--service <service>`. */
export function nameOptionValues(text: string): string {
  return text.replace(/((?:-[\w-]+,)*(--?[\w-]+)) #0/g, (_match, names: string, last: string) => `${names} ${VALUE_NAMES[last] ?? '<value>'}`);
}

/** A trailing `...` (Option.Rest) → `[<name>...]`. */
export function nameRest(text: string, restName = 'name'): string {
  return text.replace(/ \.\.\.$/, ` [<${restName}>...]`);
}

export class GmOpsCli extends Cli<OpsContext> {
  protected getUsageByRegistration(klass: CommandClass<OpsContext>, opts?: { detailed?: boolean; inlineOptions?: boolean }) {
    const { usage, options } = super.getUsageByRegistration(klass, opts);
    return {
      usage: nameRest(nameOptionValues(usage)),
      options: options.map((option) => ({ ...option, definition: nameOptionValues(option.definition) })),
    };
  }

  protected getUsageByIndex(n: number, opts?: { detailed?: boolean; inlineOptions?: boolean }) {
    const { usage, options } = super.getUsageByIndex(n, opts);
    return {
      usage: nameRest(nameOptionValues(usage)),
      options: options.map((option) => ({ ...option, definition: nameOptionValues(option.definition) })),
    };
  }
}

/**
 * What the user meant, before clipanion parses it: `gm-ops help [command]` is `--help`, and a value
 * that starts with a minus (`--tail -1`, `--since -5m`) is the option's value — to be rejected by its
 * validator with a reason — rather than an unknown option.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  if (argv[0] === 'help') return [...argv.slice(1), '--help'];
  const result: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (/^--[\w-]+$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      result.push(`${arg}=${next}`);
      i += 1;
    } else {
      result.push(arg);
    }
  }
  return result;
}
