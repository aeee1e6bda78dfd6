import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { startWorkerd as serve } from '@drillster-auth/testing/node';
import type { RuntimeServer } from './process.js';

// The npm package's main module names the binary and the newest compatibility date it supports.
const { default: workerd, compatibilityDate } = createRequire(import.meta.url)('workerd') as {
  default: string;
  compatibilityDate: string;
};

const template = new URL('../fixtures/worker.capnp.template', import.meta.url);

/** Options of {@link startWorkerd}. */
export interface WorkerdOptions {
  /** The bundled ES module Worker. The config is written beside it, as `embed` takes relative paths. */
  bundle: string;
  /** Bound as the JSON binding `ENV`. */
  env: unknown;
  /** A bundled fake KV service in the same directory: bound as the KV namespace `KV` and, for inspecting it, as the service `KV_ADMIN`. */
  kvService?: string;
  /** Compatibility flags for the Worker besides the two that turn Node compatibility off. */
  compatibilityFlags?: readonly string[];
}

/** Serves a bundled Worker with workerd on a free loopback port, learnt through `--control-fd`. */
export async function startWorkerd(options: WorkerdOptions): Promise<RuntimeServer> {
  const dir = dirname(options.bundle);
  const bindings = [`(name = "ENV", json = ${capnpText(JSON.stringify(options.env))})`];
  const services: string[] = [];
  if (options.kvService !== undefined) {
    bindings.push('(name = "KV", kvNamespace = "kv")', '(name = "KV_ADMIN", service = "kv")');
    services.push(
      `(name = "kv", worker = (modules = [(name = "kv.js", esModule = embed ${capnpText(basename(options.kvService))})], compatibilityDate = "${compatibilityDate}", compatibilityFlags = ["no_nodejs_compat", "no_nodejs_compat_v2"])),`,
    );
  }
  const config = (await readFile(template, 'utf8'))
    .replace('$SERVICES', services.join('\n'))
    .replace('$BINDINGS', bindings.join(', '))
    .replace('$BUNDLE', basename(options.bundle))
    .replace('$COMPATIBILITY_DATE', compatibilityDate)
    .replace(
      '$FLAGS',
      (options.compatibilityFlags ?? []).map((flag) => `, ${capnpText(flag)}`).join(''),
    );
  const configPath = join(dir, `${basename(options.bundle, '.js')}.capnp`);
  await writeFile(configPath, config);
  const server = await serve({ binary: workerd, config: configPath });
  return {
    ...server,
    async close() {
      await server.close();
      await rm(configPath, { force: true });
    },
  };
}

/** A Cap'n Proto text literal. JSON string escapes are valid there for the text we pass. */
function capnpText(text: string): string {
  return JSON.stringify(text);
}
