/** `gm-ops list`. */
import type { CommandIO } from '../command-io';
import { ExitCode } from '../errors';
import { listJson, renderList } from './render';
import { gatherRows } from './rows';

export async function runList(io: CommandIO, options: { json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start('Reading GeuseMaker stacks…');
  try {
    const { region, rows } = await gatherRows(io.aws());
    spinner.stop();
    io.write(options.json ? `${JSON.stringify(listJson(rows, region), null, 2)}\n` : renderList(rows, region, io.style));
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
