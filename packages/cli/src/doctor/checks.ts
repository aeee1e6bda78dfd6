import {
  type AccessToken,
  authorizationHeader,
  ConfigurationError,
  DiscoveryError,
  DRILLSTER_API_BASE_URL,
  DRILLSTER_ISSUER,
  type DrillsterAuth,
  DrillsterAuthError,
  type DrillsterAuthEvent,
  type DrillsterAuthOptions,
  importSigningKey,
  KeyFileError,
  type ServiceAccountKey,
  TokenEndpointError,
} from '@drillster-auth/core';
import { CliError } from '../errors.js';
import { isTransientStatus } from '../exit-codes.js';
import type { PublicKeyDescription } from '../fingerprints.js';
import { parseJsonObject } from '../json.js';
import { analyseKeyFile } from '../key-file.js';
import { type Answer, apiError, get, metadataError } from './http.js';

/** The clock may differ this much from the server's: the SDK's own tolerance before it corrects. */
export const CLOCK_TOLERANCE_MS = 30_000;

/** What the checks learn, in order, for the checks after them. */
export interface DoctorContext {
  options: DrillsterAuthOptions;
  /** Why the key file could not be read, when it could not. */
  keyReadError?: unknown;
  subject?: string;
  /** Opens the client that `token` would use, reporting its events; the caller closes it. */
  openClient(onEvent: (event: DrillsterAuthEvent) => void): DrillsterAuth;
  /** The first key of the list, the one that signs first, and its public half. */
  key?: ServiceAccountKey;
  publicKey?: PublicKeyDescription;
  /** Every key of the list, in order of preference. */
  keys?: Array<{ key: ServiceAccountKey; publicKey: PublicKeyDescription }>;
  /** Keys the token endpoint refused while a later key of the list was accepted. */
  rejectedKeys: string[];
  /** The metadata answer, reused for its `Date`. */
  metadataAnswer?: Answer;
  client?: DrillsterAuth;
  token?: AccessToken;
}

/** A check that did not apply, with the reason. */
export class Skip {
  constructor(readonly reason: string) {}
}

/** The most likely cause of a failure and what to do about it. */
export interface Diagnosis {
  cause: string;
  fix: string;
}

/** One line of the doctor's table. */
export interface Check {
  id: 'key-file' | 'metadata' | 'clock' | 'token' | 'api' | 'subject';
  title: string;
  /** What was found, on success; a {@link Skip} when the check does not apply. */
  run(context: DoctorContext): Promise<string | Skip>;
  diagnose(error: unknown, context: DoctorContext): Diagnosis;
}

const timeoutOf = (context: DoctorContext) => context.options.timeout ?? 10_000;
const issuerOf = (context: DoctorContext) => context.options.issuer ?? DRILLSTER_ISSUER;

/** The origin tokens are used at: the issuer's, or the configured token endpoint's. */
function apiOrigin(context: DoctorContext): string {
  const { issuer, tokenEndpoint } = context.options;
  return new URL(issuer ?? tokenEndpoint ?? DRILLSTER_ISSUER).origin;
}

