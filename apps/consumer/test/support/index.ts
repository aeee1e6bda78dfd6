/**
 * Helpers for the consumer stage: our packages as a new user gets them (the tarballs `pnpm pack`
 * makes), installed with npm into fresh projects outside the workspace, run with the Node
 * binaries of the npm `node` package.
 *
 * Every scenario file imports from here; nothing in it knows about a particular scenario.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** `apps/consumer/fixtures`: files for the fresh projects, one folder per scenario. */
export const fixturesDir = resolve(repoRoot, 'apps/consumer/fixtures');

/**
 * npm's cache, kept between runs so a warm run installs without the network
 * (`DRILLSTER_CONSUMER_CACHE` overrides the folder; default `~/.cache/drillster-auth`).
 */
export const cacheRoot =
  process.env.DRILLSTER_CONSUMER_CACHE ?? join(homedir(), '.cache/drillster-auth');
const npmCache = join(cacheRoot, 'npm');
const nodeCache = join(cacheRoot, 'node');

/**
 * This run's scratch folder under the OS temp dir (never under the workspace, so nothing there
 * can resolve a workspace package by walking up). globalSetup creates it and removes it at the end
 * unless `DRILLSTER_CONSUMER_KEEP=1`.
 */
export function runDir(): string {
  const dir = process.env.DRILLSTER_CONSUMER_RUN_DIR;
  if (!dir)
    throw new Error('DRILLSTER_CONSUMER_RUN_DIR is unset: run through vitest (globalSetup)');
  return dir;
}

/** Package name (`@drillster-auth/core`) → absolute path of its packed tarball. */
export type Tarballs = Readonly<Record<string, string>>;

let packed: Promise<Tarballs> | undefined;

/**
 * Packs every publishable package (`packages/*`) once per run with `pnpm pack`, which rewrites
 * `workspace:` ranges as publishing would. globalSetup packs first and hands the result to the
 * test workers through `DRILLSTER_CONSUMER_TARBALLS`; a later call returns that, never repacks.
 * Expects the packages built (turbo's `test` depends on every package's `build`).
 */
export function packAll(): Promise<Tarballs> {
  const handed = process.env.DRILLSTER_CONSUMER_TARBALLS;
  if (handed) return Promise.resolve(JSON.parse(handed) as Tarballs);
  packed ??= pack();
  return packed;
}

async function pack(): Promise<Tarballs> {
  const packages = await readdir(join(repoRoot, 'packages'));
  // pnpm packs whatever dist/ holds; a package not built (or being rebuilt) would install broken.
  for (const name of packages) {
    const manifest = JSON.parse(
      await readFile(join(repoRoot, 'packages', name, 'package.json'), 'utf8'),
    ) as { main?: string; types?: string; exports?: unknown };
    for (const target of new Set([
      manifest.main,
      manifest.types,
      ...exportTargets(manifest.exports),
    ])) {
      if (target && !existsSync(join(repoRoot, 'packages', name, target))) {
        throw new Error(
          `${join('packages', name, target)} is missing: not built, being rebuilt, or named by exports but never built (turbo run build)`,
        );
      }
    }
  }
  const destination = join(runDir(), 'tarballs');
  await mkdir(destination, { recursive: true });
  await runOk(
    'npx',
    [
      '-y',
      'pnpm@10.34.9',
      '-r',
      '--filter',
      './packages/*',
      'pack',
      '--pack-destination',
      destination,
    ],
    { cwd: repoRoot, timeout: 120_000 },
  );
  const tarballs: Record<string, string> = {};
  for (const name of packages) {
    const manifest = JSON.parse(
      await readFile(join(repoRoot, 'packages', name, 'package.json'), 'utf8'),
    ) as { name: string; version: string; private?: boolean };
    if (manifest.private) continue;
    const file = join(
      destination,
      `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`,
    );
    if (!existsSync(file)) throw new Error(`pnpm pack made no tarball for ${manifest.name}`);
    tarballs[manifest.name] = file;
  }
  process.env.DRILLSTER_CONSUMER_TARBALLS = JSON.stringify(tarballs);
  return tarballs;
}

/** Every file path an `exports` map names (all conditions, all subpaths). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return exports.startsWith('./') ? [exports] : [];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

/** Files of a fresh project: path relative to the project → content. */
export type Files = Readonly<Record<string, string>>;

/**
 * Creates an empty project folder `<run dir>/<name>-XXXXXX` and writes `files` into it
 * (folders made as needed). When `files` has no `package.json`, one is written:
 * `{ "name": name, "private": true, "type": "module" }`.
 * Returns the folder's absolute path.
 */
export async function freshProject(name: string, files: Files = {}): Promise<string> {
  const root = join(runDir(), 'projects');
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, `${name}-`));
  const all: Record<string, string> = { ...files };
  all['package.json'] ??= `${JSON.stringify({ name, private: true, type: 'module' }, null, 2)}\n`;
  for (const [path, content] of Object.entries(all)) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return dir;
}

/**
 * Reads `apps/consumer/fixtures/<name>` (recursively) into {@link Files}, for
 * `freshProject(name, { ...fixtureFiles(name), ...more })`.
 */
