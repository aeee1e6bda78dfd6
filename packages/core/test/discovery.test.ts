import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMockDrillster } from '@drillster-auth/testing/node';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverTokenEndpoint } from '../src/discovery.js';
import { createHttpClient } from '../src/http.js';

const http = createHttpClient({ timeout: 2000 });
const servers: Array<{ close(): unknown }> = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A metadata server that serves `routes` (path → JSON body) and 404s everything else. */
async function metadataServer(
  routes: (origin: string) => Record<string, unknown>,
): Promise<string> {
  const server: Server = createServer((request, response) => {
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const body = routes(origin)[request.url ?? ''];
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(body === undefined ? '{"error":"not_found"}' : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('discoverTokenEndpoint', () => {
  it('reads the token endpoint from /.well-known/oauth-authorization-server', async () => {
    const server = await startMockDrillster();
    servers.push(server);
    expect(await discoverTokenEndpoint(http, server.issuer)).toBe(server.tokenEndpoint);
  });

  it('falls back to /.well-known/openid-configuration', async () => {
    const issuer = await metadataServer((origin) => ({
      '/.well-known/openid-configuration': {
        issuer: origin,
        token_endpoint: `${origin}/oauth/token`,
      },
    }));
    expect(await discoverTokenEndpoint(http, issuer)).toBe(`${issuer}/oauth/token`);
  });

  it('inserts the well-known segment before an issuer path (RFC 8414 §3.1)', async () => {
    const issuer = await metadataServer((origin) => ({
      '/.well-known/oauth-authorization-server/tenant': {
        issuer: `${origin}/tenant`,
        token_endpoint: `${origin}/tenant/token`,
      },
    }));
    expect(await discoverTokenEndpoint(http, `${issuer}/tenant`)).toBe(`${issuer}/tenant/token`);
  });

  it('refuses metadata that names another issuer', async () => {
    const server = await startMockDrillster({ issuer: 'https://evil.example' });
    servers.push(server);
    await expect(discoverTokenEndpoint(http, server.url)).rejects.toMatchObject({
      code: 'ERR_ISSUER_MISMATCH',
    });
  });

  it('refuses a plain-http token endpoint on a public host', async () => {
    const issuer = await metadataServer((origin) => ({
      '/.well-known/oauth-authorization-server': {
        issuer: origin,
        token_endpoint: 'http://www.drillster.com/daas/oauth/token',
      },
    }));
    await expect(discoverTokenEndpoint(http, issuer)).rejects.toMatchObject({
      code: 'ERR_INSECURE_ENDPOINT',
    });
  });

  it('reports missing metadata, missing token_endpoint and non-JSON as ERR_DISCOVERY', async () => {
    const none = await metadataServer(() => ({}));
    await expect(discoverTokenEndpoint(http, none)).rejects.toMatchObject({
      code: 'ERR_DISCOVERY',
    });
    const incomplete = await metadataServer((origin) => ({
      '/.well-known/oauth-authorization-server': { issuer: origin },
    }));
    await expect(discoverTokenEndpoint(http, incomplete)).rejects.toMatchObject({
      code: 'ERR_DISCOVERY',
    });
  });
});

describe('discoverTokenEndpoint retries transient failures', () => {
  const retry = { attempts: 3, baseDelay: 1, maxDelay: 3000 };

  async function mock() {
    const server = await startMockDrillster();
    servers.push(server);
    return server;
  }

  it('retries a 503, a 429 with Retry-After and a reset, like the token endpoint', async () => {
    const server = await mock();
    server.mock.injectFault({ endpoint: 'metadata', status: 503 });
    server.mock.injectFault({ endpoint: 'metadata', status: 429, retryAfter: 1 });
    const started = performance.now();
    expect(await discoverTokenEndpoint(http, server.issuer, { retry })).toBe(server.tokenEndpoint);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.mock.stats.metadataRequests).toBe(3);

    server.mock.resetStats();
    server.mock.injectFault({ endpoint: 'metadata', dropConnection: true, count: 2 });
    expect(await discoverTokenEndpoint(http, server.issuer, { retry })).toBe(server.tokenEndpoint);
    expect(server.mock.stats.metadataRequests).toBe(3);
  });

  it('after the last attempt, a transient failure shows as such: status, or a NetworkError', async () => {
    const server = await mock();
    server.mock.injectFault({ endpoint: 'metadata', status: 503, count: 3 });
    await expect(discoverTokenEndpoint(http, server.issuer, { retry })).rejects.toMatchObject({
      name: 'DiscoveryError',
      code: 'ERR_DISCOVERY',
      status: 503,
    });
    expect(server.mock.stats.metadataRequests).toBe(3);

    server.mock.injectFault({ endpoint: 'metadata', dropConnection: true, count: 3 });
    await expect(discoverTokenEndpoint(http, server.issuer, { retry })).rejects.toMatchObject({
      name: 'NetworkError',
      code: 'ERR_NETWORK',
    });
  });

  it('does not retry what will not change: 400, a bad document, a Retry-After past maxDelay', async () => {
    const server = await mock();
    server.mock.injectFault({ endpoint: 'metadata', status: 400 });
    await expect(discoverTokenEndpoint(http, server.issuer, { retry })).rejects.toMatchObject({
      code: 'ERR_DISCOVERY',
      status: 400,
    });
    server.mock.injectFault({ endpoint: 'metadata', body: '{"issuer":' });
    await expect(discoverTokenEndpoint(http, server.issuer, { retry })).rejects.toMatchObject({
      code: 'ERR_DISCOVERY',
      status: undefined,
    });
    server.mock.injectFault({ endpoint: 'metadata', status: 503, retryAfter: 60 });
    await expect(discoverTokenEndpoint(http, server.issuer, { retry })).rejects.toMatchObject({
      status: 503,
      retryAfter: 60,
    });
    expect(server.mock.stats.metadataRequests).toBe(3);
  });

  it('without a policy, makes one attempt', async () => {
    const server = await mock();
    server.mock.injectFault({ endpoint: 'metadata', status: 503 });
    await expect(discoverTokenEndpoint(http, server.issuer)).rejects.toMatchObject({ status: 503 });
    expect(server.mock.stats.metadataRequests).toBe(1);
  });

  it('quotes a hostile issuer only as printable ASCII, cut short', async () => {
    const issuer = await metadataServer(() => ({
      '/.well-known/oauth-authorization-server': { issuer: `\u001b[31m${'x'.repeat(500)}` },
    }));
    const error = await discoverTokenEndpoint(http, issuer).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'ERR_ISSUER_MISMATCH' });
    expect((error as Error).message).not.toContain('\u001b');
    expect((error as Error).message.length).toBeLessThan(300);
  });
});
