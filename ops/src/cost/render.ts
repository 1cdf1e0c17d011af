/**
 * The estimate for people (an infracost-style table: name, monthly quantity, unit, monthly cost, with
 * totals and a footer that always says where the prices come from) and for machines (--json).
 */
import { HOURS_PER_MONTH } from '../contract';
import { formatTime } from '../output/format';
import { visibleLength, type Style } from '../output/style';
import { Decimal } from './decimal';
import type { CostComponent, CostReport } from './estimate';
import type { CostScenarios } from './scenarios';

export function money(value: Decimal, places = 2): string {
  const text = value.toFixed(places);
  const negative = text.startsWith('-');
  const [whole, fraction] = (negative ? text.slice(1) : text).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}$${grouped}${fraction !== undefined ? `.${fraction}` : ''}`;
}

/** A unit price with the digits it needs: $0.0225, $0.096, $0.40, $0.000005. */
export function unitPrice(value: Decimal): string {
  const exact = value.toString();
  const decimals = exact.includes('.') ? exact.split('.')[1].length : 0;
  return money(value, Math.max(2, Math.min(decimals, 10)));
}

export function quantity(value: Decimal): string {
  if (value.toString().includes('.')) {
    const text = value.toFixed(value.toNumber() >= 100 ? 1 : 3).replace(/0+$/, '').replace(/\.$/, '');
    return text === '0' ? '< 0.001' : text;
  }
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function singular(unit: string): string {
  return unit === '10k requests' ? unit : unit.replace(/s$/, '');
}

function costCell(component: CostComponent): string {
  if (component.priceNotFound) return 'price not found';
  if (component.usageBased) return `depends on usage: ${unitPrice(component.price!)} per ${singular(component.unit)}${component.tiers ? ' (tiered)' : ''}`;
  return money(component.monthlyCost!);
}

function sourceLabel(report: CostReport): string {
  if (report.source === 'offline') return 'OFFLINE ESTIMATE';
  return report.source === 'none' ? 'no prices' : `${report.source} prices`;
}

export function renderCost(report: CostReport, style: Style): string {
  const title = report.kind === 'deployment' ? `Cost of ${report.subject}` : `Estimate of ${report.subject}`;
  const lines: string[] = [`${style.bold(title)} in ${report.region} (${report.source === 'offline' ? style.yellow(sourceLabel(report)) : sourceLabel(report)})`, ''];

  const rows: { name: string; qty: string; unit: string; cost: string; header?: boolean }[] = [];
  for (const resource of report.resources) {
    rows.push({ name: `${resource.name}${resource.stack ? style.dim(` (${resource.stack})`) : ''}`, qty: '', unit: '', cost: '', header: true });
    resource.components.forEach((component, index) => {
      const branch = index === resource.components.length - 1 ? '└─ ' : '├─ ';
      rows.push({
        name: `${branch}${component.name}`,
        qty: component.monthlyQuantity && !component.usageBased ? quantity(component.monthlyQuantity) : '',
        unit: component.unit,
        cost: component.priceNotFound ? style.yellow(costCell(component)) : costCell(component),
      });
      if (component.note) rows.push({ name: `${index === resource.components.length - 1 ? '   ' : '│  '}${style.dim(component.note)}`, qty: '', unit: '', cost: '' });
    });
  }
  const headers = { name: 'Name', qty: 'Monthly Qty', unit: 'Unit', cost: 'Monthly Cost' };
  const body = rows.filter((r) => !r.header && r.qty + r.unit + r.cost !== '');
  const widthName = Math.max(visibleLength(headers.name), ...body.map((r) => visibleLength(r.name)));
  const widthQty = Math.max(headers.qty.length, ...rows.map((r) => visibleLength(r.qty)));
  const widthUnit = Math.max(headers.unit.length, ...rows.map((r) => visibleLength(r.unit)));
  const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - visibleLength(text)));
  const padLeft = (text: string, width: number) => ' '.repeat(Math.max(0, width - visibleLength(text))) + text;
  lines.push(` ${style.bold(pad(headers.name, widthName))}  ${style.bold(padLeft(headers.qty, widthQty))}  ${style.bold(pad(headers.unit, widthUnit))}  ${style.bold(headers.cost)}`);
  for (const row of rows) {
    if (row.header) {
      lines.push('', ` ${style.bold(row.name)}`);
      continue;
    }
    if (row.qty + row.unit + row.cost === '') {
      lines.push(` ${row.name}`);
      continue;
    }
    lines.push(` ${pad(row.name, widthName)}  ${padLeft(row.qty, widthQty)}  ${pad(row.unit, widthUnit)}  ${row.cost}`.trimEnd());
  }
  if (report.resources.length === 0) lines.push('', ' (nothing that costs money was found)');

  const fields: [string, string][] = [
    ['Hourly total', money(report.totalHourlyCost, 4)],
    [`Monthly total (${HOURS_PER_MONTH} h)`, style.bold(money(report.totalMonthlyCost))],
  ];
  if (report.spotUnavailable) {
    fields.push(['Spot savings', `unknown: ${report.spotUnavailable}; spot instances are priced at on-demand (the most they cost)`]);
  } else if (report.onDemandMonthlyCost && report.monthlySavings && !report.monthlySavings.isZero()) {
    const percent = report.onDemandMonthlyCost.isZero() ? '0' : report.monthlySavings.mul(100).div(report.onDemandMonthlyCost).toFixed(0);
    fields.push(['On-demand equivalent', `${money(report.onDemandMonthlyCost)}/month: spot saves ${money(report.monthlySavings)}/month (${percent}%)`]);
  }
  if (report.sinceLaunch) {
    const s = report.sinceLaunch;
    fields.push([
      'Host since launch',
      `${money(s.cost)} over ${s.hours.toFixed(1)} h (${s.instanceId ? `${s.instanceId} ` : ''}launched ${formatTime(s.launchedAt)}; ${s.note})`,
    ]);
  }
  fields.push(...scenarioFields(report.scenarios));
  const usageRows = report.resources.flatMap((r) => r.components).filter((c) => c.usageBased).length;
  if (usageRows > 0) fields.push(['Usage-based', `${usageRows} row${usageRows > 1 ? 's' : ''} depend on usage and are not in the totals`]);
  if (report.priceNotFound.length > 0) fields.push(['Price not found', style.yellow(`${report.priceNotFound.length} row${report.priceNotFound.length > 1 ? 's' : ''}, not in the totals`)]);
  fields.push(['Prices', report.source === 'offline' ? style.yellow(report.sourceDetail) : report.sourceDetail]);
  const width = Math.max(...fields.map(([label]) => label.length));
  lines.push('', ...fields.map(([label, value]) => ` ${style.dim(label.padEnd(width))}  ${value}`));
  if (report.notPriced.length > 0) {
    lines.push(` ${style.dim('Not priced'.padEnd(width))}  ${report.notPriced.map((n) => `${n.type}${n.count > 1 ? ` x${n.count}` : ''}`).join(', ')} (charged by usage only, not estimated)`);
  }
  for (const note of report.notes) lines.push(` ${style.dim('Note'.padEnd(width))}  ${note}`);
  return `${lines.join('\n')}\n`;
}

/** "$0.0436/h" with the digits it needs. */
const perHour = (value: Decimal) => `${unitPrice(value)}/h`;

/** The typical-spot, scheduled and stopped lines of the footer (definitions in scenarios.ts). */
function scenarioFields(s: CostScenarios): [string, string][] {
  const fields: [string, string][] = [];
  const fileSystem = s.fileSystem ? `; file system at an assumed ${s.fileSystem.assumedGb} GB${s.fileSystem.note ? ` (${s.fileSystem.note})` : ''}` : '';
  const hosts = s.hosts.map((h) => {
    if (!h.price || !h.instanceType) return `host: ${h.note}`;
    const what = h.basis === 'typical spot' ? 'typical spot price' : h.basis === 'on-demand market' ? 'on-demand price' : 'on-demand price (no typical spot price in the table)';
    return `host at ${h.instanceType}'s ${what} ${perHour(h.price)}${h.count > 1 ? ` x ${h.count}` : ''} (${h.note}${h.source ? `; ${h.source}` : ''})`;
  });
  const tasks = s.tasks.map((t) => {
    if (!t.price) return `${t.resource}: ${t.component}: ${t.note}`;
    const what = t.basis === 'typical spot' ? 'typical Fargate Spot price' : 'on-demand Fargate price (no typical Fargate Spot price in the table)';
    return `${t.component} at the ${what} ${unitPrice(t.price)} per ${singular(t.unit)} (${t.source ?? t.note})`;
  });
  fields.push([
    'Typical spot (all-in)',
    s.typicalSpotMonthlyCost
      ? `${money(s.typicalSpotMonthlyCost)}/month: ${[...hosts, ...tasks, 'everything else as in the total'].join('; ')}${fileSystem}`
      : `unknown: ${[...hosts, ...tasks].join('; ') || 'no host'}`,
  ]);
  if (s.scheduled) {
    const { hours, monthlyCost, reason } = s.scheduled;
    const running = hours ? `the host runs ${hours.monthlyHours.toFixed(1)} h a month (${hours.weeklyHours.toFixed(1)} h a week x 730 / 168: ${hours.description})` : '';
    fields.push([
      'On its schedule',
      monthlyCost
        ? `${money(monthlyCost)}/month: ${running}; the instance, its root volume and its public IPv4 scale with those hours, the rest stays whole`
        : `cannot be estimated: ${reason ?? 'unknown'}${running ? ` (${running})` : ''}`,
    ]);
  }
  fields.push(['Stopped', `${money(s.stoppedMonthlyCost)}/month: no host${s.tasks.length > 0 || s.withHost.some((w) => w.includes('vCPU')) ? ' and no tasks' : ''}; what survives a stop (${s.survives.length > 0 ? s.survives.join(', ') : 'nothing priced'})`]);
  return fields;
}

