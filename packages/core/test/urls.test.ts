import { describe, expect, it } from 'vitest';
import { ConfigurationError, DRILLSTER_API_BASE_URL, parseAllowedOrigins } from '../src/index.js';

/** What `fn` threw; fails the test when it throws nothing. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('parseAllowedOrigins', () => {
  it('reduces http(s) URLs to their origins, dropping path, query and user info', () => {
    const origins = parseAllowedOrigins([
      DRILLSTER_API_BASE_URL,
      'https://www.drillster.com',
      'https://GATEWAY.example.com:443/v1/?q=1#f',
      'https://user:s3cret@api.example.com:8443/x',
      'http://127.0.0.1:8080/',
    ]);
    expect([...origins]).toEqual([
      'https://www.drillster.com',
      'https://gateway.example.com',
      'https://api.example.com:8443',
      'http://127.0.0.1:8080',
    ]);
  });

  it('accepts plain http for any host, not only loopback (as the edge adapter always has)', () => {
    expect([...parseAllowedOrigins(['http://api.internal.example'])]).toEqual([
      'http://api.internal.example',
    ]);
  });

  it('gives an empty set for an empty list, and a new set each call', () => {
    expect(parseAllowedOrigins([]).size).toBe(0);
    const list = ['https://www.drillster.com'];
    expect(parseAllowedOrigins(list)).not.toBe(parseAllowedOrigins(list));
  });

  it.each([
    ['ftp://files.example.com', 'allowedOrigins[1] must be an http(s) URL; got ftp:'],
    ['ws://www.drillster.com', 'allowedOrigins[1] must be an http(s) URL; got ws:'],
    ['wss://www.drillster.com', 'allowedOrigins[1] must be an http(s) URL; got wss:'],
    [
      'blob:https://www.drillster.com/5c9a1f3e-0d7b-4d43-9a55-0f5f1d0c1a2b',
      'allowedOrigins[1] must be an http(s) URL; got blob:',
    ],
    ['file:///etc/hosts', 'allowedOrigins[1] must be an http(s) URL; got file:'],
    ['data:text/plain,hi', 'allowedOrigins[1] must be an http(s) URL; got data:'],
    ['www.drillster.com', 'allowedOrigins[1] must be an absolute http(s) URL'],
    ['/api/2.1.1/', 'allowedOrigins[1] must be an absolute http(s) URL'],
    ['', 'allowedOrigins[1] must be an absolute http(s) URL'],
  ])('refuses %j, naming its index', (entry, message) => {
    const error = thrown(() => parseAllowedOrigins(['https://www.drillster.com', entry]));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS', message });
  });

  it('never quotes an entry, which may carry a password', () => {
    for (const entry of ['https://user:s3cret@', 'ftp://user:s3cret@files.example.com']) {
      const error = thrown(() => parseAllowedOrigins([entry]));
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
      expect(error.message).toMatch(/^allowedOrigins\[0\] must be/);
      expect(error.message).not.toContain('s3cret');
      expect(error.message).not.toContain('user');
    }
  });

  it('names a non-string entry by its index, and a hole too', () => {
    const entries = ['https://www.drillster.com', 42] as unknown as string[];
    expect(() => parseAllowedOrigins(entries)).toThrow('allowedOrigins[1] must be an absolute');
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
    const holey = ['https://www.drillster.com', , 'https://a.example'] as string[];
    expect(() => parseAllowedOrigins(holey)).toThrow('allowedOrigins[1] must be an absolute');
  });

  it('refuses a list that is not an array, with the name the caller gives', () => {
    for (const list of [
      'https://www.drillster.com',
      undefined,
      null,
      new Set(['https://a.example']),
    ]) {
      const error = thrown(() =>
        parseAllowedOrigins(list as unknown as string[], 'api.allowedOrigins'),
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
        message: 'api.allowedOrigins must be an array of URLs',
      });
    }
    expect(() => parseAllowedOrigins(['ftp://a.example'], 'api.allowedOrigins')).toThrow(
      'api.allowedOrigins[0] must be an http(s) URL; got ftp:',
    );
  });
});
