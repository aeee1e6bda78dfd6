import { readFile, writeFile } from 'node:fs/promises';
import type { Row } from '../row.js';
import { HEADER, tableCells } from './table.js';

const START = '<!-- bench:start (written by `pnpm bench` from apps/bench/results/latest.json) -->';
const END = '<!-- bench:end -->';

/** Replaces the README's table between the markers with the one of `results`. */
export async function updateReadme(
  readme: URL,
  results: { measuredAt: string; node: string; cpus: number; loadAverage: number[]; rows: Row[] },
): Promise<void> {
  const text = await readFile(readme, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README has no ${START} … ${END} markers`);
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  const table = [
    line(HEADER.slice(0, -1).concat('result')),
    line(HEADER.map(() => '---')),
    ...tableCells(results.rows).map(line),
  ];
  const notes = results.rows
    .filter((row) => row.note !== undefined)
    .map((row) => `- ${row.figure} vs ${row.baseline}: ${row.note}`);
  const block = [
    START,
    '',
    `Measured ${results.measuredAt.slice(0, 16).replace('T', ' ')} UTC, Node ${results.node}, ${results.cpus} CPUs, load average ${results.loadAverage.join(' ')} (a shared machine: read the ratios, not the times).`,
    '',
    ...table,
    ...(notes.length > 0 ? ['', ...notes] : []),
    '',
    END,
  ].join('\n');
  await writeFile(readme, text.slice(0, start) + block + text.slice(end + END.length));
}
