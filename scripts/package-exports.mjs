// The one definition of what a package's manifest says about its entry points. Every package
// builds the same way (tsup.config.base.ts: ESM and CommonJS, a declaration file per format), so
// every subpath has the same conditions; only the list of subpaths differs. That list is the keys
// of `exports` in each package.json; this script derives the rest (each subpath's conditions,
// `main`, `module`, `types`, `typesVersions` for node10 resolution) and checks it, or writes it.
//
//   node scripts/package-exports.mjs           check the package in the current directory (check:package)
//   node scripts/package-exports.mjs --write   rewrite it from its `exports` keys
//
// npm reads package.json as it is, so the block stays written out in each manifest; what is
// shared is the rule, not the text.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The entry points of `manifest`: `.` is `index`, `./name` is `name` (built as dist/name.*). */
function entryNames(manifest) {
  return Object.keys(manifest.exports ?? { '.': null })
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? 'index' : subpath.slice(2)));
}

/** The manifest fields every package derives from its entry names. */
export function derivedFields(names) {
  const conditions = (name) => ({
    import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
    require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
  });
  const subpaths = names.filter((name) => name !== 'index');
  const exports = { '.': conditions('index') };
  for (const name of subpaths) exports[`./${name}`] = conditions(name);
  exports['./package.json'] = './package.json';
  return {
    exports,
    main: './dist/index.cjs',
    module: './dist/index.js',
    types: './dist/index.d.cts',
    // node10 resolution ignores `exports`: a subpath's types are found through this instead.
    typesVersions:
      subpaths.length === 0
        ? undefined
        : { '*': Object.fromEntries(subpaths.map((name) => [name, [`./dist/${name}.d.cts`]])) },
  };
}

const manifestText = readFileSync('package.json', 'utf8');
const manifest = JSON.parse(manifestText);
const names = entryNames(manifest);
const expected = derivedFields(names);

if (process.argv.includes('--write')) {
  const next = {};
  // Keep the manifest's own order; derived fields go where they are, or after `exports`.
  for (const [key, value] of Object.entries(manifest)) {
    if (key in expected) {
      if (expected[key] !== undefined) next[key] = expected[key];
    } else next[key] = value;
    if (key === 'exports') {
      for (const [derived, value] of Object.entries(expected)) {
        if (!(derived in manifest) && value !== undefined) next[derived] = value;
      }
    }
  }
  writeFileSync('package.json', `${JSON.stringify(next, null, 2)}\n`);
} else {
  const problems = [];
  for (const [key, value] of Object.entries(expected)) {
    if (JSON.stringify(manifest[key]) !== JSON.stringify(value)) {
      problems.push(`"${key}" differs from what its exports keys imply`);
    }
  }
  // The subpaths must be what tsup built: each listed file exists after `build`.
  for (const name of names) {
    for (const file of [`${name}.js`, `${name}.cjs`, `${name}.d.ts`, `${name}.d.cts`]) {
      if (!existsSync(`dist/${file}`))
        problems.push(`dist/${file} is not built (tsup entry "${name}"?)`);
    }
  }
  if (problems.length > 0) {
    console.error(`${manifest.name}: package.json entry points:\n  ${problems.join('\n  ')}`);
    console.error(
      'Fix the tsup entry or the exports keys, then run: node ../../scripts/package-exports.mjs --write',
    );
    process.exit(1);
  }
}
