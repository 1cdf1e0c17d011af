/** `gm-ops status <name>`: exit 0 when the deployment is fine, 1 when something needs attention. */
import type { CommandIO } from '../command-io';
import { ExitCode } from '../errors';
import { gatherStatus } from './gather';
import { renderStatus, statusJson } from './render';

export async function runStatus(io: CommandIO, options: { name: string; json: boolean }): Promise<number> {
  const spinner = io.spinner(options.json);
  spinner.start(`Reading ${options.name}…`);
  try {
    const report = await gatherStatus(io, options.name);
    spinner.stop();
    io.write(options.json ? `${JSON.stringify(statusJson(report), null, 2)}\n` : renderStatus(report, io.style, io.services.clock.now()));
    return report.healthy ? ExitCode.ok : ExitCode.failure;
  } finally {
    spinner.stop();
  }
}
