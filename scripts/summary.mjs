// Adds up the vitest JSON reports that each package's test run wrote, and prints the totals
// as one plain line, so a log reader need not scroll through every package's output. A failed
// test is named here with the first lines of its error: a CI log may keep only its tail.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
const failures = [];
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(group)) {
    const file = join(group, name, '.vitest', 'report.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const suite of report.testResults) {
      for (const test of suite.assertionResults) {
        if (test.status !== 'failed') continue;
        const message = (test.failureMessages ?? []).join('\n').split('\n').slice(0, 8);
        failures.push(
          `FAILED ${join(group, name)} ${test.fullName}`,
          ...message.map((l) => `    ${l}`),
        );
      }
    }
    rows.push(
      `  ${join(group, name)}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`,
    );
  }
}
if (failures.length > 0) console.log(failures.join('\n'));
console.log(rows.join('\n'));
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exitCode = 1;
