/** One screen: each stack's drift with its drifted resources and properties, then the host's containers. */
import type { Style } from '../output/style';
import { renderTable } from '../output/table';
import type { DriftResult } from './run';

export function renderDrift(result: DriftResult, drifted: boolean, style: Style): string {
  let out = '';
  for (const stack of result.stacks) {
    const label = stack.status === 'IN_SYNC' ? style.green('in sync') : stack.status === 'DRIFTED' ? style.red('DRIFTED') : style.yellow(stack.status);
    out += `${style.bold(stack.stackName)}  ${label}${stack.reason && stack.status !== 'IN_SYNC' ? style.dim(`  (${stack.reason})`) : ''}\n`;
    for (const resource of stack.resources) {
      out += `  ${resource.logicalId} (${resource.type}) ${resource.status}\n`;
      for (const property of resource.properties) {
        out += `    ${property.path}: expected ${property.expected}, actual ${property.actual} (${property.difference})\n`;
      }
    }
  }
  const host = result.host;
  out += `${style.bold(host.role === 'ai-services' ? 'AI host' : 'Host')}${host.instanceId ? ` ${host.instanceId}` : ''}`;
  if (!host.report) {
    out += `  ${style.yellow(`not checked: ${host.unchecked ?? 'unknown'}`)}\n`;
  } else if (!host.report.dockerAvailable) {
    out += `  ${style.red('Docker is not answering')}\n`;
  } else if (!host.report.composeFile) {
    out += `  ${style.red('no compose file in the runtime directory')}\n`;
  } else {
    out += host.report.hashesChecked ? '\n' : `  ${style.yellow('(compose config hashes not computed on the host: images only)')}\n`;
    out += renderTable(
      ['SERVICE', 'STATE', 'RUNNING IMAGE', 'PINNED IMAGE'],
      host.report.containers.map((c) => [c.service, c.state === 'in sync' ? style.green(c.state) : style.red(c.state), c.runningImage ?? '-', c.pinnedImage ?? '-']),
      style,
      '  ',
    );
    if (host.role === 'ai-services') out += style.dim("  (n8n and PostgreSQL run on ECS and RDS, not on the AI host: their drift is the stacks' above)\n");
  }
  out += drifted ? `\n${style.red('drift found')}\n` : `\n${style.green('no drift')}\n`;
  return out;
}