const keyFile: Check = {
  id: 'key-file',
  title: 'key file',
  async run(context) {
    if (context.keyReadError !== undefined) throw context.keyReadError;
    const keys: NonNullable<DoctorContext['keys']> = [];
    for (const text of keyTexts(context.options.key)) {
      const analysis = analyseKeyFile(text);
      if (!analysis.ok) {
        context.publicKey = analysis.publicKey;
        throw analysis.error;
      }
      await importSigningKey(analysis.key);
      keys.push({ key: analysis.key, publicKey: analysis.publicKey });
    }
    const [first] = keys;
    context.key = first!.key;
    context.publicKey = first!.publicKey;
    context.keys = keys;
    const accounts = [...new Set(keys.map(({ key }) => key.serviceAccountId))];
    if (accounts.length > 1) {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `the key files belong to different service accounts (${accounts.join(', ')}); a key list holds keys of one service account`,
      );
    }
    const describe = ({ key, publicKey }: (typeof keys)[number]) =>
      `RSA ${key.modulusLength} bits, key id ${key.keyId}, JWK thumbprint ${publicKey.jwkThumbprint}`;
    if (keys.length === 1) {
      const { key, publicKey } = first!;
      return `RSA ${key.modulusLength} bits, key id ${key.keyId}, service account ${key.serviceAccountId}, JWK thumbprint ${publicKey.jwkThumbprint}`;
    }
    return `${keys.length} keys of service account ${accounts[0]}, in order: ${keys.map((entry, i) => `${i + 1}. ${describe(entry)}`).join('; ')}`;
  },
  diagnose(error, context) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_KEY_FILE_READ') {
      return {
        cause: 'the key file cannot be read',
        fix: 'check the path given with --key-file or DRILLSTER_KEY_FILE, and that you may read it',
      };
    }
    if (code === 'ERR_KEY_FILE_WEAK_KEY') {
      const thumbprint = context.publicKey?.jwkThumbprint;
      return {
        cause: `the key is shorter than 2048 bits${thumbprint ? ` (JWK thumbprint ${thumbprint})` : ''}, which the SDK refuses`,
        fix: "delete its public key in Drillster's console and use a new key pair (drillster-auth keygen, or one generated by Drillster)",
      };
    }
    if (code === 'ERR_INVALID_OPTIONS') {
      return {
        cause: 'the listed key files are keys of different service accounts',
        fix: 'list only keys of the service account this client signs for, the preferred one first',
      };
    }
    if (
      error instanceof KeyFileError &&
      (error.field === 'keyId' || error.field === 'serviceAccountId')
    ) {
      return {
        cause: `the key file has no ${error.field} (a file from drillster-auth keygen that was not filled in?)`,
        fix: "fill in keyId and serviceAccountId as Drillster's console shows them for the registered public key",
      };
    }
    return {
      cause: 'this is not a usable Drillster service account key file',
      fix: "download the key file again from Drillster's console; drillster-auth inspect-key says what is wrong with this one",
    };
  },
};

const metadata: Check = {
  id: 'metadata',
  title: 'issuer metadata',
  async run(context) {
    if (context.options.tokenEndpoint !== undefined) {
      return new Skip('the token endpoint is configured (--token-endpoint): nothing is discovered');
    }
    const issuer = issuerOf(context);
    const issuerUrl = new URL(issuer);
    const path = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname.replace(/\/$/, '');
    const url = `${issuerUrl.origin}/.well-known/oauth-authorization-server${path}`;
    const answer = await get(url, timeoutOf(context));
    context.metadataAnswer = answer;
    if (answer.status !== 200) {
      throw metadataError(`${url} answered HTTP ${answer.status}`, answer.status);
    }
    const document = parseJsonObject(answer.text);
    if (document === undefined) throw metadataError(`${url} did not return a JSON object`);
    const advertised = document.issuer;
    if (typeof advertised !== 'string' || trimSlash(advertised) !== trimSlash(issuer)) {
      throw new DiscoveryError(
        'ERR_ISSUER_MISMATCH',
        `${url} describes issuer ${typeof advertised === 'string' ? JSON.stringify(advertised.slice(0, 100)) : 'none'}, not ${issuer}`,
      );
    }
    const endpoint = document.token_endpoint;
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
      throw metadataError(`${url} names no valid token_endpoint`);
    }
    const endpointUrl = new URL(endpoint);
    if (endpointUrl.protocol !== 'https:' && !isLoopback(endpointUrl.hostname)) {
      throw new ConfigurationError(
        'ERR_INSECURE_ENDPOINT',
        `${url} names a token endpoint without https: ${endpointUrl.origin}`,
      );
    }
    return `issuer ${issuer}, token endpoint ${endpointUrl.href}`;
  },
  diagnose(error) {
    const code = (error as { code?: unknown }).code;
    const status = error instanceof DiscoveryError ? error.status : undefined;
    if (code === 'ERR_NETWORK' || code === 'ERR_TIMEOUT') {
      return {
        cause: 'the issuer cannot be reached: a wrong --issuer, DNS, a firewall, or an outage',
        fix: `check --issuer or DRILLSTER_ISSUER (default ${DRILLSTER_ISSUER}) and that this machine reaches it over HTTPS`,
      };
    }
    if (isTransientStatus(status)) {
      return {
        cause: `the authorization server is unavailable (HTTP ${status})`,
        fix: 'try again in a few minutes; nothing in your configuration needs to change',
      };
    }
    if (code === 'ERR_ISSUER_MISMATCH') {
      return {
        cause:
          'the server at this URL describes another issuer: a wrong --issuer, or a proxy in between',
        fix: `set --issuer (or DRILLSTER_ISSUER) to exactly the issuer Drillster names, ${DRILLSTER_ISSUER} for Drillster itself`,
      };
    }
    return {
      cause: 'the issuer URL does not lead to Drillster authorization server metadata',
      fix: `set --issuer to Drillster's origin (${DRILLSTER_ISSUER}), or the token endpoint with --token-endpoint`,
    };
  },
};

