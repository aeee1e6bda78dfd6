import { generateServiceAccountKey } from '@drillster-auth/testing';
import { findLeaks } from '@drillster-auth/testing/node';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMetadata } from '../src/discovery.js';
import { DrillsterAuthError, KeyFileError, TokenResponseError } from '../src/errors.js';
import { parseServiceAccountKey, ServiceAccountKey } from '../src/key-file.js';
import { redactSecrets } from '../src/redact.js';
import { MAX_TOKEN_LIFETIME, readTokenResponse } from '../src/token-endpoint.js';

const RUNS = { numRuns: 300 };

/** A value that is easy to spot in a message: a marker and random hex. */
const marked = fc
  .uint8Array({ minLength: 8, maxLength: 16 })
  .map((bytes) => `S3CR3T${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`);

/** The thing thrown by `run`, or `undefined` when it returned. */
function thrown(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('parseServiceAccountKey, for any input', () => {
  let pem: string;
  let pemLines: string[];

  beforeAll(async () => {
    pem = (await generateServiceAccountKey()).keyFile.privateKey;
    pemLines = pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----'));
  });

  const codes = new Set([
    'ERR_KEY_FILE_INVALID_JSON',
    'ERR_KEY_FILE_MISSING_FIELD',
    'ERR_KEY_FILE_INVALID_FIELD',
    'ERR_KEY_FILE_NOT_PKCS8',
    'ERR_KEY_FILE_MALFORMED_KEY',
    'ERR_KEY_FILE_UNSUPPORTED_KEY_TYPE',
    'ERR_KEY_FILE_WEAK_KEY',
  ]);

  function expectKeyFileErrorOrKey(input: string | object, secrets: string[]): void {
    const error = thrown(() => parseServiceAccountKey(input));
    if (error === undefined) return;
    expect(error).toBeInstanceOf(KeyFileError);
    expect(codes).toContain((error as KeyFileError).code);
    const message = (error as Error).message;
    for (const secret of secrets) expect(message).not.toContain(secret);
  }

  it('text: a key or a KeyFileError, never the text in the message', () => {
    fc.assert(
      fc.property(fc.string(), marked, fc.string(), (before, secret, after) => {
        expectKeyFileErrorOrKey(`${before}${secret}${after}`, [secret]);
      }),
      RUNS,
    );
  });

  it('JSON values of any shape: a KeyFileError naming no value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const error = thrown(() => parseServiceAccountKey(JSON.stringify(value) ?? 'null'));
        expect(error).toBeInstanceOf(KeyFileError);
      }),
      RUNS,
    );
  });

  it('fields of any type and value: never the private key or a field value in the message', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            privateKey: fc.oneof(marked, fc.anything()),
            keyId: fc.oneof(marked, fc.anything()),
            serviceAccountId: fc.oneof(marked, fc.anything()),
          },
          { requiredKeys: [] },
        ),
        (fields) => {
          const secrets = Object.values(fields).filter((v): v is string => typeof v === 'string');
          expectKeyFileErrorOrKey(
            fields,
            secrets.filter((s) => s.startsWith('S3CR3T')),
          );
        },
      ),
      RUNS,
    );
  });

  it('a real PEM, corrupted anywhere: a key or a KeyFileError, never a line of it', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string({ maxLength: 8 }), (at, length, insert) => {
        const start = at % pem.length;
        const corrupted = pem.slice(0, start) + insert + pem.slice(start + (length % 40));
        const file = { privateKey: corrupted, keyId: 'k', serviceAccountId: 's' };
        expectKeyFileErrorOrKey(file, pemLines);
        const result = thrown(() => parseServiceAccountKey(file));
        if (result === undefined) {
          expect(parseServiceAccountKey(file)).toBeInstanceOf(ServiceAccountKey);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('readTokenResponse, for any body', () => {
  const params = { fallbackExpiresIn: 600, now: Date.UTC(2026, 0, 1) };

  function check(text: string, secrets: string[]): void {
    let result: ReturnType<typeof readTokenResponse> | undefined;
    const error = thrown(() => {
      result = readTokenResponse(text, params);
    });
    if (error !== undefined) {
      expect(error).toBeInstanceOf(TokenResponseError);
      expect((error as TokenResponseError).code).toBe('ERR_INVALID_TOKEN_RESPONSE');
      for (const secret of secrets) expect((error as Error).message).not.toContain(secret);
      return;
    }
    const { accessToken, expiresIn } = result!;
    expect(accessToken).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(MAX_TOKEN_LIFETIME);
    // The date a client derives from it is representable.
    expect(() => new Date(params.now + expiresIn * 1000).toISOString()).not.toThrow();
  }

  it('text: a valid token or ERR_INVALID_TOKEN_RESPONSE quoting nothing', () => {
    fc.assert(
      fc.property(fc.string(), marked, (text, secret) => check(`${text}${secret}`, [secret])),
      RUNS,
    );
  });

  it('objects with hostile fields: a valid token or ERR_INVALID_TOKEN_RESPONSE quoting nothing', () => {
    const hostile = fc.oneof(
      marked,
      marked.map((s) => `${s}\r\nX-Injected: yes`),
      fc.string(),
      fc.double(),
      fc.integer(),
      fc.constantFrom(0, -1, 1e306, Number.MAX_VALUE, '3600', 'abc', '', null, true, [], {}),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            access_token: fc.oneof(hostile, fc.stringMatching(/^[A-Za-z0-9\-._~+/]+=*$/)),
            token_type: fc.oneof(hostile, fc.constantFrom('bearer', 'Bearer', 'BEARER')),
            expires_in: hostile,
          },
          { requiredKeys: [] },
        ),
        (body) => {
          const secrets = Object.values(body).filter(
            (v): v is string => typeof v === 'string' && v.startsWith('S3CR3T'),
          );
          // JSON.stringify writes non-finite numbers as null; spell them as a hostile server would.
          const text = JSON.stringify(body, (_, v: unknown) =>
            typeof v === 'number' && !Number.isFinite(v) ? '__INF__' : v,
          ).replaceAll('"__INF__"', '1e400');
          check(text, secrets);
        },
      ),
      RUNS,
    );
  });
});

