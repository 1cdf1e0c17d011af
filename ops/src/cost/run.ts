/** `gm-ops cost <name>` and `gm-ops cost --template <file>...`. */
import * as path from 'node:path';
import type { AwsClients } from '../aws/clients';
import type { CommandIO } from '../command-io';
import { ExitCode, UsageProblem } from '../errors';
import { DiskPriceCache, defaultCacheDir, noCache } from './cache';
import { estimate, type CostReport } from './estimate';
import { deploymentInventory } from './live';
import type { CostInventory } from './model';
import { loadOfflineTable } from './offline-table';
import { PriceBook } from './price-book';
import { costJson, renderCost } from './render';
import { templateInventory, type TemplateInventory } from './template';

export interface CostOptions {
  readonly name?: string;
  readonly templates: readonly string[];
  readonly json: boolean;
  /** Use the shipped table without asking AWS. */
  readonly offline: boolean;
  readonly cache: boolean;
  readonly cacheDir?: string;
  /** --workers: running tasks of auto-scaled ECS services (templates of the scale tier). */
  readonly workers?: number;
  /** --region (templates: else AWS_REGION, AWS_DEFAULT_REGION, us-east-1). */
  readonly region?: string;
  readonly env: NodeJS.ProcessEnv;
  /** Clients for the template's region (the deployment's come from `io.aws()`). */
  readonly clientsFor: (region: string) => AwsClients;
}

export const DEFAULT_TEMPLATE_REGION = 'us-east-1';

/** The scheduled actions of all the templates (only a compute stack has any). */
function schedulesOf(parts: readonly TemplateInventory[]): Pick<CostInventory, 'schedule'> {
  const actions = parts.flatMap((p) => p.schedule?.actions ?? []);
  return actions.length > 0 ? { schedule: { actions } } : {};
}

function templateRegion(options: CostOptions): string {
  return options.region ?? (options.env.AWS_REGION || options.env.AWS_DEFAULT_REGION || DEFAULT_TEMPLATE_REGION);
}

/** The templates, each once (by resolved path), with a note on stderr for each one given again. */
function distinctTemplates(io: CommandIO, templates: readonly string[]): string[] {
  const seen = new Set<string>();
  const distinct: string[] = [];
  for (const file of templates) {
    const resolved = path.resolve(file);
    if (seen.has(resolved)) {
      io.notice(`--template ${file} was given more than once: counted once`);
      continue;
    }
    seen.add(resolved);
    distinct.push(file);
  }
  return distinct;
}

export async function runCost(io: CommandIO, options: CostOptions): Promise<number> {
  if (options.name && options.templates.length > 0) {
    throw new UsageProblem('give a deployment name or --template, not both', 'see `gm-ops cost --help`');
  }
  if (!options.name && options.templates.length === 0) {
    throw new UsageProblem('missing the deployment name (e.g. my-stack) or --template <file>', 'see `gm-ops cost --help`');
  }
  const { services } = io;
  const table = loadOfflineTable();
  const cache = options.cache ? new DiskPriceCache(options.cacheDir ?? defaultCacheDir(options.env), services.clock) : noCache;
  const offlineReason = options.offline ? '--offline: AWS was not asked for prices' : undefined;
  const spinner = io.spinner(options.json);
  try {
    let inventory: CostInventory;
    let clients: AwsClients | undefined;
    if (options.name) {
      spinner.start(`Reading ${options.name}…`);
      clients = io.aws();
      inventory = await deploymentInventory(clients, options.name);
    } else {
      const region = templateRegion(options);
      const parts = distinctTemplates(io, options.templates).map((file) => templateInventory(file, region, { workers: options.workers }));
      const notPriced = new Map<string, number>();
      for (const part of parts) for (const [type, count] of part.notPriced) notPriced.set(type, (notPriced.get(type) ?? 0) + count);
      inventory = {
        kind: 'template',
        subject: parts.map((p) => p.stack).join(', '),
        region,
        resources: parts.flatMap((p) => p.resources),
        notPriced: [...notPriced.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, count]) => ({ type, count })),
        notes: parts.flatMap((p) => p.notes),
        ...schedulesOf(parts),
      };
      if (options.workers !== undefined && !inventory.resources.some((r) => r.type === 'AWS::ECS::Service' && r.name.includes('(--workers)'))) {
        throw new UsageProblem('--workers: no ECS service with auto scaling (the scale tier\'s workers) in these templates', 'give the GeuseScale-<name> template, or leave --workers out');
      }
      if (!options.offline) clients = options.clientsFor(region);
    }
    spinner.start('Pricing…');
    const priceWith = (priceListUnavailable?: string): Promise<CostReport> => {
      const book = new PriceBook({
        region: inventory.region,
        clock: services.clock,
        table,
        cache,
        offlineReason,
        priceListUnavailable,
        signal: services.signal,
        pricing: clients ? () => clients!.pricing : undefined,
        ec2: clients ? () => clients!.ec2 : undefined,
      });
      return estimate(inventory, book, services.clock.now());
    };
    let report = await priceWith();
    if (report.source === 'none' && report.priceNotFound.length > 0 && !offlineReason) {
      // AWS answered, but with no price at all (an emulator, an empty catalogue): the table is a better answer.
      report = await priceWith(`AWS answered without a single price for ${inventory.region}`);
    }
    spinner.stop();
    io.write(options.json ? `${JSON.stringify(costJson(report), null, 2)}\n` : renderCost(report, io.style));
    if (options.json && report.source === 'offline') io.notice(`offline estimate: ${report.offlineReason ?? 'live prices unavailable'} (price table as of ${report.priceTable.asOf})`);
    return ExitCode.ok;
  } finally {
    spinner.stop();
  }
}
