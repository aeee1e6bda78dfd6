#!/usr/bin/env node
// Merges Stryker JSON reports (one per run, e.g. one per file: each run overwrites
// reports/mutation/mutation.json) into one per-file table and an overall score.
// Usage: node scripts/mutation-table.mjs <dir with *.json | report.json>... [--survivors]
// Score = (killed + timeout) / (killed + timeout + survived + no coverage), the same as Stryker's
// "% score"; compile and runtime errors and ignored mutants do not count. Reports are read oldest
// first (by modification time) and a later one overrides the status of the same mutant (same
// place, mutator and replacement), so a rerun of some lines (`--mutate src/client.ts:10-12`)
// updates a full run of the file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const showSurvivors = args.includes('--survivors');
const reports = args
  .filter((arg) => !arg.startsWith('--'))
  .flatMap((arg) =>
    statSync(arg).isDirectory()
      ? readdirSync(arg)
          .filter((name) => name.endsWith('.json'))
          .map((name) => join(arg, name))
      : [arg],
  )
  .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);

const files = new Map();
const where = ({ location: { start, end }, mutatorName, replacement }) =>
  `${start.line}:${start.column}-${end.line}:${end.column} ${mutatorName} ${replacement}`;
for (const report of reports) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  for (const [path, file] of Object.entries(json.files)) {
    const name = path.replace(/^.*?src\//, 'src/');
    const known = files.get(name) ?? { source: file.source, mutants: new Map() };
    if (known.source !== file.source) known.mutants.clear(); // the file changed: start over
    known.source = file.source;
    for (const mutant of file.mutants) known.mutants.set(where(mutant), mutant);
    files.set(name, known);
  }
}
for (const file of files.values()) file.mutants = [...file.mutants.values()];

const counted = ['Killed', 'Timeout', 'Survived', 'NoCoverage'];
const total = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
const rows = [];
for (const [path, file] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const n = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const mutant of file.mutants) if (counted.includes(mutant.status)) n[mutant.status]++;
  for (const key of counted) total[key] += n[key];
  rows.push([path, n]);
}
const score = (n) => {
  const all = n.Killed + n.Timeout + n.Survived + n.NoCoverage;
  return all === 0 ? 'n/a' : ((100 * (n.Killed + n.Timeout)) / all).toFixed(1);
};
const line = (name, n) =>
  `| ${name} | ${n.Killed} | ${n.Timeout} | ${n.Survived} | ${n.NoCoverage} | ${score(n)} |`;
console.log('| File | Killed | Timeout | Survived | No coverage | Score % |');
console.log('| --- | --: | --: | --: | --: | --: |');
for (const [path, n] of rows) console.log(line(path, n));
console.log(line('**all**', total));

if (showSurvivors) {
  for (const [path, file] of files) {
    const source = file.source.split('\n');
    for (const m of file.mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const { start, end } = m.location;
      const original = source[start.line - 1].slice(
        start.column - 1,
        start.line === end.line ? end.column - 1 : undefined,
      );
      console.log(
        `${path}:${start.line}:${start.column} ${m.status} ${m.mutatorName}: ${original.trim().slice(0, 80)} -> ${String(
          m.replacement ?? '',
        )
          .replace(/\s+/g, ' ')
          .slice(0, 80)}`,
      );
    }
  }
}