describe('readMetadata, for any document', () => {
  const issuer = 'https://www.drillster.com';
  const url = `${issuer}/.well-known/oauth-authorization-server`;

  function check(text: string): void {
    let endpoint: string | undefined;
    const error = thrown(() => {
      endpoint = readMetadata(text, url, issuer);
    });
    if (error === undefined) {
      const parsed = new URL(endpoint!);
      expect(parsed.protocol === 'https:' || parsed.hostname === '127.0.0.1').toBe(true);
      return;
    }
    expect(error).toBeInstanceOf(DrillsterAuthError);
    expect(['ERR_DISCOVERY', 'ERR_ISSUER_MISMATCH', 'ERR_INSECURE_ENDPOINT']).toContain(
      (error as DrillsterAuthError).code,
    );
    const { message } = error as Error;
    // Printable and short: a hostile document cannot paint a terminal or flood a log.
    expect(message).toMatch(/^[\x20-\x7e]*$/);
    expect(message.length).toBeLessThan(400);
  }

  it('text of any kind', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), check), RUNS);
  });

  it('objects with hostile issuer and token_endpoint', () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constantFrom(
        issuer,
        `${issuer}/`,
        `${issuer}/daas/oauth/token`,
        'http://www.drillster.com/token',
        'http://127.0.0.1:8080/token',
        'javascript:alert(1)',
        'https://[::1',
      ),
      fc.webUrl(),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(
        fc.record({ issuer: value, token_endpoint: value }, { requiredKeys: [] }),
        (document) => check(JSON.stringify(document)),
      ),
      RUNS,
    );
  });
});

describe('redactSecrets, for any secret and any spelling', () => {
  const spell: Array<(v: string) => string> = [
    (v) => v,
    (v) => JSON.stringify(v).slice(1, -1),
    (v) => JSON.stringify(v).slice(1, -1).replaceAll('/', '\\/'),
    (v) => v.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    (v) => encodeURIComponent(v),
    (v) => new URLSearchParams({ v }).toString().slice(2),
    (v) => btoa(String.fromCharCode(...new TextEncoder().encode(v))),
    // Spellings no list holds: percent-encoding that leaves `+` alone, and escapes mixed.
    (v) => encodeURIComponent(v).replaceAll('%2B', '+'),
    (v) =>
      [...v]
        .map((c, i) =>
          /[A-Za-z0-9]/.test(c) || i % 2 === 0
            ? JSON.stringify(c).slice(1, -1)
            : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        )
        .join(''),
  ];

  /** Every way back to the secret a reader of the text could take. */
  function readBack(text: string): string[] {
    const out = [text];
    for (const decode of [
      (t: string) => JSON.parse(`"${t}"`) as string,
      (t: string) => decodeURIComponent(t),
      (t: string) => decodeURIComponent(t.replaceAll('+', ' ')),
    ]) {
      try {
        out.push(decode(text));
      } catch {
        // Not a valid spelling of that kind: nothing to read back.
      }
    }
    return out;
  }

  /** Secrets made of the characters that encodings treat differently. */
  const secretArb = fc
    .string({ unit: fc.constantFrom(...'aZ09+/="\\&ü% -_.~'), minLength: 8, maxLength: 40 })
    .filter((s) => s.trim().length >= 8);

  it('leaves no spelling the leak scan finds, and none a reader could decode', () => {
    fc.assert(
      fc.property(
        secretArb,
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 30 }),
        fc.integer({ min: 0, max: spell.length - 1 }),
        (secret, before, after, which) => {
          const redacted = redactSecrets(`${before}${spell[which]!(secret)}${after}`, [secret]);
          expect(findLeaks(redacted, { secret })).toEqual([]);
          for (const text of readBack(redacted)) expect(text).not.toContain(secret);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