const clock: Check = {
  id: 'clock',
  title: 'clock',
  async run(context) {
    const answer =
      context.metadataAnswer ??
      (await get(context.options.tokenEndpoint ?? apiOrigin(context), timeoutOf(context)));
    if (answer.date === undefined) return new Skip('the server sent no Date header');
    // `Date` has whole seconds, cut off: the server's time was half a second later on average.
    const skewMs = answer.date + 500 - answer.midpoint;
    const seconds = Math.round(Math.abs(skewMs) / 1000);
    const relation = `${seconds} s ${skewMs > 0 ? 'behind' : 'ahead of'} the server's clock (its Date header)`;
    if (Math.abs(skewMs) > CLOCK_TOLERANCE_MS) {
      throw new CliError('ERR_CLOCK_SKEW', `this machine's clock is ${relation}`);
    }
    return seconds === 0
      ? "within a second of the server's clock (its Date header)"
      : `${relation}, within ${CLOCK_TOLERANCE_MS / 1000} s`;
  },
  diagnose(error, context) {
    if ((error as { code?: unknown }).code === 'ERR_CLOCK_SKEW') {
      return {
        cause: `assertions carry this machine's time, so the token endpoint refuses them as expired or not yet valid (the SDK corrects once, after a refusal, beyond ${CLOCK_TOLERANCE_MS / 1000} s)`,
        fix: 'synchronise the clock with NTP (e.g. timedatectl set-ntp true; w32tm /resync on Windows)',
      };
    }
    return metadata.diagnose(error, context);
  },
};

const token: Check = {
  id: 'token',
  title: 'token',
  async run(context) {
    context.client = context.openClient((event) => {
      if (event.type === 'key_rejected') context.rejectedKeys.push(event.keyId);
    });
    const issued = await context.client.getAccessToken();
    context.token = issued;
    const found = `a token for service account ${issued.subject}, valid for ${Math.round((issued.expiresAt - Date.now()) / 1000)} s`;
    if (context.rejectedKeys.length === 0) return found;
    // Not a failure: the token came. But a refused key is a rotation half done, or a deleted key.
    return `${found}; refused: key ${context.rejectedKeys.join(', key ')} (invalid_grant), so a later key signed. Remove it from the list once it is deleted in Drillster's console`;
  },
  diagnose(error, context) {
    if (error instanceof TokenEndpointError && error.error === 'invalid_client') {
      return {
        cause: 'Drillster does not accept this client id and client secret together',
        fix: "check that the client id (--client-id, DRILLSTER_CLIENT_ID) and the secret belong to the same client application in Drillster's console; a new secret replaces the old one",
      };
    }
    if (error instanceof TokenEndpointError && error.error === 'invalid_grant') {
      const keys = context.keys ?? [];
      const ids = keys.map(({ key }) => key.keyId).join(', ');
      const which =
        keys.length === 0
          ? 'the key'
          : `${keys.length === 1 ? 'key' : 'every key,'} ${ids} of service account ${keys[0]!.key.serviceAccountId}`;
      const thumbprints = keys.map(({ publicKey }) => publicKey.jwkThumbprint).join(', ');
      return {
        cause: `the assertion signed with ${which} was refused: the key was deleted in Drillster's console, it belongs to another service account, or the clock is off`,
        fix: `look for ${keys.length > 1 ? 'these keys' : 'this key'}${thumbprints ? ` (JWK thumbprint ${thumbprints})` : ''} in the service account's key list in Drillster's console; if it is gone, register a new key (drillster-auth keygen) or download one`,
      };
    }
    return generic(error, 'token endpoint');
  },
};

