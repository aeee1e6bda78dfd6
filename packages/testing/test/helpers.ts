import { importPKCS8, type JWTPayload, SignJWT } from 'jose';
import type { MockServiceAccount } from '../src/index.js';

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface AssertionOptions {
  /** Replaces or adds header parameters; `undefined` values are removed. */
  header?: Record<string, unknown>;
  /** Replaces or adds claims; `undefined` values are removed. */
  claims?: Record<string, unknown>;
  /** Sign with this key file's private key instead (the header `kid` stays the account's). */
  signWith?: MockServiceAccount;
}

/** A valid assertion for `account` (sub = the account itself), with optional changes. */
export async function assertionFor(
  account: MockServiceAccount,
  audience: string,
  options: AssertionOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = withoutUndefined({
    iss: account.serviceAccountId,
    sub: account.serviceAccountId,
    aud: audience,
    iat: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
    ...options.claims,
  }) as JWTPayload;
  const header = withoutUndefined({
    alg: 'RS256',
    typ: 'JWT',
    kid: account.keyId,
    ...options.header,
  });
  const key = await importPKCS8((options.signWith ?? account).keyFile.privateKey, 'RS256');
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
}

/** POSTs a form to the token endpoint. */
export function postForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body: new URLSearchParams(fields) });
}

export function tokenRequest(
  url: string,
  client: { clientId: string; clientSecret: string },
  assertion: string,
): Promise<Response> {
  return postForm(url, {
    grant_type: JWT_BEARER,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    assertion,
  });
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
