import { readFile } from 'node:fs/promises';
import type { DrillsterAuthOptions } from '@drillster-auth/core';
import type { ParsedArgs } from './args.js';
import { CliError } from './errors.js';
import type { Secrets } from './secrets.js';

/** Flags shared by the commands that talk to Drillster (`token`, `assertion`). */
export const CONNECTION_OPTIONS = {
  'key-file': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-secret-file': { type: 'string' },
  issuer: { type: 'string' },
  'token-endpoint': { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** Help text for {@link CONNECTION_OPTIONS}. */
export const CONNECTION_HELP = `Configuration (a flag wins over its environment variable):
  --key-file PATH            Service account JSON key file.        env DRILLSTER_KEY_FILE
  --client-id ID             Client id of your client application. env DRILLSTER_CLIENT_ID
  --client-secret-file PATH  File holding the client secret.       env DRILLSTER_CLIENT_SECRET_FILE
  --client-secret SECRET     The client secret itself.             env DRILLSTER_CLIENT_SECRET
                             A flag's value is visible to other users in \`ps\` and lands in
                             shell history: prefer the file or the environment variable.
  --issuer URL               Authorization server whose metadata names the token endpoint.
                             Default https://www.drillster.com.     env DRILLSTER_ISSUER
  --token-endpoint URL       Token endpoint; skips discovery.      env DRILLSTER_TOKEN_ENDPOINT
                             Passing --issuer or --token-endpoint ignores both variables.
  --timeout MS               Timeout of each HTTP request, in milliseconds. Default 10000.`;

/** Environment variables the commands read. */
export const ENV = {
  keyFile: 'DRILLSTER_KEY_FILE',
  clientId: 'DRILLSTER_CLIENT_ID',
  clientSecret: 'DRILLSTER_CLIENT_SECRET',
  clientSecretFile: 'DRILLSTER_CLIENT_SECRET_FILE',
  issuer: 'DRILLSTER_ISSUER',
  tokenEndpoint: 'DRILLSTER_TOKEN_ENDPOINT',
  cache: 'DRILLSTER_CACHE',
} as const;

/**
 * Stands in for client credentials when a command needs none: signing an assertion uses only
 * the key, but the core client insists on both.
 */
const UNUSED_CREDENTIAL = 'unused-by-this-command';

/**
 * Turns flags and environment variables into options for `createDrillsterAuth`.
 * Reads the key file and the client secret file. Remembers the client secret in `secrets`.
 *
 * @param needsClient Whether the client id and secret are required (false for `assertion`).
 * @throws {CliError} `ERR_MISSING_CONFIG`, `ERR_INVALID_CONFIG`, `ERR_KEY_FILE_READ` or `ERR_SECRET_FILE_READ`.
 */
export async function resolveAuthOptions(
  args: ParsedArgs,
  env: Record<string, string | undefined>,
  secrets: Secrets,
  needsClient: boolean,
): Promise<DrillsterAuthOptions> {
  const flag = (name: keyof typeof CONNECTION_OPTIONS) => nonEmpty(args.values[name]);
  const variable = (name: string) => nonEmpty(env[name]);

  const keyFile = flag('key-file') ?? variable(ENV.keyFile);
  const clientId = flag('client-id') ?? variable(ENV.clientId);
  const clientSecret = await resolveClientSecret(args, env);
  secrets.add(clientSecret);

  const missing: string[] = [];
  if (keyFile === undefined) missing.push(`key file (--key-file or ${ENV.keyFile})`);
  if (needsClient && clientId === undefined) {
    missing.push(`client id (--client-id or ${ENV.clientId})`);
  }
  if (needsClient && clientSecret === undefined) {
    missing.push(`client secret (--client-secret-file, ${ENV.clientSecret} or --client-secret)`);
  }
  if (missing.length > 0 || keyFile === undefined) {
    throw new CliError('ERR_MISSING_CONFIG', `missing configuration: ${missing.join(', ')}`);
  }

  // Issuer and endpoint go together: a flag for one means the environment's pair is not wanted.
  const endpointFlags = flag('issuer') !== undefined || flag('token-endpoint') !== undefined;
  const issuer = endpointFlags ? flag('issuer') : variable(ENV.issuer);
  const tokenEndpoint = endpointFlags ? flag('token-endpoint') : variable(ENV.tokenEndpoint);

  const key = await readText(keyFile, 'ERR_KEY_FILE_READ', 'key file');
  secrets.addKeyMaterial(key);
  return {
    key,
    clientId: clientId ?? UNUSED_CREDENTIAL,
    clientSecret: clientSecret ?? UNUSED_CREDENTIAL,
    ...(issuer !== undefined ? { issuer } : {}),
    ...(tokenEndpoint !== undefined ? { tokenEndpoint } : {}),
    ...timeoutOption(flag('timeout')),
  };
}

async function resolveClientSecret(
  args: ParsedArgs,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const inline = nonEmpty(args.values['client-secret']);
  const file = nonEmpty(args.values['client-secret-file']);
  if (inline !== undefined && file !== undefined) {
    throw new CliError(
      'ERR_USAGE',
      'pass either --client-secret or --client-secret-file, not both',
    );
  }
  if (inline !== undefined) return inline;
  if (file !== undefined) return readSecretFile(file);
  const fromEnv = nonEmpty(env[ENV.clientSecret]);
  if (fromEnv !== undefined) return fromEnv;
  const envFile = nonEmpty(env[ENV.clientSecretFile]);
  return envFile === undefined ? undefined : readSecretFile(envFile);
}

async function readSecretFile(path: string): Promise<string> {
  // `echo secret > file` leaves a newline that is not part of the secret.
  const secret = (await readText(path, 'ERR_SECRET_FILE_READ', 'client secret file')).replace(
    /[\r\n]+$/,
    '',
  );
  if (secret === '') {
    throw new CliError('ERR_INVALID_CONFIG', `the client secret file ${path} is empty`);
  }
  return secret;
}

async function readText(
  path: string,
  code: 'ERR_KEY_FILE_READ' | 'ERR_SECRET_FILE_READ',
  what: string,
): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    // The system error's code says enough (ENOENT, EACCES…); its message would repeat the path.
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(code, `cannot read the ${what} ${path}: ${reason}`, { cause: error });
  }
}

function timeoutOption(value: string | undefined): { timeout?: number } {
  if (value === undefined) return {};
  const timeout = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(timeout) || timeout < 1) {
    throw new CliError(
      'ERR_USAGE',
      `--timeout must be a whole number of milliseconds, at least 1 (got ${JSON.stringify(value)})`,
    );
  }
  return { timeout };
}

/** `value` when it is a non-empty string: an empty flag or variable counts as unset. */
export function nonEmpty(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