export async function fixtureFiles(name: string): Promise<Files> {
  const base = join(fixturesDir, name);
  const files: Record<string, string> = {};
  for (const entry of await readdir(base, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    files[file.slice(base.length + 1)] = await readFile(file, 'utf8');
  }
  return files;
}

/** Options of {@link npmInstall}. */
export interface NpmInstallOptions {
  /** Install these as devDependencies instead of dependencies. Default `false`. */
  readonly dev?: boolean;
  /** `--legacy-peer-deps` (npm 6 peer handling). Default `false`: npm resolves peers as users get them. */
  readonly legacyPeerDeps?: boolean;
  /** Install timeout in milliseconds. Default 240 000. */
  readonly timeout?: number;
}

/**
 * Adds `deps` to the project's package.json and runs `npm install` there, with the shared cache,
 * `--prefer-offline --no-audit --no-fund`. A dep is `name` or `name@range` (`typescript@~5.9.3`);
 * our packages (`@drillster-auth/…`, no range) come from their tarballs, and every one of our
 * packages is also pinned to its tarball through `overrides`, so a dependency between our
 * packages (nest → axios) never reaches the registry. Throws with npm's output when it fails.
 */
export async function npmInstall(
  dir: string,
  deps: readonly string[],
  options: NpmInstallOptions = {},
): Promise<void> {
  const tarballs = await packAll();
  const manifestFile = join(dir, 'package.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  const field = options.dev ? 'devDependencies' : 'dependencies';
  const listed = { ...(manifest[field] as Record<string, string> | undefined) };
  for (const dep of deps) {
    const [name, range] = splitSpec(dep);
    const tarball = tarballs[name];
    if (name.startsWith('@drillster-auth/') && !tarball) throw new Error(`no tarball for ${name}`);
    listed[name] = tarball ? `file:${tarball}` : (range ?? 'latest');
  }
  manifest[field] = listed;
  const direct = {
    ...(manifest.dependencies as Record<string, string> | undefined),
    ...(manifest.devDependencies as Record<string, string> | undefined),
  };
  // npm refuses an override that differs from a direct dependency's spec (EOVERRIDE), so only
  // the packages not listed directly are pinned this way.
  const overrides = { ...(manifest.overrides as Record<string, string> | undefined) };
  for (const [name, tarball] of Object.entries(tarballs)) {
    if (!(name in direct)) overrides[name] = `file:${tarball}`;
  }
  manifest.overrides = overrides;
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  await runOk('npm', ['install', ...npmFlags(options)], {
    cwd: dir,
    timeout: options.timeout ?? 240_000,
  });
}

/** The flags every npm install of the stage uses (cache, offline first, quiet). */
export function npmFlags(options: Pick<NpmInstallOptions, 'legacyPeerDeps'> = {}): string[] {
  return [
    '--cache',
    npmCache,
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--loglevel=error',
    ...(options.legacyPeerDeps ? ['--legacy-peer-deps'] : []),
  ];
}

function splitSpec(dep: string): [string, string | undefined] {
  const at = dep.indexOf('@', 1);
  return at === -1 ? [dep, undefined] : [dep.slice(0, at), dep.slice(at + 1)];
}

/** What {@link run} saw. */
export interface RunResult {
  /** Exit code; `null` when a signal (or the timeout) ended the process. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Working directory. */
  readonly cwd: string;
  /** Added to (and overriding) the cleaned environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Kill the process (SIGKILL) after this many milliseconds. Default 120 000. */
  readonly timeout?: number;
  /** Written to stdin, which is then closed. Default: stdin closed at once. */
  readonly input?: string;
}

/**
 * Runs a command and resolves with its exit code and output (never rejects on a non-zero exit:
 * tests assert on it). The environment is this process's minus what the workspace run adds
 * (`npm_config_*`, `npm_package_*`, pnpm/turbo/vitest variables, `NODE_OPTIONS`, the workspace's
 * `node_modules/.bin` on `PATH`), so a fresh project sees what a user's shell would.
 */
export function run(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeout ?? 120_000} ms]`;
      child.kill('SIGKILL');
    }, options.timeout ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** {@link run}, but rejects (with the command and its output) unless it exits with 0. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  options: RunOptions,
): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} (in ${options.cwd}) exited with ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

const leaked = /^(npm_config_|npm_package_|npm_lifecycle_|PNPM_|pnpm_|TURBO_|VITEST)/;

function cleanEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (leaked.test(key) || key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((entry) => !entry.startsWith(repoRoot))
    .join(delimiter);
  env.npm_config_update_notifier = 'false';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** The Node lines the stage runs on: the lowest our `engines` allow, and each supported major. */
export type NodeVersion = '20.11.1' | '20' | '22' | '24';

const installing = new Map<NodeVersion, Promise<string>>();

/**
 * Absolute path of a Node binary of that version, from the npm `node` package, installed once
 * into `~/.cache/drillster-auth/node/<version>` and reused by later runs (delete the folder to
 * take a newer release of a major). Safe to call from several workers at once.
 */
export function nodeBinary(version: NodeVersion): Promise<string> {
  let pending = installing.get(version);
  if (!pending) {
    pending = installNode(version);
    installing.set(version, pending);
  }
  return pending;
}

async function installNode(version: NodeVersion): Promise<string> {
  const target = join(nodeCache, version);
  const binary = join(target, 'node_modules/node/bin/node');
  if (!existsSync(binary)) {
    await mkdir(nodeCache, { recursive: true });
    const scratch = await mkdtemp(join(nodeCache, `.${version}-`));
    await writeFile(join(scratch, 'package.json'), '{ "private": true }\n');
    await runOk('npm', ['install', `node@${version}`, ...npmFlags()], {
      cwd: scratch,
      timeout: 300_000,
    });
    // Another worker may have finished first; its copy is as good as ours.
    await rename(scratch, target).catch(async () => {
      await rm(scratch, { recursive: true, force: true });
    });
  }
  const { stdout } = await runOk(binary, ['--version'], { cwd: target });
  if (
    version.includes('.') ? stdout.trim() !== `v${version}` : !stdout.startsWith(`v${version}.`)
  ) {
    throw new Error(`${binary} is ${stdout.trim()}, not Node ${version}`);
  }
  return binary;
}
