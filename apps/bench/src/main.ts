/**
 * `pnpm bench`: every figure of issue 9 as a ratio to a baseline measured in the same run; prints
 * the table and writes `results/latest.json`, `results/chart.svg` and the README's table.
 * `--check` exits 1 naming each missed budget; `--only group,group` runs some groups (and writes nothing).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { chartSvg } from './report/chart.js';
import { updateReadme } from './report/readme.js';
import { textTable } from './report/table.js';
import { type Row, withinBudget } from './row.js';
import { axiosRows } from './rows/axios.js';
import { bundleRows } from './rows/bundle.js';
import { cachedRows } from './rows/cached.js';
import { coldRows } from './rows/cold.js';
import { memoryRows } from './rows/memory.js';
import { redisRows } from './rows/redis.js';
import { signingRows } from './rows/signing.js';

const groups: Record<string, () => Promise<Row[]>> = {
  cached: cachedRows,
  signing: signingRows,
  cold: coldRows,
  axios: axiosRows,
  bundle: bundleRows,
  memory: memoryRows,
  redis: redisRows,
};

const { values } = parseArgs({
  options: { check: { type: 'boolean', default: false }, only: { type: 'string' } },
});
const only = values.only?.split(',');
const rows: Row[] = [];
for (const [name, run] of Object.entries(groups)) {
  if (only !== undefined && !only.includes(name)) continue;
  console.error(`measuring ${name}…`);
  rows.push(...(await run()));
}

console.log(textTable(rows));
if (only === undefined) {
  const results = new URL('../results/', import.meta.url);
  const { loadavg, cpus } = await import('node:os');
  const json = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    rows,
  };
  await writeFile(new URL('latest.json', results), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(new URL('chart.svg', results), chartSvg(rows));
  await updateReadme(new URL('../../../README.md', import.meta.url), json);
  // Laid out as `biome ci` wants them (the README's table aligned).
  await promisify(execFile)(
    'node_modules/.bin/biome',
    ['format', '--write', 'README.md', 'apps/bench/results/latest.json'],
    { cwd: fileURLToPath(new URL('../../../', import.meta.url)) },
  );
}

if (values.check) {
  const missed = rows.filter((row) => withinBudget(row) === false);
  for (const row of missed) {
    console.error(
      `budget missed: ${row.id} (${row.figure} vs ${row.baseline}): ${row.ratio.toFixed(2)}${row.ratioLabel}, budget ${row.budget!.op} ${row.budget!.limit}`,
    );
  }
  if (missed.length > 0) process.exit(1);
  console.error('every budget kept');
}
process.exit(0);
