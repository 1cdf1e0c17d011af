/** `gm-ops status` for people (sections) and machines (one JSON document). */
import { describeDockerHealth } from '../host/containers';
import { formatAge, formatTime } from '../output/format';
import type { Style } from '../output/style';
import { renderFields, renderTable } from '../output/table';
import type { StackStatus, StatusReport } from './gather';
import { describeWatchdog } from './watchdog';

function paintStatus(status: StackStatus, style: Style): string {
  const { condition } = status.assessment;
  const text = status.stack.status;
  return condition === 'ok' ? style.green(text) : condition === 'stuck' ? style.red(text) : style.yellow(text);
}

function stackLine(status: StackStatus | undefined, style: Style, now: number): string {
  if (!status) return style.dim('none');
  const when = status.stack.updatedAt ?? status.stack.createdAt;
  return `${status.stack.stackName}  ${paintStatus(status, style)}${when ? style.dim(`  ${status.stack.updatedAt ? 'updated' : 'created'} ${formatAge(when, now)}`) : ''}`;
}

function section(title: string, style: Style): string {
  return `\n${style.bold(title)}\n`;
}

function problemLines(status: StackStatus | undefined, style: Style): string[] {
  if (!status || status.assessment.condition === 'ok') return [];
  const { assessment, stack } = status;
  const lines: string[] = [];
  const label = assessment.condition === 'stuck' ? style.red(`${stack.stackName} is stuck in ${stack.status}`) : style.yellow(`${stack.stackName}: ${stack.status}`);
  lines.push(`  ${label}: ${assessment.explanation}`);
  for (const failure of status.failures.slice(0, 5)) {
    lines.push(`  ${style.dim('cause')}  ${failure.logicalId} (${failure.resourceType}) ${failure.status}: ${failure.reason ?? 'no reason given'}`);
  }
  if (assessment.remedy) lines.push(`  ${style.dim('fix')}    ${style.bold(assessment.remedy)}`);
  if (assessment.next) lines.push(`  ${style.dim('next')}   ${assessment.next}`);
  return lines;
}

/** The watchdog's last action, when the host reported it. */
function watchdogFields(report: StatusReport, now: number): [string, string][] {
  const watchdog = report.services?.watchdog;
  if (!watchdog) return [];
  return [['Watchdog', describeWatchdog(watchdog, (at) => `${formatAge(at, now)} (${formatTime(at)})`)]];
}

/** The newest backup and the host's disks, when the host reported them. */
function dataFields(report: StatusReport, now: number): [string, string][] {
  const data = report.services?.data;
  if (!data) return [];
  const backup = data.newestBackup;
  const created = backup ? Date.parse(backup.created) : NaN;
  return [
    ['Newest backup', backup ? `${backup.name}${Number.isNaN(created) ? '' : `  ${formatAge(created, now)}`}` : 'none'],
    ['Disk use', data.disks.map((d) => `${d.mount} ${d.usedPercent}%`).join(', ') || '-'],
  ];
}