const d = (value: Decimal | undefined) => (value === undefined ? null : value.toString());

function scenariosJson(s: CostScenarios): unknown {
  return {
    hoursPerMonth: HOURS_PER_MONTH,
    fileSystemAssumedGb: s.fileSystem?.assumedGb ?? null,
    typicalSpot: {
      rule: 'a spot host at the highest typical spot price among the instance types its group offers (price-capacity-optimized may launch any of them); a type without a typical spot price in the shipped table at its on-demand price; Fargate Spot tasks at the dated typical Fargate Spot price per vCPU-hour and GB-hour (on-demand Fargate when the table has none); everything else as in totalMonthlyCost, plus the file system at its assumed size',
      hosts: s.hosts.map((h) => ({
        resource: h.resource,
        market: h.market,
        count: h.count,
        instanceType: h.instanceType ?? null,
        price: d(h.price),
        monthlyCost: d(h.monthlyCost),
        basis: h.basis,
        source: h.source ?? null,
        sourceUrl: h.sourceUrl ?? null,
        note: h.note,
      })),
      tasks: s.tasks.map((t) => ({
        resource: t.resource,
        component: t.component,
        unit: t.unit,
        price: d(t.price),
        monthlyCost: d(t.monthlyCost),
        basis: t.basis,
        source: t.source ?? null,
        sourceUrl: t.sourceUrl ?? null,
        note: t.note,
      })),
    },
    scheduled: s.scheduled
      ? {
          weeklyHours: d(s.scheduled.hours?.weeklyHours),
          monthlyHours: d(s.scheduled.hours?.monthlyHours),
          schedule: s.scheduled.hours?.description ?? null,
          reason: s.scheduled.reason ?? null,
        }
      : null,
    withHost: s.withHost,
    survives: s.survives,
  };
}

