#!/usr/bin/env node
/**
 * Every ```ts block of every README typechecks as a complete file, against the packages as built
 * (each `@drillster-auth/*` import resolves to a copy of `packages/<name>`'s manifest and `dist/`).
 *
 *   node scripts/check-readme-snippets.mjs [README.md …]   # default: the root's, packages/*, apps/*
 *
 * Blocks fenced `ts`, `typescript`, `mts` or `tsx` are checked; anything that is not a complete
 * file (a signature list, shell, output) must be fenced as something else. Each block is checked
 * by the profile its own text asks for:
 * - Node (default): scripts/tsconfig.readme-snippets.json: strict, exactOptionalPropertyTypes,
 *   noUncheckedIndexedAccess, nodenext, ES2023 with `@types/node` and no DOM.
 * - Workers: a block starting with `/// <reference types="@cloudflare/workers-types" />` gets the
 *   same options with the Workers types instead of Node's.
 * - Deno: a block importing `npm:` or `jsr:` specifiers is run through `deno check` (Deno's own
 *   types), with the same strictness, resolving `npm:` from a node_modules folder we link.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const ts = require('typescript');

const checkedLanguages = new Set(['ts', 'typescript', 'mts', 'tsx']);
const workersReference = /^\/\/\/\s*<reference\s+types="@cloudflare\/workers-types"\s*\/>/m;
const denoSpecifier = /(?:from\s+|import\s*\(\s*|import\s+)['"](?:npm|jsr):/;

/** The READMEs to check: the arguments, or every README of the repository. */
function readmes() {
  const given = process.argv.slice(2);
  if (given.length > 0) return given.map((file) => resolve(file));
  const found = [join(root, 'README.md')];
  for (const folder of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, folder)).sort()) {
      const file = join(root, folder, name, 'README.md');
      if (existsSync(file)) found.push(file);
    }
  }
  return found;
}

/** The fenced code blocks of a Markdown text that are TypeScript, with the line each starts on. */
function snippets(readme, text) {
  const blocks = [];
  const lines = text.split('\n');
  let open;
  for (const [index, line] of lines.entries()) {
    const fence = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (!open) {
      if (fence)
        open = {
          indent: fence[1].length,
          fence: fence[2],
          language: fence[3],
          start: index + 1,
          lines: [],
        };
      continue;
    }
    if (fence?.[2].startsWith(open.fence) && line.trim() === fence[2]) {
      if (checkedLanguages.has(open.language.toLowerCase())) {
        const code = open.lines.join('\n');
        const profile = denoSpecifier.test(code)
          ? 'deno'
          : workersReference.test(code)
            ? 'workers'
            : 'node';
        blocks.push({ readme, firstLine: open.start + 1, code: `${code}\n`, profile });
      }
      open = undefined;
      continue;
    }
    open.lines.push(line.slice(Math.min(open.indent, line.length - line.trimStart().length)));
  }
  if (open) throw new Error(`${relative(root, readme)}:${open.start}: code fence never closed`);
  return blocks;
}

/** Folders whose node_modules may hold a package a snippet imports (pnpm links them per package). */
function moduleFolders() {
  const folders = [join(root, 'node_modules')];
  for (const folder of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, folder)).sort()) {
      const modules = join(root, folder, name, 'node_modules');
      if (existsSync(modules)) folders.push(modules);
    }
  }
  return folders;
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * A scratch project outside the workspace laid out as an install from the registry would be: each
 * of our packages copied into its node_modules (package.json and dist/, so their exports and built
 * types are what resolves, and Deno sees npm packages rather than local files), beside links to
 * every other package the snippets or our packages import, from wherever the workspace has it.
 */
