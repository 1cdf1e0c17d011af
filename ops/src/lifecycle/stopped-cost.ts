/**
 * What a stopped deployment still costs: everything `gm-ops cost` finds for it but the host (the file system at its
 * metered size, the stored secrets, on automation and gpu the load balancer and CloudFront, NAT gateways or other
 * public IPv4 addresses if any), priced from the shipped offline price table and labelled so. The host, its root
 * volume and its public IPv4 address go with the instance.
 */
import type { AwsClients } from '../aws/clients';
import { HOURS_PER_MONTH } from '../contract';
import type { Clock } from '../context';
import { Decimal } from '../cost/decimal';
import { estimate } from '../cost/estimate';
import { deploymentInventory } from '../cost/live';
import { loadOfflineTable } from '../cost/offline-table';
import { PriceBook } from '../cost/price-book';
import { money, quantity } from '../cost/render';
import type { Style } from '../output/style';
import { renderTable } from '../output/table';

export interface StoppedCostRow {
  readonly resource: string;
  readonly name: string;
  readonly unit: string;
  readonly monthlyQuantity?: Decimal;
  readonly price?: Decimal;
  readonly monthlyCost?: Decimal;
  readonly usageBased: boolean;
  readonly priceNotFound: boolean;
  readonly note?: string;
}

export interface StoppedCost {
  readonly region: string;
  /** The offline price table's date. */
  readonly asOf: string;
  readonly monthlyCost: Decimal;
  readonly rows: readonly StoppedCostRow[];
  readonly notes: readonly string[];
  /** A scale deployment: its n8n tasks are not billed while stopped either. */
  readonly scale?: boolean;
}

/** Types of what goes away with the host (the live inventory's host resource) and, on the scale tier, the ECS tasks. */
const GOES_WITH_THE_HOST = new Set(['EC2 instance', 'AWS::ECS::Service']);

export async function stoppedCost(clients: AwsClients, name: string, clock: Clock): Promise<StoppedCost> {
  const inventory = await deploymentInventory(clients, name);
  const table = loadOfflineTable();
  const book = new PriceBook({ region: inventory.region, clock, table, offlineReason: 'the shipped price table' });
  const resources = inventory.resources.filter((r) => !GOES_WITH_THE_HOST.has(r.type));
  const report = await estimate({ ...inventory, resources, notes: [] }, book, clock.now());
  const rows: StoppedCostRow[] = [];
  for (const resource of report.resources) {
    for (const c of resource.components) {
      rows.push({
        resource: resource.name,
        name: c.name,
        unit: c.unit,
        monthlyQuantity: c.monthlyQuantity,
        price: c.price,
        monthlyCost: c.monthlyCost,
        usageBased: c.usageBased,
        priceNotFound: c.priceNotFound,
        note: c.priceNotFound ? c.note : undefined,
      });
    }
  }
  const notes = inventory.notes.filter((n) => !/host|compute/.test(n));
  // The same figure `gm-ops cost` reports as stoppedMonthlyCost (cost/scenarios.ts), when the estimate has it: with
  // the host gone, what is left is exactly what survives a stop, so it equals the total of these rows.
  const scenarios = (report as { readonly scenarios?: { readonly stoppedMonthlyCost?: Decimal } }).scenarios;
  const scale = inventory.resources.some((r) => r.type === 'AWS::ECS::Service' || r.type === 'AWS::RDS::DBInstance');
  return { region: inventory.region, asOf: table.asOf, monthlyCost: scenarios?.stoppedMonthlyCost ?? report.totalMonthlyCost, rows, notes, ...(scale ? { scale } : {}) };
}

export function renderStoppedCost(name: string, cost: StoppedCost, style: Style): string {
  const fixed = cost.rows.filter((r) => !r.usageBased);
  const usage = cost.rows.filter((r) => r.usageBased && !r.priceNotFound);
  const lines = [
    `${style.bold(`While stopped, ${name} costs about ${money(cost.monthlyCost)} a month`)} (offline price table as of ${cost.asOf}, ${cost.region}, ${HOURS_PER_MONTH} h a month):`,
  ];
  if (fixed.length > 0) {
    lines.push(
      renderTable(
        ['RESOURCE', 'WHAT', 'MONTHLY QTY', 'UNIT', 'MONTHLY COST'],
        fixed.map((r) => [r.resource, r.name, r.monthlyQuantity ? quantity(r.monthlyQuantity) : '', r.unit, r.priceNotFound ? `price not found${r.note ? ` (${r.note})` : ''}` : money(r.monthlyCost ?? Decimal.ZERO)]),
        style,
        '  ',
      ).trimEnd(),
    );
  }
  if (usage.length > 0) lines.push(style.dim(`  Not included, they depend on usage: ${[...new Set(usage.map((r) => r.name))].join(', ')}.`));
  for (const note of cost.notes) lines.push(style.dim(`  Note: ${note}`));
  lines.push(style.dim(`  Not billed while stopped: ${cost.scale ? 'the n8n tasks, the AI host, its root volume and its public IPv4 address' : 'the host, its root volume and its public IPv4 address'}.`));
  return `${lines.join('\n')}\n`;
}

/** The end of `stop --json`, on every tier: the confirmation, the result and what the deployment costs stopped. */
export function stopOutcomeJson(
  confirmed: boolean,
  result: { readonly elapsedMs: number } | undefined,
  cost: StoppedCost | undefined,
  costError: string | undefined,
): Record<string, unknown> {
  return {
    confirmed,
    result: result ? { stopped: true, secondsToStopped: Math.round(result.elapsedMs / 1000) } : null,
    stoppedMonthlyCost: cost ? cost.monthlyCost.toString() : null,
    stoppedCost: cost ? stoppedCostJson(cost) : null,
    stoppedCostError: costError ?? null,
  };
}

export function stoppedCostJson(cost: StoppedCost): unknown {
  const d = (value: Decimal | undefined) => (value === undefined ? null : value.toString());
  return {
    source: 'offline',
    priceTable: { asOf: cost.asOf },
    region: cost.region,
    hoursPerMonth: HOURS_PER_MONTH,
    stoppedMonthlyCost: d(cost.monthlyCost),
    components: cost.rows.map((r) => ({
      resource: r.resource,
      name: r.name,
      unit: r.unit,
      price: d(r.price),
      monthlyQuantity: d(r.monthlyQuantity),
      monthlyCost: d(r.monthlyCost),
      usageBased: r.usageBased,
      priceNotFound: r.priceNotFound,
      note: r.note ?? null,
    })),
    notes: cost.notes,
  };
}

/** The scale tier's database and queue (RDS and ElastiCache rows): they keep running, and billing, while stopped. */
export interface KeptRunning {
  readonly monthlyCost: Decimal;
  /** False when a price of theirs is not in the shipped table (the figure is then incomplete). */
  readonly priced: boolean;
  readonly found: boolean;
}

export function keptRunningCost(cost: StoppedCost): KeptRunning {
  const rows = cost.rows.filter((r) => (r.resource.startsWith('Database ') || r.resource.startsWith('Cache ')) && !r.usageBased);
  return {
    monthlyCost: rows.reduce((sum, r) => sum.add(r.monthlyCost ?? Decimal.ZERO), Decimal.ZERO),
    priced: rows.every((r) => !r.priceNotFound),
    found: rows.length > 0,
  };
}
