import { compactVerify, decodeProtectedHeader } from 'jose';
import type { Registry } from './registry.js';
import type { ReplayCache } from './replay.js';
import { quote } from './responses.js';

/** Longest assertion lifetime Drillster accepts: `exp` at most one hour ahead. */
const MAX_LIFETIME_MS = 3_600_000;
/** Allowance on the one-hour limit for a client that rounds `exp` up or whose clock runs ahead. */
const MAX_LIFETIME_LEEWAY_MS = 5_000;
/** How far in the future `iat` and `nbf` may lie. */
const FUTURE_LEEWAY_MS = 60_000;

export type AssertionResult =
  | { valid: true; serviceAccountId: string; subject: string }
  | { valid: false; description: string };

export interface AssertionContext {
  registry: Registry;
  replay: ReplayCache;
  /** The URL `aud` must name. */
  tokenEndpoint: string;
  /** The server's now, in milliseconds since the epoch. */
  now: number;
}

const invalid = (description: string): AssertionResult => ({ valid: false, description });

/** RFC 7523 §3 checks of a JWT bearer grant assertion, as Drillster applies them. */
export async function validateAssertion(
  assertion: string,
  context: AssertionContext,
): Promise<AssertionResult> {
  const { registry, replay, tokenEndpoint, now } = context;
  if (assertion.split('.').length !== 3) {
    return invalid('The assertion is not a JWS in compact serialization');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    return invalid('The assertion header is not base64url-encoded JSON');
  }
  if (header.alg !== 'RS256') {
    return invalid(`The assertion must be signed with RS256, not ${quote(header.alg)}`);
  }
  if (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT') {
    return invalid(`The assertion header typ must be 'JWT', not ${quote(header.typ)}`);
  }
  if (typeof header.kid !== 'string') {
    return invalid('The assertion header has no kid');
  }
  const key = registry.keys.get(header.kid);
  if (key === undefined) return invalid(`Unknown key id ${quote(header.kid)}`);
  if (key.revoked) return invalid(`Key ${quote(header.kid)} has been revoked`);

  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(assertion, key.publicKey, {
      algorithms: ['RS256'],
    }));
  } catch {
    return invalid(`The assertion signature does not verify with key ${quote(header.kid)}`);
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    return invalid('The assertion claims are not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return invalid('The assertion claims are not a JSON object');
  }

  const { iss, sub, aud, exp, iat, nbf, jti } = claims;
  if (iss !== key.serviceAccountId) {
    return invalid(
      `iss must be the service account that owns key ${quote(key.keyId)}, not ${quote(iss)}`,
    );
  }
  if (typeof sub !== 'string') return invalid('The assertion has no sub');
  const account = registry.account(key.serviceAccountId);
  const subject = registry.resolveSubject(account, sub);
  if (subject === undefined) {
    return invalid(`sub ${quote(sub)} is neither the service account nor one of its users`);
  }
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(tokenEndpoint)) {
    return invalid(`aud must be the token endpoint ${tokenEndpoint}, not ${quote(aud)}`);
  }

  if (exp === undefined) return invalid('The assertion has no exp');
  if (!isNumericDate(exp)) return invalid(`exp must be a NumericDate, not ${quote(exp)}`);
  if (exp * 1000 <= now) {
    return invalid(`The assertion expired at ${iso(exp)}; server time is ${iso(now / 1000)}`);
  }
  if (exp * 1000 > now + MAX_LIFETIME_MS + MAX_LIFETIME_LEEWAY_MS) {
    return invalid(
      `exp ${iso(exp)} is more than 3600 seconds after server time ${iso(now / 1000)}`,
    );
  }
  if (iat !== undefined) {
    if (!isNumericDate(iat)) return invalid(`iat must be a NumericDate, not ${quote(iat)}`);
    if (iat * 1000 > now + FUTURE_LEEWAY_MS) {
      return invalid(`iat ${iso(iat)} is in the future; server time is ${iso(now / 1000)}`);
    }
  }
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) return invalid(`nbf must be a NumericDate, not ${quote(nbf)}`);
    if (nbf * 1000 > now + FUTURE_LEEWAY_MS) {
      return invalid(
        `The assertion is not valid before ${iso(nbf)}; server time is ${iso(now / 1000)}`,
      );
    }
  }
  if (jti !== undefined) {
    if (typeof jti !== 'string') return invalid('jti must be a string');
    if (replay.has(iss, jti, now)) return invalid(`jti ${quote(jti)} has already been used`);
    replay.add(iss, jti, exp * 1000);
  }
  return { valid: true, serviceAccountId: key.serviceAccountId, subject };
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** ISO 8601 for messages; out-of-range dates (an `exp` of 1e20) as the plain number. */
function iso(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}
