import {
  KeyFileError,
  MIN_MODULUS_LENGTH,
  parseServiceAccountKey,
  type ServiceAccountKey,
} from '@drillster-auth/core';
import { describePublicKeyOf, type PublicKeyDescription } from './fingerprints.js';
import { parseJsonObject } from './json.js';

/** The id fields `keygen` leaves empty until the public key is registered in Drillster. */
export const ID_FIELDS = ['keyId', 'serviceAccountId'] as const;

/** What {@link analyseKeyFile} found: a usable key, or the error and what could still be learnt. */
export type KeyFileAnalysis =
  | { ok: true; key: ServiceAccountKey; publicKey: PublicKeyDescription }
  | { ok: false; error: unknown; publicKey: PublicKeyDescription | undefined };

/**
 * Parses a key file's text with core's parser, as every command that signs does, and describes
 * its public key. When core refuses the file, the public key is still described if the private
 * key can be read at all, so that a weak key (which core refuses) can be found in Drillster's
 * console, and a file from `keygen` whose ids are not filled in yet gets an error naming them.
 */
export function analyseKeyFile(text: string): KeyFileAnalysis {
  // Core strips a byte order mark before parsing too.
  const fields = parseJsonObject(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const publicKey = describeIfPossible(fields?.privateKey);
  try {
    const key = parseServiceAccountKey(text);
    // Core accepted the PEM, so deriving its public half succeeded too.
    return { ok: true, key, publicKey: publicKey! };
  } catch (error) {
    return { ok: false, error: refine(error, fields, publicKey), publicKey };
  }
}

/** Core checks the ids before the key: an incomplete file with a bad key should say the latter. */
function refine(
  error: unknown,
  fields: Record<string, unknown> | undefined,
  publicKey: PublicKeyDescription | undefined,
): unknown {
  if (!(error instanceof KeyFileError) || fields === undefined) return error;
  const missing = ID_FIELDS.filter((name) => !isFilledIn(fields[name]));
  if (missing.length === 0 || !missing.includes(error.field as (typeof ID_FIELDS)[number])) {
    return error;
  }
  try {
    parseServiceAccountKey({ ...fields, keyId: 'unset', serviceAccountId: 'unset' });
  } catch (keyError) {
    return keyError;
  }
  const names = missing.join(' and ');
  const thumbprint = publicKey === undefined ? '' : ` (JWK thumbprint ${publicKey.jwkThumbprint})`;
  return new KeyFileError(
    'ERR_KEY_FILE_MISSING_FIELD',
    `The key file is not complete: ${names} ${missing.length > 1 ? 'are' : 'is'} not filled in. Register the public key${thumbprint} with the service account in Drillster's console, then put the key id it shows and the service account's id in the file`,
    { field: missing[0] },
  );
}

/** A warning for a key under {@link MIN_MODULUS_LENGTH} bits, naming it by its fingerprint. */
export function weakKeyWarning(publicKey: PublicKeyDescription): string | undefined {
  if (publicKey.bits >= MIN_MODULUS_LENGTH) return undefined;
  return `this is a ${publicKey.bits}-bit RSA key (JWK thumbprint ${publicKey.jwkThumbprint}, SPKI SHA-256 ${publicKey.spkiSha256}): keys under ${MIN_MODULUS_LENGTH} bits can be broken and are refused. Delete its public key in Drillster's console and create a new pair with drillster-auth keygen`;
}

function isFilledIn(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}

/** The public half of `privateKey`, written as core tolerates it; `undefined` if unreadable. */
function describeIfPossible(privateKey: unknown): PublicKeyDescription | undefined {
  if (typeof privateKey !== 'string') return undefined;
  const pem = privateKey.replaceAll('\\r', '').replaceAll('\\n', '\n').replaceAll('\r', '').trim();
  if (!pem.startsWith('-----BEGIN PRIVATE KEY-----')) return undefined;
  try {
    return describePublicKeyOf(pem);
  } catch {
    // OpenSSL's reason says nothing a user can act on; core's parser names what is wrong.
    return undefined;
  }
}