export function renderStatus(report: StatusReport, style: Style, now: number): string {
  let out = `${style.bold(report.deployment)}${style.dim(`  (${report.compute ? report.compute.stack.role : 'no compute'}${report.region ? `, ${report.region}` : ''})`)}\n`;

  const lookup = report.hostLookup;
  const host = lookup?.host;
  const hostText = !report.compute
    ? style.dim('none (no compute stack)')
    : !lookup
      ? style.dim('unknown (no AutoScalingGroupName output)')
      : !lookup.groupExists
        ? style.red(`auto scaling group ${lookup.autoScalingGroupName} not found`)
        : !host
          ? style.yellow('none in the auto scaling group')
          : `${host.instanceId}  ${host.state === 'running' ? style.green(host.state) : style.yellow(host.state)}${
              host.lifecycleState ? style.dim(` (${host.lifecycleState}${host.healthStatus ? `, ${host.healthStatus}` : ''})`) : ''
            }${host.launchedAt ? style.dim(`  launched ${formatAge(host.launchedAt, now)}`) : ''}`;
  out += section('About', style);
  out += renderFields(
    [
      ['Compute stack', stackLine(report.compute, style, now)],
      ['Data stack', stackLine(report.data, style, now)],
      ['Tier', report.compute ? report.compute.stack.role : '-'],
      ['Host', hostText],
      ['Instance type', host?.instanceType ?? '-'],
      ['Market', host?.market ?? '-'],
      ['AZ', host?.availabilityZone ?? '-'],
      ['File system', report.fileSystemId ?? '-'],
      ...dataFields(report, now),
      ...watchdogFields(report, now),
    ],
    style,
  );

  out += section('Endpoints', style);
  out += report.endpoints.length > 0
    ? renderFields(report.endpoints.map((e) => [e.label, e.note ? `${e.value}${style.dim(`  (${e.note})`)}` : e.value]), style)
    : `  ${style.dim('none')}\n`;

  if (report.compute) {
    out += section('Services', style);
    const services = report.services;
    if (!services) {
      out += `  ${style.dim('not read: the host is not running')}\n`;
    } else if (services.unavailable) {
      out += `  ${style.yellow(`not read: ${services.unavailable}`)}\n`;
    } else if (!services.dockerAvailable) {
      out += `  ${style.yellow('Docker is not answering on the host (still booting, or the daemon is down)')}\n`;
    } else {
      out += renderTable(
        ['SERVICE', 'STATE', 'HEALTH', 'RESTARTS', 'STARTED', 'IMAGE'],
        services.containers.map((c) => [
          c.service,
          c.state === 'running' ? style.green(c.state) : style.red(c.state),
          c.health === 'healthy' ? style.green(c.health) : c.health === 'none' || c.health === 'missing' ? style.dim(describeDockerHealth(c.health)) : style.yellow(describeDockerHealth(c.health)),
          String(c.restarts),
          c.startedAt && !Number.isNaN(Date.parse(c.startedAt)) ? formatAge(Date.parse(c.startedAt), now) : '-',
          c.image ?? '-',
        ]),
        style,
        '  ',
      );
    }
  }

  const problems = [...problemLines(report.compute, style), ...problemLines(report.data, style)];
  if (report.extraCompute.length > 0) {
    problems.push(`  ${style.red(`more than one compute stack: ${report.extraCompute.join(', ')}`)} — only one tier may be deployed at a time; delete the one you do not use`);
  }
  for (const warning of report.dataWarnings) problems.push(`  ${style.yellow(warning)}`);
  if (problems.length > 0) out += section('Problems', style) + problems.join('\n') + '\n';

  if (report.events.length > 0) {
    out += section(`Recent events (${report.eventsOf})`, style);
    out += renderTable(
      ['TIME', 'RESOURCE', 'STATUS', 'REASON'],
      report.events.map((e) => [
        formatTime(e.time),
        e.logicalId,
        e.status.endsWith('_FAILED') ? style.red(e.status) : e.status,
        e.reason ?? '',
      ]),
      style,
      '  ',
    );
  }
  return out;
}

function stackJson(status: StackStatus | undefined): object | null {
  if (!status) return null;
  return {
    name: status.stack.stackName,
    status: status.stack.status,
    statusReason: status.stack.statusReason ?? null,
    condition: status.assessment.condition,
    explanation: status.assessment.explanation,
    remedy: status.assessment.remedy ?? null,
    failures: status.failures.map((f) => ({ ...f, time: new Date(f.time).toISOString() })),
  };
}

export function statusJson(report: StatusReport): object {
  const host = report.hostLookup?.host;
  const { watchdog, ...services } = report.services ?? {};
  return {
    deployment: report.deployment,
    region: report.region ?? null,
    healthy: report.healthy,
    tier: report.compute ? report.compute.stack.role : null,
    computeStack: stackJson(report.compute),
    dataStack: stackJson(report.data),
    extraComputeStacks: report.extraCompute,
    host: host
      ? {
          instanceId: host.instanceId,
          state: host.state,
          lifecycleState: host.lifecycleState ?? null,
          instanceType: host.instanceType ?? null,
          market: host.market,
          availabilityZone: host.availabilityZone ?? null,
          publicIp: host.publicIp ?? null,
          launchedAt: host.launchedAt ? new Date(host.launchedAt).toISOString() : null,
        }
      : null,
    autoScalingGroup: report.hostLookup?.autoScalingGroupName ?? null,
    fileSystemId: report.fileSystemId ?? null,
    endpoints: report.endpoints,
    services: report.services ? services : null,
    watchdog: watchdog ?? null,
    dataWarnings: report.dataWarnings,
    events: report.events.map((e) => ({ ...e, time: new Date(e.time).toISOString() })),
  };
}
