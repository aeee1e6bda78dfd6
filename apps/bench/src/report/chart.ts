import { type Row, withinBudget } from '../row.js';
import { formatRatio, formatValue } from './format.js';

const WIDTH = 820;
const LABEL = 300;
const BAR = 14;
const ROW = 58;
const TOP = 40;

/**
 * Each figure as a bar against its baseline's (grey), each row on its own scale (units differ),
 * with the budget as a dashed line where it is stated in the row's unit. Plain SVG, no script.
 */
export function chartSvg(rows: readonly Row[]): string {
  const measured = rows.filter((row) => row.skipped === undefined);
  const height = TOP + measured.length * ROW + 16;
  const span = WIDTH - LABEL - 150;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    '<title>drillster-auth benchmarks: each figure against its baseline in the same run</title>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="22" font-size="14" font-weight="bold">drillster-auth: each figure (colour) against its baseline in the same run (grey)</text>`,
  ];
  measured.forEach((row, index) => {
    const y = TOP + index * ROW;
    const scale = Math.max(row.value, row.baselineValue, row.limitValue ?? 0);
    const length = (value: number) => Math.max(1, (value / scale) * span);
    const pass = withinBudget(row);
    const colour = pass === undefined ? '#3b82f6' : pass ? '#16a34a' : '#dc2626';
    parts.push(
      `<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(plain(row.figure))}</text>`,
      `<text x="10" y="${y + 28}" fill="#555">vs ${escapeXml(truncate(plain(row.baseline), 44))}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${length(row.value).toFixed(1)}" height="${BAR}" fill="${colour}"/>`,
      `<text x="${LABEL + length(row.value) + 6}" y="${y + 11}">${escapeXml(formatValue(row.value, row.unit))} · ${escapeXml(formatRatio(row))}</text>`,
      `<rect x="${LABEL}" y="${y + BAR + 4}" width="${length(row.baselineValue).toFixed(1)}" height="${BAR}" fill="#9ca3af"/>`,
      `<text x="${LABEL + length(row.baselineValue) + 6}" y="${y + 2 * BAR + 1}" fill="#555">${escapeXml(formatValue(row.baselineValue, row.unit))}</text>`,
    );
    if (row.limitValue !== undefined) {
      const x = LABEL + length(row.limitValue);
      parts.push(
        `<line x1="${x.toFixed(1)}" y1="${y - 3}" x2="${x.toFixed(1)}" y2="${y + 2 * BAR + 7}" stroke="#111" stroke-dasharray="3 2"/>`,
      );
    }
  });
  parts.push(
    `<text x="10" y="${height - 6}" fill="#555">dashed: the budget · green: within it · red: missed · blue: reported only</text>`,
    '</svg>',
    '',
  );
  return parts.join('\n');
}

function plain(text: string): string {
  return text.replaceAll('`', '');
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
