/** Plain column tables: padded cells, a header row, no borders. */
import { visibleLength, type Style } from './style';

export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], style: Style, indent = ''): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => style.bold(h))), ...rows.map((row) => line(row))].join('\n') + '\n';
}

/** `label  value` lines with aligned values. */
export function renderFields(fields: readonly (readonly [string, string])[], style: Style, indent = '  '): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${indent}${style.dim(label.padEnd(width))}  ${value}`).join('\n') + '\n';
}
