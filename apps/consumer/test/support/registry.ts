/**
 * A throwaway npm registry on loopback that serves only our packed tarballs, for installs npm
 * resolves by name: `npm i -g @drillster-auth/cli` fetches the CLI's own dependencies
 * (`@drillster-auth/core@^0.1.0`, …) by name, and overrides do not reach a global install.
 * Point the scope at it with `--@drillster-auth:registry=<url>`; everything else still comes from
 * the real registry.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { runOk, type Tarballs } from './index.js';

/** A running {@link startTarballRegistry}. */
export interface TarballRegistry {
  /** Base URL, ending in `/`. */
  readonly url: string;
  /** The npm flag that sends the `@drillster-auth` scope here. */
  readonly scopeFlag: string;
  close(): Promise<void>;
}

/** Serves a packument per package (its packed manifest, one version) and the tarballs. */
export async function startTarballRegistry(tarballs: Tarballs): Promise<TarballRegistry> {
  const files = new Map<string, Buffer>();
  const entries = await Promise.all(
    Object.entries(tarballs).map(async ([name, file]) => {
      const bytes = await readFile(file);
      const { stdout } = await runOk('tar', ['-xzOf', file, 'package/package.json'], {
        cwd: '/',
      });
      files.set(basename(file), bytes);
      return {
        name,
        file: basename(file),
        bytes,
        manifest: JSON.parse(stdout) as { version: string },
      };
    }),
  );
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const tarball = path.startsWith('/-/') ? files.get(path.slice(3)) : undefined;
    if (tarball) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
      return;
    }
    const entry = entries.find(({ name }) => path === `/${name}`);
    if (!entry) {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const { version } = entry.manifest;
    const packument = {
      name: entry.name,
      'dist-tags': { latest: version },
      versions: {
        [version]: {
          ...entry.manifest,
          _id: `${entry.name}@${version}`,
          dist: {
            tarball: `${url}-/${entry.file}`,
            integrity: `sha512-${createHash('sha512').update(entry.bytes).digest('base64')}`,
            shasum: createHash('sha1').update(entry.bytes).digest('hex'),
          },
        },
      },
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    scopeFlag: `--@drillster-auth:registry=${url}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
