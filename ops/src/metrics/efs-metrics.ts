/**
 * The file system's size and throughput over the last hour from CloudWatch (namespace AWS/EFS,
 * dimension FileSystemId; StorageBytes also needs StorageClass=Total), in 5-minute points.
 */
import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';

export const TREND_MINUTES = 60;
export const PERIOD_SECONDS = 300;

export interface MetricSeries {
  /** Oldest first. */
  readonly points: readonly { readonly at: string; readonly value: number }[];
  readonly latest?: number;
}

export interface FileSystemMetrics {
  readonly fileSystemId: string;
  /** Bytes stored (StorageBytes, Total). */
  readonly storageBytes: MetricSeries;
  /** Bytes per second moved (TotalIOBytes summed per period, divided by the period). */
  readonly throughputBytesPerSecond: MetricSeries;
}

function series(timestamps: readonly Date[] = [], values: readonly number[] = [], scale = 1): MetricSeries {
  const points = timestamps
    .map((at, i) => ({ at: at.toISOString(), value: values[i] / scale }))
    .filter((p) => Number.isFinite(p.value))
    .sort((a, b) => a.at.localeCompare(b.at));
  return { points, latest: points.at(-1)?.value };
}

export async function fileSystemMetrics(cloudWatch: CloudWatchClient, fileSystemId: string, now: number): Promise<FileSystemMetrics> {
  const response = await cloudWatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now - TREND_MINUTES * 60_000),
      EndTime: new Date(now),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [
        {
          Id: 'storage',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/EFS',
              MetricName: 'StorageBytes',
              Dimensions: [
                { Name: 'FileSystemId', Value: fileSystemId },
                { Name: 'StorageClass', Value: 'Total' },
              ],
            },
            Period: PERIOD_SECONDS,
            Stat: 'Average',
          },
        },
        {
          Id: 'io',
          MetricStat: {
            Metric: { Namespace: 'AWS/EFS', MetricName: 'TotalIOBytes', Dimensions: [{ Name: 'FileSystemId', Value: fileSystemId }] },
            Period: PERIOD_SECONDS,
            Stat: 'Sum',
          },
        },
      ],
    }),
  );
  const byId = new Map((response.MetricDataResults ?? []).map((r) => [r.Id, r]));
  const storage = byId.get('storage');
  const io = byId.get('io');
  return {
    fileSystemId,
    storageBytes: series(storage?.Timestamps, storage?.Values),
    throughputBytesPerSecond: series(io?.Timestamps, io?.Values, PERIOD_SECONDS),
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A small trend: one bar per point, scaled between the series' minimum and maximum. */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '-';
  const min = Math.min(...values);
  const max = Math.max(...values);
  return values.map((v) => BARS[max === min ? 0 : Math.round(((v - min) / (max - min)) * (BARS.length - 1))]).join('');
}
