import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the echo server saw it. */
export interface EchoedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: string;
}

/** A loopback server that is not Drillster: it records requests by their `run` query parameter. */
export interface EchoServer {
  url: string;
  requests(run: string): EchoedRequest[];
  close(): Promise<void>;
}

/**
 * Paths: `/redirect?to=<url>` answers 302 to `to`; `/always-401` answers 401 with a bearer challenge; `/401-once` answers 401 to the first
 * request of a run and 200 after; anything else answers 200. A 200 echoes the request as JSON.
 */
export async function startEchoServer(): Promise<EchoServer> {
  const runs = new Map<string, EchoedRequest[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo');
      const run = url.searchParams.get('run') ?? '';
      const seen: EchoedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const list = runs.get(run) ?? [];
      list.push(seen);
      runs.set(run, list);
      const location = url.searchParams.get('to');
      if (url.pathname === '/redirect' && location !== null) {
        res.writeHead(302, { location });
        res.end();
        return;
      }
      const refuse =
        url.pathname === '/always-401' || (url.pathname === '/401-once' && list.length === 1);
      if (refuse) {
        res.writeHead(401, {
          'www-authenticate': 'Bearer error="invalid_token"',
          'content-type': 'text/plain',
        });
        res.end('unauthorized');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(seen));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (run) => runs.get(run) ?? [],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
