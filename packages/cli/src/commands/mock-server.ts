import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { ENV } from '../config.js';
import { CliError } from '../errors.js';

/** What `mock-server --json` prints, on one line, once the server is ready. */
export interface MockServerInfo {
  issuer: string;
  tokenEndpoint: string;
  /** Base URL of the protected API, ending in `/`; `${apiBaseUrl}user` needs a token. */
  apiBaseUrl: string;
  /** The service account key file, written with mode 0600 and removed on exit. */
  keyFile: string;
  serviceAccountId: string;
  keyId: string;
  clientId: string;
  /** The mock's own throwaway secret, good for this server run only. */
  clientSecret: string;
  /** A managed user to try `--subject` with. */
  managedUserId: string;
  managedUserEmail: string;
}

/** `drillster-auth mock-server`: runs a local mock Drillster until stopped. */
export const mockServerCommand: Command = {
  name: 'mock-server',
  summary: 'Run a local mock Drillster authorization server to try things out',
  help: `Usage: drillster-auth mock-server [--port N] [--host H] [--json]

Starts a mock Drillster authorization server (token endpoint, metadata and a protected
/api/2.1.1/user resource), creates a service account, a client and a managed user, writes
the key file to a new temporary file (mode 0600), and prints the settings, including the
client secret: it is the mock's own throwaway secret, valid only while this server runs.
Runs until SIGINT (Ctrl-C) or SIGTERM, then closes and removes the key file.

Options:
  --port N     Port to listen on. Default 0: any free port.
  --host H     Address to listen on. Default 127.0.0.1.
  --json       Print the settings as one line of JSON (for scripts) instead of text.
  -h, --help   Show this help.

Example:
  drillster-auth mock-server --port 8080
  # then, in another shell, paste the printed export lines and run:
  drillster-auth token`,

  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    json: { type: 'boolean' },
  },

  async run(parsed, { io }) {
    const port = parsePort(parsed.values.port);
    const host = typeof parsed.values.host === 'string' ? parsed.values.host : '127.0.0.1';
    const stop = io.signal ?? processSignals();

    // Loaded on demand so the token commands do not pay for the mock server's startup.
    const { startMockDrillster } = await import('@drillster-auth/testing/node');
    const server = await startMockDrillster({ port, host }).catch((error: unknown) => {
      const reason = (error as NodeJS.ErrnoException).code ?? 'failed';
      throw new CliError('ERR_LISTEN', `cannot listen on ${host}:${port}: ${reason}`, {
        cause: error,
      });
    });
    const directory = await mkdtemp(join(tmpdir(), 'drillster-auth-mock-'));
    try {
      const { account, client, managedUser: user } = await server.provision();
      const keyFile = join(directory, 'service-account.json');
      await writeFile(keyFile, account.keyFileJson, { mode: 0o600 });
      const origin = reachableOrigin(server.url);
      const info: MockServerInfo = {
        issuer: origin,
        tokenEndpoint: `${origin}/daas/oauth/token`,
        apiBaseUrl: `${origin}/api/2.1.1/`,
        keyFile,
        serviceAccountId: account.serviceAccountId,
        keyId: account.keyId,
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        managedUserId: user.userId,
        managedUserEmail: user.email,
      };
      io.stdout.write(parsed.values.json ? `${JSON.stringify(info)}\n` : describe(info));
      await stopped(stop);
      return 0;
    } finally {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    }
  },
};

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || port > 65_535) {
    throw new CliError(
      'ERR_USAGE',
      `--port must be a port number from 0 to 65535 (got ${JSON.stringify(value)})`,
    );
  }
  return port;
}

/**
 * A wildcard address (`--host 0.0.0.0`) cannot be connected to, and the SDK allows plain http
 * on loopback only, so clients on this machine are pointed at loopback. The mock takes its
 * issuer from each request's origin, so the metadata agrees.
 */
function reachableOrigin(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0') parsed.hostname = '127.0.0.1';
  if (parsed.hostname === '[::]') parsed.hostname = '[::1]';
  return parsed.origin;
}

function describe(info: MockServerInfo): string {
  return `Mock Drillster is running (Ctrl-C to stop).

  issuer              ${info.issuer}
  token endpoint      ${info.tokenEndpoint}
  protected resource  ${info.apiBaseUrl}user
  key file            ${info.keyFile}
  service account id  ${info.serviceAccountId}
  client id           ${info.clientId}
  client secret       ${info.clientSecret}   (this mock's throwaway secret)
  managed user        ${info.managedUserId} (${info.managedUserEmail})

Paste into another shell:

export ${ENV.issuer}=${shellQuote(info.issuer)}
export ${ENV.keyFile}=${shellQuote(info.keyFile)}
export ${ENV.clientId}=${shellQuote(info.clientId)}
export ${ENV.clientSecret}=${shellQuote(info.clientSecret)}

then: drillster-auth token --subject ${shellQuote(info.managedUserId)}
`;
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Aborts on the first SIGINT or SIGTERM; the handlers keep Node from dying before cleanup. */
function processSignals(): AbortSignal {
  const controller = new AbortController();
  const onSignal = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

function stopped(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