async function scratchProject(blocks) {
  const dir = await mkdtemp(join(tmpdir(), 'drillster-readme-snippets-'));
  const modules = join(dir, 'node_modules');
  const ours = new Map();
  const wanted = new Map([
    ['@types/node', [join(root, 'node_modules')]],
    ['@cloudflare/workers-types', [join(root, 'node_modules')]],
  ]);
  const want = (name, from) => wanted.set(name, [...(wanted.get(name) ?? []), ...from]);
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const folder = join(root, 'packages', name);
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    ours.set(manifest.name, folder);
    const needs = { ...manifest.dependencies, ...manifest.peerDependencies };
    for (const dependency of Object.keys(needs)) want(dependency, [join(folder, 'node_modules')]);
  }
  const folders = moduleFolders();
  for (const { code } of blocks) {
    for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const bare = specifier.replace(/^npm:/, '');
      if (/^(?:\.|\/|node:|jsr:)/.test(bare)) continue;
      // `npm:name@range` names a version too; the linked folder is whatever the workspace has.
      want(packageName(bare).replace(/(?<=.)@[^/]*$/, ''), folders);
    }
  }
  for (const [name, folder] of ours) {
    await mkdir(join(modules, name), { recursive: true });
    await copyFile(join(folder, 'package.json'), join(modules, name, 'package.json'));
    await cp(join(folder, 'dist'), join(modules, name, 'dist'), { recursive: true });
  }
  const linked = [];
  for (const [name, from] of wanted) {
    if (ours.has(name)) continue;
    const found = from.map((folder) => join(folder, name)).find((path) => existsSync(path));
    if (!found) continue; // a snippet importing it then fails with TS2307, naming it
    await mkdir(dirname(join(modules, name)), { recursive: true });
    await symlink(found, join(modules, name), 'dir');
    linked.push(name);
  }
  const dependencies = Object.fromEntries([...ours.keys(), ...linked].map((name) => [name, '*']));
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: 'readme-snippets', private: true, type: 'module', dependencies }, null, 2)}\n`,
  );
  return dir;
}

function snippetFile(dir, block, index) {
  const name = relative(root, block.readme).replace(/[\\/]/g, '__').replace(/\.md$/i, '');
  return join(dir, `${name}.L${block.firstLine}.${index}.ts`);
}

/** `README.md:line:column` for a position in a snippet file. */
function locate(files, file, line, column) {
  const block = files.get(resolve(file));
  if (!block) return `${file}:${line}:${column}`;
  return `${relative(root, block.readme)}:${block.firstLine + line - 1}:${column}`;
}

/** Typechecks the Node and Workers blocks with the TypeScript compiler API; returns the errors. */
function checkWithTsc(dir, files, profile) {
  const names = [...files].filter(([, block]) => block.profile === profile).map(([file]) => file);
  if (names.length === 0) return [];
  const configFile = join(root, 'scripts/tsconfig.readme-snippets.json');
  const config = ts.readConfigFile(configFile, ts.sys.readFile);
  if (config.error)
    throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, dir, undefined, configFile);
  const { options } = parsed;
  // 18003: "no inputs": the config names no files, the snippets are given as root names below.
  const errors = parsed.errors.filter((error) => error.code !== 18003);
  if (errors.length > 0)
    throw new Error(
      errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'),
    );
  // The Workers types replace Node's (both declare fetch, Request, Response…); the block brings
  // them in with its own reference directive.
  if (profile === 'workers') options.types = [];
  const program = ts.createProgram({ rootNames: names, options });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined)
      return `TS${diagnostic.code}: ${message}`;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${locate(files, diagnostic.file.fileName, line + 1, character + 1)} TS${diagnostic.code}: ${message}`;
  });
}

function denoBinary() {
  try {
    const manifest = createRequire(join(root, 'packages/edge/package.json')).resolve(
      'deno/package.json',
    );
    const binary = join(dirname(manifest), 'bin/deno');
    if (existsSync(binary)) return binary;
  } catch {}
  const bin = join(root, 'packages/edge/node_modules/.bin/deno');
  if (existsSync(bin)) return bin;
  throw new Error(
    'deno is not installed (it is a devDependency of packages/edge): run pnpm install',
  );
}

/** Typechecks the Deno blocks with `deno check`; returns the errors. */
async function checkWithDeno(dir, files) {
  const names = [...files].filter(([, block]) => block.profile === 'deno').map(([file]) => file);
  if (names.length === 0) return [];
  await writeFile(
    join(dir, 'deno.json'),
    `${JSON.stringify({
      nodeModulesDir: 'manual',
      compilerOptions: {
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
      },
    })}\n`,
  );
  const result = spawnSync(denoBinary(), ['check', '--no-lock', '--quiet', ...names], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    timeout: 120_000,
  });
  if (result.status === 0) return [];
  const output = `${result.stdout}${result.stderr}`.replace(
    /file:\/\/\S+?\.ts(?=:\d+:\d+)/g,
    (url) => fileURLToPath(url),
  );
  const located = output.replace(/(\/\S+?\.ts):(\d+):(\d+)/g, (whole, file, line, column) =>
    files.has(resolve(file)) ? locate(files, file, Number(line), Number(column)) : whole,
  );
  return [located.trim() || `deno check exited with ${result.status ?? result.signal}`];
}

const blocks = [];
for (const readme of readmes()) blocks.push(...snippets(readme, await readFile(readme, 'utf8')));
const dir = await scratchProject(blocks);
try {
  const files = new Map();
  for (const [index, block] of blocks.entries()) {
    const file = snippetFile(dir, block, index);
    await writeFile(file, block.code);
    files.set(resolve(file), block);
  }
  const errors = [
    ...checkWithTsc(dir, files, 'node'),
    ...checkWithTsc(dir, files, 'workers'),
    ...(await checkWithDeno(dir, files)),
  ];
  const count = (profile) => blocks.filter((block) => block.profile === profile).length;
  const summary = `${blocks.length} TypeScript blocks in ${new Set(blocks.map((b) => b.readme)).size} READMEs (Node ${count('node')}, Workers ${count('workers')}, Deno ${count('deno')})`;
  if (errors.length > 0) {
    console.error(errors.join('\n'));
    console.error(
      `\n${summary}: ${errors.length} error(s). Fix the block, or fence what is not a complete file as something else.`,
    );
    process.exitCode = 1;
  } else {
    console.log(`${summary} typecheck.`);
  }
} finally {
  if (process.env.KEEP_README_SNIPPETS !== '1') await rm(dir, { recursive: true, force: true });
  else console.log(`snippets kept in ${dir}`);
}
