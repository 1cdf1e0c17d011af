/**
 * What `gm-ops status` shows about the data: the newest backup set's age and the host's disk use, read in
 * the same SSM command as the containers, with the thresholds past which they need attention.
 */
import { HOST_PATHS } from '../contract';
import { markerOf } from '../host/shell';

/** A scheduled set is taken daily by default (GM_BACKUP_SCHEDULE); two missed days need attention. */
export const BACKUP_AGE_WARNING_HOURS = 48;
/** Disk use: a warning from here, the host's snapshots and logs need room to work. */
export const DISK_WARNING_PERCENT = 80;
export const DISK_CRITICAL_PERCENT = 90;

export interface DiskUse {
  readonly mount: string;
  readonly usedPercent: number;
}

export interface DataHealth {
  /** The newest backup set, or null when the host has none. */
  readonly newestBackup: { readonly name: string; readonly created: string } | null;
  readonly disks: DiskUse[];
}

/** Script lines printing `<marker> backup <name> <created>` (or `<marker> backup none`) and `<marker> disk <mount> <pct>`. */
export function dataHealthScript(token: string): string {
  const marker = markerOf(token);
  return [
    `newest=$(ls -1d ${HOST_PATHS.efsMount}/backups/[0-9]*/manifest.json 2>/dev/null | LC_ALL=C sort | tail -n 1)`,
    `if [ -n "$newest" ]; then`,
    `  created=$(sed -n 's/.*"created":"\\([^"]*\\)".*/\\1/p' "$newest")`,
    `  printf '%s backup %s %s\\n' '${marker}' "$(basename "$(dirname "$newest")")" "$created"`,
    `else printf '%s backup none\\n' '${marker}'; fi`,
    `df -P / /var/lib/docker 2>/dev/null | awk -v m='${marker}' 'NR > 1 { sub(/%/, "", $5); print m " disk " $6 " " $5 }' | sort -u`,
  ].join('\n');
}

/** Undefined when the host printed none of it (an older runtime, or the script did not run). */
export function parseDataHealth(stdout: string, token: string): DataHealth | undefined {
  const marker = markerOf(token);
  let newestBackup: DataHealth['newestBackup'] | undefined;
  const disks = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line === `${marker} backup none`) newestBackup = null;
    let match = new RegExp(`^${marker} backup (\\S+) (\\S+)$`).exec(line);
    if (match) newestBackup = { name: match[1], created: match[2] };
    match = new RegExp(`^${marker} disk (\\S+) (\\d{1,3})$`).exec(line);
    if (match) disks.set(match[1], Number(match[2]));
  }
  if (newestBackup === undefined && disks.size === 0) return undefined;
  return { newestBackup: newestBackup ?? null, disks: [...disks].map(([mount, usedPercent]) => ({ mount, usedPercent })) };
}

/** One line per threshold crossed. */
export function dataWarnings(health: DataHealth | undefined, now: number): string[] {
  if (!health) return [];
  const warnings: string[] = [];
  if (!health.newestBackup) {
    warnings.push('no backup set on the file system yet: take one with `gm-ops backup <name>`');
  } else {
    const created = Date.parse(health.newestBackup.created);
    const hours = Number.isNaN(created) ? Infinity : (now - created) / 3_600_000;
    if (hours > BACKUP_AGE_WARNING_HOURS) {
      warnings.push(`the newest backup set ${health.newestBackup.name} is ${Number.isFinite(hours) ? `${Math.floor(hours)} h` : 'of unknown age'} old (more than ${BACKUP_AGE_WARNING_HOURS} h): is geusemaker-backup.timer running?`);
    }
  }
  for (const disk of health.disks) {
    if (disk.usedPercent >= DISK_WARNING_PERCENT) {
      warnings.push(`the host's disk ${disk.mount} is ${disk.usedPercent}% full (${disk.usedPercent >= DISK_CRITICAL_PERCENT ? 'critical' : 'warning'} from ${disk.usedPercent >= DISK_CRITICAL_PERCENT ? DISK_CRITICAL_PERCENT : DISK_WARNING_PERCENT}%)`);
    }
  }
  return warnings;
}