export function costJson(report: CostReport): unknown {
  return {
    version: 1,
    kind: report.kind,
    ...(report.kind === 'deployment' ? { deployment: report.subject } : { templates: report.subject.split(', ') }),
    region: report.region,
    currency: 'USD',
    hoursPerMonth: HOURS_PER_MONTH,
    generatedAt: new Date(report.generatedAt).toISOString(),
    source: report.source,
    sourceDetail: report.sourceDetail,
    offlineReason: report.offlineReason ?? null,
    priceTable: report.priceTable,
    totalHourlyCost: d(report.totalHourlyCost),
    totalMonthlyCost: d(report.totalMonthlyCost),
    onDemandMonthlyCost: d(report.onDemandMonthlyCost),
    monthlySavings: d(report.monthlySavings),
    typicalSpotMonthlyCost: d(report.scenarios.typicalSpotMonthlyCost),
    ...(report.scenarios.scheduled ? { scheduledMonthlyCost: d(report.scenarios.scheduled.monthlyCost) } : {}),
    stoppedMonthlyCost: d(report.scenarios.stoppedMonthlyCost),
    scenarios: scenariosJson(report.scenarios),
    spotUnavailable: report.spotUnavailable ?? null,
    costSinceLaunch: report.sinceLaunch
      ? {
          instanceId: report.sinceLaunch.instanceId ?? null,
          launchedAt: new Date(report.sinceLaunch.launchedAt).toISOString(),
          hours: report.sinceLaunch.hours.toFixed(3),
          cost: d(report.sinceLaunch.cost),
          note: report.sinceLaunch.note,
        }
      : null,
    resources: report.resources.map((resource) => ({
      name: resource.name,
      resourceType: resource.type,
      id: resource.id ?? null,
      stack: resource.stack ?? null,
      hourlyCost: d(resource.hourlyCost),
      monthlyCost: d(resource.monthlyCost),
      costComponents: resource.components.map((c) => ({
        name: c.name,
        unit: c.unit,
        priceKey: c.priceKey ?? null,
        price: d(c.price),
        ...(c.tiers ? { tiers: c.tiers.map((t) => ({ begin: t.begin.toString(), end: t.end?.toString() ?? null, price: t.price.toString() })) } : {}),
        hourlyQuantity: d(c.hourlyQuantity),
        monthlyQuantity: d(c.monthlyQuantity),
        hourlyCost: d(c.hourlyCost),
        monthlyCost: d(c.monthlyCost),
        priceNotFound: c.priceNotFound,
        usageBased: c.usageBased,
        source: c.source ?? null,
        ...(c.market ? { market: c.market, instanceType: c.instanceType ?? null, onDemandPrice: d(c.onDemandPrice) } : {}),
        note: c.note ?? null,
      })),
    })),
    notPriced: report.notPriced,
    notes: report.notes,
  };
}
