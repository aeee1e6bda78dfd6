import { inspect } from 'node:util';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenResponseError } from '../src/errors.js';
import { MAX_TOKEN_LIFETIME, readTokenResponse } from '../src/token-endpoint.js';

const NOW = Date.UTC(2026, 0, 1);
const params = { fallbackExpiresIn: 600, now: NOW };

function body(fields: Record<string, unknown>): string {
  return JSON.stringify({ access_token: 'abc', token_type: 'bearer', ...fields });
}

function refused(text: string): TokenResponseError {
  try {
    readTokenResponse(text, params);
  } catch (error) {
    expect(error).toBeInstanceOf(TokenResponseError);
    expect((error as TokenResponseError).code).toBe('ERR_INVALID_TOKEN_RESPONSE');
    return error as TokenResponseError;
  }
  throw new Error('expected ERR_INVALID_TOKEN_RESPONSE');
}

/** An unsigned JWT-shaped token with this `exp` (seconds); the client only reads it. */
async function jwtExpiring(exp: number): Promise<string> {
  return new SignJWT({ exp })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode('k'.repeat(32)));
}

describe('expires_in', () => {
  it('is the lifetime when it is a positive number, or a string of digits', () => {
    expect(readTokenResponse(body({ expires_in: 3600 }), params).expiresIn).toBe(3600);
    expect(readTokenResponse(body({ expires_in: 0.5 }), params).expiresIn).toBe(0.5);
    expect(readTokenResponse(body({ expires_in: '1800' }), params).expiresIn).toBe(1800);
    expect(readTokenResponse(body({ expires_in: '1.5' }), params).expiresIn).toBe(1.5);
  });

  it('is clamped to a day, so a date far off cannot break String(token)', () => {
    expect(MAX_TOKEN_LIFETIME).toBe(86_400);
    for (const huge of ['1e13', '1e306', '86401']) {
      const text = `{"access_token":"abc","token_type":"bearer","expires_in":${huge}}`;
      expect(readTokenResponse(text, params).expiresIn).toBe(86_400);
    }
    expect(readTokenResponse(body({ expires_in: 86_400 }), params).expiresIn).toBe(86_400);
  });

  it.each([
    ['zero', '0'],
    ['negative', '-1'],
    ['Infinity', '1e400'],
    ['a word', '"abc"'],
    ['NaN as text', '"NaN"'],
    ['a hex string', '"0x10"'],
    ['a trailing dot', '"60."'],
    ['an exponent in text', '"1e3"'],
    ['an empty string', '""'],
    ['white space', '" 60 "'],
    ['a boolean', 'true'],
    ['an array', '[60]'],
  ])('refuses %s', (_, json) => {
    const error = refused(`{"access_token":"abc","token_type":"bearer","expires_in":${json}}`);
    expect(error.message).toMatch(/expires_in/);
  });

  it('null counts as absent: the fallback', () => {
    expect(readTokenResponse(body({ expires_in: null }), params).expiresIn).toBe(600);
  });
});

describe('the token’s own exp, without expires_in', () => {
  it('gives the lifetime against the server’s now', async () => {
    const token = await jwtExpiring(NOW / 1000 + 900);
    expect(readTokenResponse(body({ access_token: token }), params).expiresIn).toBe(900);
  });

  it('is clamped to a day', async () => {
    const token = await jwtExpiring(NOW / 1000 + 10 * 86_400);
    expect(readTokenResponse(body({ access_token: token }), params).expiresIn).toBe(86_400);
  });

  it('refuses a token that has already expired, or expires now', async () => {
    for (const exp of [NOW / 1000 - 1, NOW / 1000]) {
      const error = refused(body({ access_token: await jwtExpiring(exp) }));
      expect(error.message).toMatch(/exp has passed/);
    }
  });

  it('an opaque token gets the fallback', () => {
    expect(readTokenResponse(body({}), params).expiresIn).toBe(600);
  });
});

describe('access_token and token_type', () => {
  it('accepts every RFC 6750 b64token character', () => {
    const token = 'AZaz09-._~+/==';
    expect(readTokenResponse(body({ access_token: token }), params).accessToken).toBe(token);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['a number', 42],
    ['CR LF and a header', 'abc\r\nX-Injected: yes'],
    ['a space', 'abc def'],
    ['a comma', 'abc,def'],
    ['a quote', 'abc"def'],
    ['non-ASCII', 'tökén'],
    ['padding first', '=abc'],
    ['padding inside', 'ab=c'],
    ['a tab', 'abc\tdef'],
  ])('refuses an access_token that is %s, without quoting it', (_, token) => {
    const error = refused(body({ access_token: token }));
    if (typeof token === 'string' && token !== '') {
      expect(inspect(error, { showHidden: true, getters: true })).not.toContain(token);
    }
  });

  it('accepts bearer in any case; refuses another type or none, without quoting it', () => {
    expect(() => readTokenResponse(body({ token_type: 'BeArEr' }), params)).not.toThrow();
    const secretish = 'mac s3cr3t-client-secret';
    expect(refused(body({ token_type: secretish })).message).not.toContain('s3cr3t');
    expect(refused(body({ token_type: undefined })).message).toMatch(/no token_type/);
    refused(body({ token_type: 7 }));
  });

  it('refuses bodies that are not a JSON object', () => {
    for (const text of ['', 'null', '[]', '"abc"', '42', '{"access_token":', '<html>'])
      refused(text);
  });
});