const api: Check = {
  id: 'api',
  title: 'API',
  async run(context) {
    const who = await whoAmI(context, context.token!);
    return `GET /api/2.1.1/user: ${who}`;
  },
  diagnose(error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_API_REFUSED') {
      return {
        cause:
          'the API refused a token the token endpoint had just issued: the issuer and the API are different Drillster environments, or the account may not use the API',
        fix: "point --issuer at the Drillster whose API you call; check the service account's permissions in Drillster's console",
      };
    }
    if (code === 'ERR_API_BAD_RESPONSE') {
      return {
        cause:
          'the API answered with something other than a user: is this origin Drillster, or is a proxy answering?',
        fix: 'check --issuer; try the same request with curl and drillster-auth token --format header',
      };
    }
    return generic(error, 'API');
  },
};

const subject: Check = {
  id: 'subject',
  title: 'subject',
  async run(context) {
    if (context.subject === undefined) return new Skip('no --subject given');
    const issued = await context.client!.getAccessToken({ subject: context.subject });
    const who = await whoAmI(context, issued);
    return `a token for ${JSON.stringify(context.subject)}: ${who}`;
  },
  diagnose(error, context) {
    if (error instanceof TokenEndpointError && error.error === 'invalid_grant') {
      const account = context.key?.serviceAccountId ?? 'the service account';
      return {
        cause: `Drillster does not know ${JSON.stringify(context.subject)} as a user managed by the organization of service account ${account}`,
        fix: "check the user's id, email or third-party id, and that the user belongs to an organization the service account manages",
      };
    }
    return api.diagnose(error, context);
  },
};

/** Every check, in the order they run; each needs what the ones before it found. */
export const CHECKS: readonly Check[] = [keyFile, metadata, clock, token, api, subject];

/** The account a token is for, as `GET /api/2.1.1/user` describes it. */
async function whoAmI(context: DoctorContext, issued: AccessToken): Promise<string> {
  // Drillster's API path at the origin the configuration points at.
  const url = `${apiOrigin(context)}${new URL(DRILLSTER_API_BASE_URL).pathname}user`;
  const answer = await get(url, timeoutOf(context), {
    authorization: authorizationHeader(issued),
  });
  if (answer.status < 200 || answer.status > 299) throw apiError(url, answer.status);
  const user = parseJsonObject(answer.text);
  if (user === undefined || typeof user.id !== 'string') {
    throw new CliError('ERR_API_BAD_RESPONSE', `${url} did not answer a user with an id`);
  }
  const email = typeof user.email === 'string' ? user.email : user.emailAddress;
  const parts = [
    typeof user.name === 'string' ? JSON.stringify(user.name) : undefined,
    `id ${user.id}`,
    typeof email === 'string' ? email : undefined,
  ].filter((part) => part !== undefined);
  const own = user.id === context.key?.serviceAccountId ? ' (the service account itself)' : '';
  return `account ${parts.join(', ')}${own}`;
}

/** The key list's entries as key file text, as the CLI's configuration passes them. */
function keyTexts(key: DrillsterAuthOptions['key']): string[] {
  const list: readonly unknown[] = Array.isArray(key) ? key : [key];
  return list.map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry)));
}

/** Causes that any step talking to a server shares. */
function generic(error: unknown, what: string): Diagnosis {
  const code = error instanceof DrillsterAuthError || error instanceof CliError ? error.code : '';
  const status = (error as { status?: unknown }).status;
  if (
    code === 'ERR_NETWORK' ||
    code === 'ERR_TIMEOUT' ||
    code === 'ERR_API_UNAVAILABLE' ||
    isTransientStatus(status)
  ) {
    return {
      cause: `the ${what} is unreachable or unavailable for now`,
      fix: 'try again in a few minutes; if it persists, check that this machine reaches Drillster over HTTPS',
    };
  }
  if (code === 'ERR_INVALID_TOKEN_RESPONSE' || code === 'ERR_RESPONSE_TOO_LARGE') {
    return {
      cause: `the ${what} answered with something unusable: a proxy in between, or not Drillster`,
      fix: 'check --issuer and --token-endpoint',
    };
  }
  if (error instanceof TokenEndpointError) {
    return {
      cause: `the ${what} refused the request (${error.error ?? `HTTP ${error.status}`})`,
      fix: 'read the error description above; check the configuration it names',
    };
  }
  return {
    cause: `the ${what} could not be used (${code || 'unexpected failure'})`,
    fix: 'run drillster-auth token with DEBUG=drillster-auth for details',
  };
}

function trimSlash(value: string): string {
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}
