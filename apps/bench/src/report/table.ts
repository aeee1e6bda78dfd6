import { type Row, withinBudget } from '../row.js';
import { formatBudget, formatRatio, formatValue, formatVerdict } from './format.js';

/** The cells of each row, for the terminal and the README alike. */
export function tableCells(rows: readonly Row[]): string[][] {
  return rows.map((row) => [
    row.figure,
    row.skipped === undefined ? formatValue(row.value, row.unit) : '—',
    row.baseline,
    row.skipped === undefined ? formatValue(row.baselineValue, row.unit) : '—',
    row.skipped === undefined ? formatRatio(row) : `skipped: ${row.skipped}`,
    formatBudget(row),
    formatVerdict(row, withinBudget(row)),
  ]);
}

export const HEADER = [
  'figure',
  'value',
  'baseline (same run)',
  'baseline value',
  'ratio (IQR)',
  'budget',
  '',
];

/** The table as aligned plain text, with each row's note below it. */
export function textTable(rows: readonly Row[]): string {
  const cells = [HEADER, ...tableCells(rows)];
  const widths = HEADER.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  const lines = cells.map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  const notes = rows
    .filter((row) => row.note !== undefined)
    .map((row) => `  ${row.id}: ${row.note}`);
  return [...lines, ...(notes.length > 0 ? ['', 'notes:', ...notes] : [])].join('\n');
}
