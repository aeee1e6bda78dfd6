import type { Row } from '../row.js';

/** `value` in `unit`, rounded for a reader. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'ns') {
    if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(2)} ms`;
    if (value >= 1000) return `${(value / 1000).toFixed(2)} µs`;
    return `${value.toFixed(0)} ns`;
  }
  if (unit === 'ms') return `${value.toFixed(1)} ms`;
  if (unit === 'B') return `${Math.round(value).toLocaleString('en-US')} B`;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${unit}`;
}

/** The ratio as the budget states it, with its spread. */
export function formatRatio(row: Row): string {
  const spread =
    row.spread === undefined ? '' : ` (${row.spread[0].toFixed(2)}–${row.spread[1].toFixed(2)})`;
  return `${row.ratio.toFixed(2)}${row.ratioLabel}${spread}`;
}

/** `≤ 1.3`, `≥ 10`, or `report` for a row without a budget. */
export function formatBudget(row: Row): string {
  if (row.budget === undefined) return 'report';
  return `${row.budget.op === '<=' ? '≤' : '≥'} ${row.budget.limit.toLocaleString('en-US')}`;
}

/** `ok`, `MISSED`, `skipped` or `—`. */
export function formatVerdict(row: Row, pass: boolean | undefined): string {
  if (row.skipped !== undefined) return 'skipped';
  if (pass === undefined) return '—';
  return pass ? 'ok' : 'MISSED';
}
