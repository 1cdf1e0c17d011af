/** The metrics as one screen: host, services, file system with its last hour. */
import type { Style } from '../output/style';
import { formatBytes } from '../output/bytes';
import { renderFields, renderTable } from '../output/table';
import { sparkline } from './efs-metrics';
import type { MetricsSnapshot } from './run';

const pct = (part: number | undefined, whole: number | undefined) => (part !== undefined && whole ? ` (${Math.round((part / whole) * 100)}%)` : '');

export function renderMetrics(snapshot: MetricsSnapshot, style: Style): string {
  const host = snapshot.host;
  let out = `${style.bold(`${snapshot.deployment}`)} on ${snapshot.role === 'ai-services' ? 'its AI host ' : ''}${snapshot.instanceId} at ${snapshot.at.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')}\n`;
  out += renderFields(
    [
      ['CPU', host.cpuPercent === undefined ? '-' : `${host.cpuPercent}%`],
      ['Memory', `${formatBytes(host.memoryUsedBytes)} of ${formatBytes(host.memoryTotalBytes)}${pct(host.memoryUsedBytes, host.memoryTotalBytes)}`],
      ...host.disks.map((d): [string, string] => [`Disk ${d.mount}`, `${formatBytes(d.usedBytes)} of ${formatBytes(d.totalBytes)}${pct(d.usedBytes, d.totalBytes)}`]),
    ],
    style,
  );
  out += '\n';
  if (!host.dockerAvailable) out += `  ${style.yellow('Docker is not answering on the host')}\n`;
  else if (host.services.length === 0) out += `  ${style.dim('no running containers')}\n`;
  else {
    out += renderTable(
      ['SERVICE', 'CPU', 'MEMORY', 'MEM %'],
      host.services.map((s) => [s.service, `${s.cpuPercent.toFixed(1)}%`, s.memory, `${s.memoryPercent.toFixed(1)}%`]),
      style,
      '  ',
    );
  }
  const fs = snapshot.fileSystem;
  if (fs) {
    out += `\n${style.bold('File system')} ${fs.fileSystemId}\n`;
    if ('error' in fs) out += `  ${style.yellow(`CloudWatch not read: ${fs.error}`)}\n`;
    else {
      out += renderFields(
        [
          ['Size', `${formatBytes(fs.storageBytes.latest)}  ${sparkline(fs.storageBytes.points.map((p) => p.value))}  last hour`],
          ['Throughput', `${formatBytes(fs.throughputBytesPerSecond.latest)}/s  ${sparkline(fs.throughputBytesPerSecond.points.map((p) => p.value))}  last hour`],
        ],
        style,
      );
    }
  }
  if (snapshot.elsewhere) out += `\n${style.dim(snapshot.elsewhere)}\n`;
  return out;
}
