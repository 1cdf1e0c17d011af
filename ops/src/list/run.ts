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
    const scale = rows.some((r) => r.tier === 'scale') ? await import('../scale/list') : undefined;
    const summaries = scale ? await scale.scaleSummaries(io.aws(), rows) : [];
    spinner.stop();
    const json = summaries.length ? { ...listJson(rows, region), scale: summaries } : listJson(rows, region);
    io.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : renderList(rows, region, io.style) + (scale ? scale.renderScaleSummaries(summaries, io.style) : ''));
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
