/** `gm-ops list` as a table for people or one JSON document for machines. */
import type { Style } from '../output/style';
import { renderTable } from '../output/table';
import type { DeploymentRow } from './rows';

function paintStatus(row: DeploymentRow, style: Style): string {
  const status = row.stackStatus ?? (row.dataStackStatus ? `data only: ${row.dataStackStatus}` : '-');
  switch (row.condition) {
    case 'stuck':
      return style.red(status);
    case 'warning':
    case 'busy':
      return style.yellow(status);
    default:
      return style.green(status);
  }
}

export function renderList(rows: readonly DeploymentRow[], region: string | undefined, style: Style): string {
  if (rows.length === 0) {
    return `No GeuseMaker deployments in ${region ?? 'this region'} (deploy one with \`npx cdk deploy GeuseDev-my-stack\`).\n`;
  }
  const table = renderTable(
    ['NAME', 'TIER', 'STACK STATUS', 'HOST', 'MARKET', 'AZ', 'ENTRY'],
    rows.map((row) => [
      style.bold(row.name),
      row.tier ?? '-',
      paintStatus(row, style),
      row.host,
      row.market ?? '-',
      row.availabilityZone ?? '-',
      row.entryUrl ? `${row.entryUrl}${row.entryReach === 'port-forward' ? style.dim(' (port forward)') : ''}` : '-',
    ]),
    style,
  );
  const problems = rows.flatMap((row) => row.problems);
  return table + (problems.length > 0 ? `\n${problems.map((p) => `${style.yellow('!')} ${p}`).join('\n')}\n` : '');
}

export function listJson(rows: readonly DeploymentRow[], region: string | undefined): object {
  return {
    region: region ?? null,
    deployments: rows.map((row) => ({
      name: row.name,
      tier: row.tier ?? null,
      stack: row.stackName ? { name: row.stackName, status: row.stackStatus } : null,
      dataStack: row.dataStackName ? { name: row.dataStackName, status: row.dataStackStatus } : null,
      condition: row.condition,
      host: row.instanceId
        ? {
            instanceId: row.instanceId,
            state: row.host,
            instanceType: row.instanceType ?? null,
            market: row.market ?? null,
            availabilityZone: row.availabilityZone ?? null,
          }
        : null,
      hostState: row.host,
      entryUrl: row.entryUrl ?? null,
      entryReach: row.entryReach ?? null,
      problems: row.problems,
    })),
  };
}
