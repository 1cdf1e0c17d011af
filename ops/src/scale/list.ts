/**
 * `gm-ops list` for scale deployments: besides the row every deployment gets (its tier, the AI host, the entry),
 * the n8n services' running/desired tasks, read with one DescribeServices per scale deployment.
 */
import type { AwsClients } from '../aws/clients';
import type { Style } from '../output/style';
import { readScaleLayout } from './stacks';
import { readServices } from './state';

export interface ScaleSummary {
  readonly name: string;
  readonly services: readonly { readonly process: string; readonly running: number | null; readonly desired: number | null }[];
  readonly problem?: string;
}

export async function scaleSummaries(clients: AwsClients, rows: readonly { readonly name: string; readonly tier?: string }[]): Promise<ScaleSummary[]> {
  return Promise.all(
    rows
      .filter((row) => row.tier === 'scale')
      .map(async ({ name }): Promise<ScaleSummary> => {
        try {
          const services = await readServices(clients, await readScaleLayout(clients.cloudFormation, name));
          const problem = services.find((s) => s.problem && s.desired === undefined)?.problem;
          return { name, services: services.map((s) => ({ process: s.process, running: s.running ?? null, desired: s.desired ?? null })), problem };
        } catch (error) {
          return { name, services: [], problem: `cannot read its ECS services (${(error as Error).message.split('\n')[0]})` };
        }
      }),
  );
}

export function renderScaleSummaries(summaries: readonly ScaleSummary[], style: Style): string {
  if (summaries.length === 0) return '';
  const width = Math.max(...summaries.map((s) => s.name.length));
  const lines = summaries.map((s) => {
    const counts = s.services.map((svc) => `${svc.process} ${svc.running ?? '?'}/${svc.desired ?? '?'}`).join(' · ');
    return `  ${s.name.padEnd(width)}  ${counts || '-'}${s.problem ? `  ${style.red(s.problem)}` : ''}`;
  });
  return `\n${style.bold('Scale services (running/desired tasks)')}\n${lines.join('\n')}\n`;
}
