import { base64url, base64urlBytes } from './base64.js';
import { KeyFileError } from './errors.js';
import { privateKeyDer, type ServiceAccountKey } from './key-file.js';

/** Longest assertion lifetime Drillster accepts, in seconds. */
export const MAX_ASSERTION_LIFETIME = 3600;

/** Default assertion lifetime, in seconds. */
export const DEFAULT_ASSERTION_LIFETIME = 300;

/** Input for {@link signAssertion}. */
export interface AssertionParams {
  /** The token endpoint URL (the `aud` claim). */
  audience: string;
  /** Whom the token is for (`sub`). Default: the service account itself. */
  subject?: string | undefined;
  /** Seconds until the assertion expires. Default 300, at most 3600. */
  lifetime?: number | undefined;
  /** Current time in milliseconds since the epoch. Default `Date.now()`. */
  now?: number | undefined;
}

/**
 * WebCrypto's `CryptoKey` as the consumer's runtime types declare it (the DOM lib, or
 * `@types/node` 22 and later), else a structural stand-in: a named `CryptoKey` in our declaration
 * files would not compile in a Node-only project (`lib: ["es2023"]`, `types: ["node"]`).
 */
export type WebCryptoKey = typeof globalThis extends { CryptoKey: { prototype: infer K } }
  ? K
  : {
      readonly type: string;
      readonly extractable: boolean;
      readonly algorithm: { readonly name: string };
      readonly usages: readonly string[];
    };

/** What signing with one key needs that does not change between assertions. */
interface Signer {
  readonly key: WebCryptoKey;
  /** `base64url(header) + '.'`: the header is the same for every assertion of the key. */
  readonly headerPrefix: string;
}

const signers = new WeakMap<ServiceAccountKey, Promise<Signer>>();

const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const encoder = new TextEncoder();

const cryptoKeys = new WeakMap<ServiceAccountKey, Promise<WebCryptoKey>>();

/**
 * The non-extractable WebCrypto key for `key`, imported once and reused for every assertion.
 *
 * @throws {KeyFileError} `ERR_KEY_FILE_MALFORMED_KEY` when WebCrypto refuses the key.
 */
export function importSigningKey(key: ServiceAccountKey): Promise<WebCryptoKey> {
  let imported = cryptoKeys.get(key);
  if (!imported) {
    // WebCrypto directly, not jose's importPKCS8: parseServiceAccountKey already decoded the PEM
    // and walked the DER (RSA, at least 2048 bits), and jose's import would do both again and
    // bring its JWS and JWE algorithm tables into every Worker bundle (1.7 kB of it gzipped).
    imported = (
      crypto.subtle.importKey('pkcs8', privateKeyDer(key), RS256, false, [
        'sign',
      ]) as Promise<WebCryptoKey>
    ).catch((cause: unknown) => {
      cryptoKeys.delete(key);
      signers.delete(key);
      throw new KeyFileError(
        'ERR_KEY_FILE_MALFORMED_KEY',
        'privateKey could not be imported as an RSA signing key',
        { field: 'privateKey', cause: sanitize(cause) },
      );
    });
    cryptoKeys.set(key, imported);
  }
  return imported;
}

/** The key's {@link Signer}, built once per key: WebCrypto imports (and so checks) the key. */
function signerFor(key: ServiceAccountKey): Promise<Signer> {
  let signer = signers.get(key);
  if (!signer) {
    signer = importSigningKey(key).then(
      (imported): Signer => ({
        key: imported,
        headerPrefix: `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.keyId }))}.`,
      }),
    );
    signers.set(key, signer);
  }
  return signer;
}

/**
 * Signs an RFC 7523 JWT bearer assertion for Drillster's token endpoint.
 *
 * Header `{ alg: "RS256", typ: "JWT", kid }`; claims `iss` (service account), `sub`, `aud`,
 * `iat`, `exp` and a random `jti`.
 */
export async function signAssertion(
  key: ServiceAccountKey,
  params: AssertionParams,
): Promise<string> {
  const lifetime = params.lifetime ?? DEFAULT_ASSERTION_LIFETIME;
  const issuedAt = Math.floor((params.now ?? Date.now()) / 1000);
  const signer = await signerFor(key);
  // Built here rather than by jose's SignJWT: its per-call checks and copies cost a quarter of
  // the signing rate, and every value is ours (the key file and the options were checked).
  const signingInput =
    signer.headerPrefix +
    base64url(
      JSON.stringify({
        iss: key.serviceAccountId,
        sub: params.subject ?? key.serviceAccountId,
        aud: params.audience,
        iat: issuedAt,
        exp: issuedAt + lifetime,
        jti: crypto.randomUUID(),
      }),
    );
  const signature = await crypto.subtle.sign(
    RS256,
    signer.key as CryptoKey,
    encoder.encode(signingInput),
  );
  return `${signingInput}.${base64urlBytes(new Uint8Array(signature))}`;
}

/** Keeps the kind of failure but drops anything the underlying error might quote. */
function sanitize(cause: unknown): Error {
  const name = cause instanceof Error ? cause.name : 'Error';
  const error = new Error(`WebCrypto import failed (${name})`);
  error.name = name;
  return error;
}
