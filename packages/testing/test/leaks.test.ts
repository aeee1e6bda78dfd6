import { describe, expect, it } from 'vitest';
import { generateKey } from '../src/keys.js';
import { expectNoLeaks, findLeaks, secretForms } from '../src/node.js';

const secret = 'a/b+c=d e"f\\g';

describe('the leak scan', () => {
  it('finds a secret in each encoding a server or a log could use', () => {
    const bytes = new TextEncoder().encode(secret);
    const base64 = btoa(String.fromCharCode(...bytes));
    const spellings = {
      raw: secret,
      'JSON-escaped': JSON.stringify(secret).slice(1, -1),
      'JSON-escaped with \\/': 'a\\/b+c=d e\\"f\\\\g',
      '\\u-escaped': 'a\\u002fb\\u002bc\\u003dd\\u0020e\\u0022f\\u005cg',
      'url-encoded': encodeURIComponent(secret),
      'form-encoded': 'a%2Fb%2Bc%3Dd+e%22f%5Cg',
      base64,
      base64url: base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''),
    };
    for (const [form, text] of Object.entries(spellings)) {
      expect(findLeaks(`before ${text} after`, { clientSecret: secret })).toContain(
        `clientSecret (${form})`,
      );
    }
  });

  it('looks through the cause chain, hidden properties and getters', () => {
    const inner = new Error('inner');
    Object.defineProperty(inner, 'body', { value: `client_secret=${encodeURIComponent(secret)}` });
    const outer = new Error('outer', {
      cause: {
        options: {
          get body() {
            return inner;
          },
        },
      },
    });
    expect(findLeaks(outer, { clientSecret: secret })).toContain('clientSecret (url-encoded)');
    expect(() => expectNoLeaks(outer, { clientSecret: secret }, 'the error')).toThrow(
      /Secrets leaked into the error: clientSecret \(url-encoded\)/,
    );
  });

  it('finds a single line of a private key, and never prints the secret', async () => {
    const { keyFile } = await generateKey('WHrkrOC0SDqf6V3WaTknZQ', 2048);
    const line = keyFile.privateKey.split('\n')[5] ?? '';
    expect(line.length).toBe(64);
    const leaks = findLeaks({ message: `oops ${line}` }, { privateKey: keyFile.privateKey });
    expect(leaks).toContain('privateKey (PEM body line 5)');
    try {
      expectNoLeaks(`oops ${line}`, { privateKey: keyFile.privateKey });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(line);
    }
  });

  it('passes clean values and skips missing secrets', () => {
    expect(
      findLeaks(new Error('nothing here'), { clientSecret: secret, token: undefined }),
    ).toEqual([]);
    expect(() => expectNoLeaks({ a: 1 }, { clientSecret: secret })).not.toThrow();
    expect(secretForms('x')).toContain('eA==');
  });
});
