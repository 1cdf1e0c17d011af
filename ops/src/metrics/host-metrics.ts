/**
 * Host and per-service resource use, read in one SSM command: CPU from two /proc/stat samples a
 * second apart, memory from /proc/meminfo, disks from `df -Pk`, and `docker stats --no-stream` per
 * container mapped to its compose service.
 */
import { HOST_PATHS } from '../contract';
import { COMPOSE_SERVICE_LABEL, markerOf, shellQuote } from '../host/shell';

export interface DiskUse {
  readonly mount: string;
  readonly totalBytes: number;
  readonly usedBytes: number;
}

export interface ServiceUse {
  readonly service: string;
  readonly cpuPercent: number;
  /** docker stats' MEM USAGE / LIMIT, as printed (e.g. "412.3MiB / 7.63GiB"). */
  readonly memory: string;
  readonly memoryPercent: number;
}

export interface HostMetrics {
  readonly cpuPercent?: number;
  readonly memoryTotalBytes?: number;
  readonly memoryUsedBytes?: number;
  readonly disks: readonly DiskUse[];
  readonly dockerAvailable: boolean;
  readonly services: readonly ServiceUse[];
}

export function hostMetricsScript(token: string): string {
  const marker = markerOf(token);
  const m = shellQuote(marker);
  return [
    `echo ${m}" cpu1 $(head -n 1 /proc/stat)"`,
    `sleep 1`,
    `echo ${m}" cpu2 $(head -n 1 /proc/stat)"`,
    `awk -v m=${m} '/^MemTotal:|^MemAvailable:/{print m " mem " $1 " " $2}' /proc/meminfo`,
    `df -Pk / ${shellQuote(HOST_PATHS.efsMount)} 2>/dev/null | awk -v m=${m} 'NR>1{print m " disk " $6 " " $2 " " $3}'`,
    `if docker ps -q >/dev/null 2>&1; then`,
    `  docker ps --format ${shellQuote(`${marker} svc\t{{.ID}}\t{{.Label "${COMPOSE_SERVICE_LABEL}"}}`)}`,
    `  docker stats --no-stream --format ${shellQuote(`${marker} stats\t{{.ID}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}`)}`,
    `else echo ${shellQuote(`${marker} docker-unavailable`)}; fi`,
  ].join('\n');
}

function cpuSample(line: string): { total: number; idle: number } | undefined {
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu') return undefined;
  const values = fields.slice(1).map(Number);
  if (values.length < 4 || values.some((v) => !Number.isFinite(v))) return undefined;
  // user nice system idle iowait irq softirq steal (guest is already counted in user).
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = values[3] + (values[4] ?? 0);
  return { total, idle };
}

const percent = (text: string | undefined): number => Number((text ?? '').replace('%', '')) || 0;

export function parseHostMetrics(stdout: string, token: string): HostMetrics {
  const marker = markerOf(token);
  let first: { total: number; idle: number } | undefined;
  let second: { total: number; idle: number } | undefined;
  const memory = new Map<string, number>();
  const disks: DiskUse[] = [];
  const serviceOf = new Map<string, string>();
  const stats: { id: string; cpu: number; memory: string; memoryPercent: number }[] = [];
  let dockerAvailable = true;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${marker} `)) continue;
    const rest = line.slice(marker.length + 1);
    if (rest.startsWith('cpu1 ')) first = cpuSample(rest.slice(5));
    else if (rest.startsWith('cpu2 ')) second = cpuSample(rest.slice(5));
    else if (rest.startsWith('mem ')) {
      const [, key, kb] = rest.split(' ');
      memory.set(key.replace(':', ''), Number(kb) * 1024);
    } else if (rest.startsWith('disk ')) {
      const [, mount, total, used] = rest.split(' ');
      disks.push({ mount, totalBytes: Number(total) * 1024, usedBytes: Number(used) * 1024 });
    } else if (rest === 'docker-unavailable') dockerAvailable = false;
    else if (rest.startsWith('svc\t')) {
      const [, id, service] = rest.split('\t');
      if (service) serviceOf.set(id, service);
    } else if (rest.startsWith('stats\t')) {
      const [, id, cpu, mem, memPercent] = rest.split('\t');
      stats.push({ id, cpu: percent(cpu), memory: mem ?? '', memoryPercent: percent(memPercent) });
    }
  }
  const cpuPercent =
    first && second && second.total > first.total ? Math.round((1 - (second.idle - first.idle) / (second.total - first.total)) * 1000) / 10 : undefined;
  const total = memory.get('MemTotal');
  const available = memory.get('MemAvailable');
  const services = stats
    .filter((s) => serviceOf.has(s.id))
    .map((s) => ({ service: serviceOf.get(s.id)!, cpuPercent: s.cpu, memory: s.memory, memoryPercent: s.memoryPercent }))
    .sort((a, b) => a.service.localeCompare(b.service));
  return {
    cpuPercent,
    memoryTotalBytes: total,
    memoryUsedBytes: total !== undefined && available !== undefined ? total - available : undefined,
    disks,
    dockerAvailable,
    services,
  };
}
