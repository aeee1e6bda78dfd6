import { readFile } from 'node:fs/promises';
import { delimiter } from 'node:path';
import type { DrillsterAuthOptions } from '@drillster-auth/core';
import type { ParsedArgs } from './args.js';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';
import { isJsonObject } from './json.js';
import { rememberingFetch, type Secrets } from './secrets.js';
import { warn } from './terminal.js';

/** Flags shared by the commands that talk to Drillster (`token`, `assertion`). */
export const CONNECTION_OPTIONS = {
  'key-file': { type: 'string', multiple: true },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'client-secret-file': { type: 'string' },
  issuer: { type: 'string' },
  'token-endpoint': { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** Help text for {@link CONNECTION_OPTIONS}. */
export const CONNECTION_HELP = `Configuration (a flag wins over its environment variable):
  --key-file PATH|JSON       Service account JSON key file: its path, or its JSON text
                             (a value starting with "{").          env DRILLSTER_KEY_FILE
                             Repeat it to list several keys of the service account in
                             order of preference (key rotation: the next key signs when
                             Drillster refuses one). The variable lists several as paths
                             separated by "${delimiter}", or as a JSON array of key files.
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
 * Reads the key file and the client secret file. Remembers the client secret and the key
 * material in `secrets`. Warns on `io.stderr` about a secret passed as a flag.
 *
 * @param needsClient Whether the client id and secret are required (false for `assertion`).
 * @throws {CliError} `ERR_MISSING_CONFIG`, `ERR_INVALID_CONFIG`, `ERR_KEY_FILE_READ` or `ERR_SECRET_FILE_READ`.
 */
export async function resolveAuthOptions(
  args: ParsedArgs,
  io: CliIo,
  secrets: Secrets,
  needsClient: boolean,
): Promise<DrillsterAuthOptions> {
  const { env } = io;
  const flag = (name: keyof typeof CONNECTION_OPTIONS) => nonEmpty(args.values[name]);
  const variable = (name: string) => nonEmpty(env[name]);

  const keyFileFlags = (args.lists['key-file'] ?? []).filter((value) => value !== '');
  const keyFiles =
    keyFileFlags.length > 0 ? keyFileFlags : listedKeyFiles(variable(ENV.keyFile), secrets);
  const keySource = keyFileFlags.length > 0 ? '--key-file' : ENV.keyFile;
  const clientId = flag('client-id') ?? variable(ENV.clientId);
  const clientSecret = await resolveClientSecret(args, env);
  secrets.add(clientSecret);
  if (nonEmpty(args.values['client-secret']) !== undefined) {
    warn(
      io,
      `--client-secret is visible to other users of this machine in \`ps\` and lands in shell history; pass the secret with --client-secret-file, ${ENV.clientSecretFile} or ${ENV.clientSecret} instead`,
    );
  }
  if (keyFileFlags.some(isKeyFileText)) {
    warn(
      io,
      `--key-file with the key file's text puts the private key in \`ps\` and shell history; pass a path, or the text in ${ENV.keyFile}`,
    );
  }

  const missing: string[] = [];
  if (keyFiles.length === 0) missing.push(`key file (--key-file or ${ENV.keyFile})`);
  if (needsClient && clientId === undefined) {
    missing.push(`client id (--client-id or ${ENV.clientId})`);
  }
  if (needsClient && clientSecret === undefined) {
    missing.push(`client secret (--client-secret-file, ${ENV.clientSecret} or --client-secret)`);
  }
  if (missing.length > 0) {
    throw new CliError('ERR_MISSING_CONFIG', `missing configuration: ${missing.join(', ')}`);
  }

  // Issuer and endpoint go together: a flag for one means the environment's pair is not wanted.
  const endpointFlags = flag('issuer') !== undefined || flag('token-endpoint') !== undefined;
  const issuer = endpointFlags ? flag('issuer') : variable(ENV.issuer);
  const tokenEndpoint = endpointFlags ? flag('token-endpoint') : variable(ENV.tokenEndpoint);

  const keys: string[] = [];
  // One at a time, so the first unreadable one is the one reported.
  for (const keyFile of keyFiles) keys.push(await readKeyFile(keyFile, keySource, secrets));
  return {
    key: keys.length === 1 ? (keys[0] as string) : keys,
    clientId: clientId ?? UNUSED_CREDENTIAL,
    clientSecret: clientSecret ?? UNUSED_CREDENTIAL,
    fetch: rememberingFetch(secrets),
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
  if (file !== undefined) return readSecretFile(file, '--client-secret-file');
  const fromEnv = nonEmpty(env[ENV.clientSecret]);
  if (fromEnv !== undefined) return fromEnv;
  const envFile = nonEmpty(env[ENV.clientSecretFile]);
  return envFile === undefined ? undefined : readSecretFile(envFile, ENV.clientSecretFile);
}

