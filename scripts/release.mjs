#!/usr/bin/env node
// `pnpm release --dry-run`: everything a release does except publishing. Builds every package,
// checks each one as it would be published (publint --strict, attw on every resolution profile,
// no `workspace:` range left) and packs it, listing each tarball's files. Publishing happens in CI
// with `changeset publish` (provenance needs the CI's OIDC token); this script never publishes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

if (!process.argv.includes('--dry-run')) {
  console.error(
    'pnpm release only runs as `pnpm release --dry-run`: packages are published from CI (changeset publish).',
  );
  process.exit(2);
}

/** pnpm as it runs this script (npx-installed or global), else from PATH. */
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by pnpm for the script it runs; no turbo task reads it.
const execPath = process.env.npm_execpath;
const pnpm = execPath?.includes('pnpm') ? [process.execPath, execPath] : ['pnpm'];

function run(command, args, options = {}) {
  const [bin, ...pre] = command === 'pnpm' ? pnpm : [command];
  const result = spawnSync(bin, [...pre, ...args], {
    cwd: root,
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    ...options,
  });
  if (result.status !== 0) {
    console.error(
      `\n✗ ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`,
    );
    process.exit(1);
  }
  return result.stdout ?? '';
}

const packages = readdirSync(join(root, 'packages'))
  .map((name) => join(root, 'packages', name))
  .filter((dir) => {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).private !== true;
    } catch {
      return false;
    }
  });

console.log('▸ build');
run('pnpm', [
  'exec',
  'turbo',
  'run',
  'build',
  '--filter=./packages/*',
  '--output-logs=errors-only',
]);

const out = mkdtempSync(join(tmpdir(), 'drillster-auth-release-'));
const problems = [];
try {
  for (const dir of packages) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    console.log(`\n▸ ${manifest.name}@${manifest.version}`);
    run('pnpm', ['exec', 'publint', '--strict'], { cwd: dir, capture: true });

    // pnpm pack rewrites workspace: ranges, exactly as pnpm publish does.
    const before = new Set(readdirSync(out));
    run('pnpm', ['pack', '--pack-destination', out], { cwd: dir, capture: true });
    const tarball = readdirSync(out).find((file) => !before.has(file));
    const path = join(out, tarball);

    run('pnpm', ['exec', 'attw', path, '--format', 'table-flipped', '--no-emoji', '--no-color'], {
      cwd: dir,
    });

    const packed = JSON.parse(
      run('tar', ['-xzOf', path, 'package/package.json'], { capture: true }),
    );
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [name, range] of Object.entries(packed[field] ?? {})) {
        if (range.startsWith('workspace:')) problems.push(`${tarball}: ${field} ${name}@${range}`);
      }
    }
    const files = run('tar', ['-tzf', path], { capture: true })
      .split('\n')
      .filter(Boolean)
      .map((file) => file.replace(/^package\//, ''))
      .sort();
    console.log(`  ${tarball}: ${files.length} files`);
    for (const file of files) console.log(`    ${file}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`\n✗ not publishable:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`\n✓ ${packages.length} packages would be published; nothing was.`);
