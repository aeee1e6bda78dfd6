import { DRILLSTER_API_BASE_URL, originOf } from '@drillster-auth/core';
import axios, { type InternalAxiosRequestConfig } from 'axios';
import { describe, expect, it } from 'vitest';
import { RequestOrigins, requestOrigin } from '../src/request-origin.js';

const BASE = DRILLSTER_API_BASE_URL;

/** Where axios itself would send the request: its own getUri is the oracle. */
function axiosOrigin(config: InternalAxiosRequestConfig): string | undefined {
  try {
    return originOf(axios.getUri(config));
  } catch {
    return undefined;
  }
}

const cases: Array<[string, Partial<InternalAxiosRequestConfig>, string | undefined]> = [
  ['relative path', { baseURL: BASE, url: 'user' }, 'https://www.drillster.com'],
  ['leading slash', { baseURL: BASE, url: '/user' }, 'https://www.drillster.com'],
  ['three leading slashes', { baseURL: BASE, url: '///user' }, undefined],
  ['no url', { baseURL: BASE }, 'https://www.drillster.com'],
  [
    'absolute URL elsewhere',
    { baseURL: BASE, url: 'https://evil.example/x' },
    'https://evil.example',
  ],
  ['upper-case scheme', { baseURL: BASE, url: 'HTTPS://EVIL.example/x' }, 'https://evil.example'],
  ['protocol-relative', { baseURL: BASE, url: '//evil.example/x' }, undefined],
  [
    'userinfo trick',
    { baseURL: BASE, url: 'https://www.drillster.com@evil.example/' },
    'https://evil.example',
  ],
  ['backslashes', { baseURL: BASE, url: '\\\\evil.example/x' }, 'https://www.drillster.com'],
  ['leading space', { baseURL: BASE, url: ' //evil.example/x' }, 'https://www.drillster.com'],
  ['missing slashes after scheme', { baseURL: BASE, url: 'https:evil.example' }, undefined],
  [
    'allowAbsoluteUrls false',
    { baseURL: BASE, url: 'https://evil.example/x', allowAbsoluteUrls: false },
    'https://www.drillster.com',
  ],
  ['port', { baseURL: 'http://127.0.0.1:8080', url: 'x' }, 'http://127.0.0.1:8080'],
  [
    'default port dropped',
    { baseURL: 'https://www.drillster.com:443/', url: 'x' },
    'https://www.drillster.com',
  ],
  ['no baseURL, relative url', { url: '/user' }, undefined],
  ['non-http scheme', { url: 'file:///etc/passwd' }, undefined],
];

describe('requestOrigin', () => {
  it.each(cases)('%s', (_, fields, expected) => {
    const config = { headers: new axios.AxiosHeaders(), ...fields } as InternalAxiosRequestConfig;
    expect(requestOrigin(config)).toBe(expected);
    expect(requestOrigin(config)).toBe(axiosOrigin(config));
  });

  it('ignores a baseURL on the prototype, as axios does', () => {
    const config = Object.create({
      baseURL: 'https://evil.example/',
    }) as InternalAxiosRequestConfig;
    config.url = 'https://www.drillster.com/x';
    expect(requestOrigin(config)).toBe('https://www.drillster.com');
  });
});

describe('RequestOrigins (the memo)', () => {
  const config = (fields: Partial<InternalAxiosRequestConfig>) =>
    ({ headers: new axios.AxiosHeaders(), ...fields }) as InternalAxiosRequestConfig;

  it.each(cases)('%s: answers as requestOrigin does, also from the memo', (_, fields, expected) => {
    const origins = new RequestOrigins();
    expect(origins.of(config(fields))).toBe(expected);
    expect(origins.of(config(fields))).toBe(expected);
  });

  it('checks a changed baseURL afresh for the same url', () => {
    const origins = new RequestOrigins();
    expect(origins.of(config({ baseURL: BASE, url: 'user' }))).toBe('https://www.drillster.com');
    expect(origins.of(config({ baseURL: 'https://evil.example/', url: 'user' }))).toBe(
      'https://evil.example',
    );
    expect(origins.of(config({ url: 'user' }))).toBeUndefined();
    expect(origins.size).toBe(3);
  });

  it('remembers no more than its limit, and answers right after starting over', () => {
    const origins = new RequestOrigins(4);
    for (let i = 0; i < 10; i++) {
      expect(origins.of(config({ baseURL: BASE, url: `users/${i}` }))).toBe(
        'https://www.drillster.com',
      );
      expect(origins.size).toBeLessThanOrEqual(4);
    }
    expect(origins.of(config({ baseURL: BASE, url: 'https://evil.example/' }))).toBe(
      'https://evil.example',
    );
    expect(origins.size).toBeLessThanOrEqual(4);
  });

  it('does not let allowAbsoluteUrls: false or a socketPath answer for a plain request', () => {
    const origins = new RequestOrigins();
    const fields = { baseURL: BASE, url: 'https://evil.example/x' };
    expect(origins.of(config({ ...fields, allowAbsoluteUrls: false }))).toBe(
      'https://www.drillster.com',
    );
    expect(origins.of(config({ url: '/x', socketPath: '/tmp/api.sock' }))).toBe('http://localhost');
    expect(origins.size).toBe(0);
    expect(origins.of(config(fields))).toBe('https://evil.example');
    expect(origins.of(config({ url: '/x' }))).toBeUndefined();
  });

  it('keys by own properties only, as requestOrigin does', () => {
    const origins = new RequestOrigins();
    expect(origins.of(config({ url: 'https://www.drillster.com/x' }))).toBe(
      'https://www.drillster.com',
    );
    const inherited = Object.create({ baseURL: 'https://evil.example/' });
    inherited.url = 'x';
    expect(origins.of(inherited)).toBeUndefined();
  });
});