/**
 * The client secret in the file at `path`. The path is never printed: a secret put where its
 * file's path belongs would otherwise be shown; the flag or variable it came from is named.
 */
async function readSecretFile(path: string, source: string): Promise<string> {
  // `echo secret > file` leaves a newline that is not part of the secret.
  const text = await readText(
    path,
    'ERR_SECRET_FILE_READ',
    `client secret file named by ${source}`,
  );
  const secret = text.replace(/[\r\n]+$/, '');
  if (secret === '') {
    throw new CliError('ERR_INVALID_CONFIG', `the client secret file named by ${source} is empty`);
  }
  return secret;
}

/**
 * The key file's text from `value`, which is either the key file's JSON text (what a secret
 * store or `wrangler secret put` holds, and what the edge and Redis examples pass as `key`) or
 * the file's path. JSON text starts with `{` after any white space or byte order mark; a path
 * that starts with `{` is not worth supporting. A byte order mark is dropped. Remembers the
 * key material in `secrets`.
 *
 * @param source Where `value` came from (`--key-file`, `DRILLSTER_KEY_FILE`), named in messages.
 * @throws {CliError} `ERR_KEY_FILE_READ` when `value` is not JSON text and no readable file.
 */
export async function readKeyFile(
  value: string,
  source: string,
  secrets: Secrets,
): Promise<string> {
  if (isKeyFileText(value)) {
    secrets.addKeyMaterial(value);
    // trimStart() drops a byte order mark (U+FEFF) with the white space.
    return value.trimStart();
  }
  // Only a plain file name is quoted: anything else may be key material put where the path
  // belongs (a PEM, the file in base64), which no message may repeat. Key material is long;
  // scrubbing a short value such as `file` would mangle the message instead.
  const quotable = isPlainPath(value);
  if (!quotable && value.length >= 16) secrets.add(value);
  const text = await readText(
    value,
    'ERR_KEY_FILE_READ',
    quotable
      ? `key file ${value}`
      : `key file named by ${source} (the value is neither the key file's JSON text nor a readable path)`,
  );
  secrets.addKeyMaterial(text);
  return withoutBom(text);
}

/**
 * The key files `DRILLSTER_KEY_FILE` lists, in order: the variable holds one key file's JSON
 * text, a JSON array of key files (each an object, its JSON text or a path: what a secret store
 * holds during a rotation), or one or more paths separated by the platform's path delimiter
 * (`:`, on Windows `;`, as in `PATH`). Key material in the array is remembered in `secrets`.
 *
 * @throws {CliError} `ERR_INVALID_CONFIG` for an array that is no JSON, is empty or holds
 * something else; its text is never quoted.
 */
export function listedKeyFiles(value: string | undefined, secrets: Secrets): string[] {
  if (value === undefined) return [];
  if (isKeyFileText(value)) return [value];
  if (!value.trimStart().startsWith('[')) {
    return value.split(delimiter).filter((path) => path !== '');
  }
  let list: unknown;
  try {
    list = JSON.parse(value.trimStart());
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list) || list.length === 0) {
    // The parser's message would quote the text, key material included.
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `${ENV.keyFile} starts with "[" but is not a non-empty JSON array of key files`,
    );
  }
  return list.map((item, index) => {
    if (typeof item === 'string' && item !== '') return item;
    if (isJsonObject(item)) {
      const text = JSON.stringify(item);
      secrets.addKeyMaterial(text);
      return text;
    }
    throw new CliError(
      'ERR_INVALID_CONFIG',
      `${ENV.keyFile}[${index}] must be a key file (an object), its JSON text or its path`,
    );
  });
}

/** Windows editors save UTF-8 with a byte order mark, which is not JSON. */
function withoutBom(text: string): string {
  return text.replace(/^\uFEFF/, '');
}

/** Whether `value` is a key file's JSON text rather than a path. */
export function isKeyFileText(value: string): boolean {
  // trimStart() also removes a byte order mark (U+FEFF), which some editors put before the `{`.
  return value.trimStart().startsWith('{');
}

/** A short, single-line name ending in `.json`: a path, and nothing that could be key material. */
function isPlainPath(value: string): boolean {
  return value.length <= 255 && /\.json$/i.test(value) && !/\p{Cc}/u.test(value);
}

/** Reads a UTF-8 file; `what` names it in the error, e.g. `key file ./key.json`. */
async function readText(
  path: string,
  code: 'ERR_KEY_FILE_READ' | 'ERR_SECRET_FILE_READ',
  what: string,
): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    // The system error's code says enough (ENOENT, EACCES…). Its message, `path` and `syscall`
    // repeat the path, so the cause is a fresh error carrying the code alone.
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CliError(code, `cannot read the ${what}: ${reason}`, {
      cause: Object.assign(new Error(reason), { code: reason }),
    });
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
