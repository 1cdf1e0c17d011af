/** Printing log records: `service | message` for people, NDJSON {timestamp, service, message} for machines. */
import type { Style } from '../output/style';
import type { LogRecord } from './cursor';

export interface LogPrinterOptions {
  readonly json: boolean;
  readonly timestamps: boolean;
  readonly style: Style;
  readonly services: readonly string[];
}

export function createLogPrinter(write: (text: string) => void, options: LogPrinterOptions): (record: LogRecord) => void {
  if (options.json) {
    return (record) =>
      write(
        JSON.stringify({
          timestamp: record.timestamp ?? null,
          service: record.service,
          message: record.message,
          ...(record.truncated ? { truncated: true } : {}),
        }) + '\n',
      );
  }
  const { style } = options;
  const palette = [style.cyan, style.green, style.yellow, style.magenta, style.blue];
  const width = Math.max(0, ...options.services.map((s) => s.length));
  const colorOf = new Map(options.services.map((s, i) => [s, palette[i % palette.length]]));
  return (record) => {
    const paint = colorOf.get(record.service) ?? ((t: string) => t);
    const when = options.timestamps && record.timestamp ? `${style.dim(record.timestamp)} ` : '';
    const cut = record.truncated ? style.dim(' […line truncated]') : '';
    write(`${paint(record.service.padEnd(width))} | ${when}${record.message}${cut}\n`);
  };
}
