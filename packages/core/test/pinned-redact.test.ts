// Pins what mutation testing found unpinned in the small shared modules: every spelling
// secretForms gives (each written out here from Node's own encoders, not from ours), the order
// redactSecrets replaces them in and when it withholds a whole text; abortable's listener
// bookkeeping; originOf on opaque origins; readCachedToken's expiry; MemoryTokenCache's clock
// check. Found by `pnpm mutation` (MUTATION.md).
import { describe, expect, it } from 'vitest';
import { abortable, abortError } from '../src/abort.js';
import {
  ConfigurationError,
  DRILLSTER_API_BASE_URL,
  MemoryTokenCache,
  originOf,
  readCachedToken,
  secretForms,
} from '../src/index.js';
import { redactSecrets } from '../src/redact.js';

/** `secret` in every spelling a server may echo it in, computed with Node's encoders. */
function spellings(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const unicode = [...secret]
    .map((c) => (/[A-Za-z0-9]/.test(c) ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
    .join('');
  const url = encodeURIComponent(secret);
  const form = new URLSearchParams({ x: secret }).toString().slice(2);
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (code) => code.toLowerCase());
  const base64 = Buffer.from(secret).toString('base64');
  return [
    secret,
    json,
    json.replaceAll('/', '\\/'),
    unicode,
    unicode.replace(/\\u([0-9a-f]{4})/g, (_, code: string) => `\\u${code.toUpperCase()}`),
    url,
    lower(url),
    form,
    lower(form),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
  ];
}

describe('secretForms', () => {
  it('gives every spelling once, longest first, and none for the empty secret', () => {
    // '/' (JSON's optional escape), '+' and ' ' (form encoding), 'é' (two UTF-8 bytes, hex
    // letters in its percent-encoding), a length that pads base64.
    for (const secret of ['a/b+c é=?', 'Sx/+?~ab', 'plain']) {
      const forms = secretForms(secret);
      expect(new Set(forms)).toEqual(new Set(spellings(secret)));
      expect(forms).toHaveLength(new Set(forms).size);
      for (let i = 1; i < forms.length; i++) {
        expect(forms[i - 1]!.length).toBeGreaterThanOrEqual(forms[i]!.length);
      }
    }
    expect(secretForms('')).toEqual([]);
  });
});

describe('redactSecrets', () => {
  it('replaces every spelling whole, the longest first', () => {
    const secret = 'a/b+c é=?';
    for (const form of spellings(secret)) {
      expect(redactSecrets(`before ${form} after`, [secret]), form).toBe('before [redacted] after');
    }
  });

  it('ignores an empty secret and keeps a text that holds no secret', () => {
    expect(redactSecrets('nothing to hide', ['', 'absent'])).toBe('nothing to hide');
  });

  it('withholds the whole text when a secret shows once decoded in a mix of escapes', () => {
    // JSON-escaped, then percent-encoded: no single listed spelling, but a secret once decoded.
    const secret = 'sec/ret';
    const mixed = encodeURIComponent(JSON.stringify(secret).replace('/', '\\/'));
    expect(redactSecrets(`error: ${mixed}`, [secret])).toBe(
      "[redacted] (it quoted the request's credentials)",
    );
    // Form-encoded with a broken escape beside it (decodeURIComponent throws): decoded by hand.
    const broken = `${new URLSearchParams({ x: 'a b%' }).toString().slice(2)} %zz`;
    expect(redactSecrets(broken, ['a b%'])).toBe('[redacted] %zz');
    const spaced = 'ab%20cd+ef %E0';
    expect(redactSecrets(spaced, ['ab cd ef'])).toBe(
      "[redacted] (it quoted the request's credentials)",
    );
    // A plus for the space beside a raw slash (no listed spelling) next to an escape that never
    // decodes: only the hand decoding, reading `+` as a space, finds the secret.
    expect(redactSecrets('x a+b/c', ['a b/c'])).toBe(
      "[redacted] (it quoted the request's credentials)",
    );
    expect(redactSecrets('x a+b/c %zz', ['a b/c'])).toBe(
      "[redacted] (it quoted the request's credentials)",
    );
    expect(redactSecrets('%61%62 %E0', ['ab'])).toBe(
      "[redacted] (it quoted the request's credentials)",
    );
  });
});

describe('abortable', () => {
  it('settles with the promise and removes its abort listener either way', async () => {
    const controller = new AbortController();
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((type: string, listener: EventListener, options?: unknown) => {
      added.push([type, options]);
      add(type, listener, options as AddEventListenerOptions);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: string, listener: EventListener) => {
      removed.push(type);
      remove(type, listener);
    }) as typeof signal.removeEventListener;
    await expect(abortable(Promise.resolve(7), signal)).resolves.toBe(7);
    await expect(abortable(Promise.reject(new Error('no')), signal)).rejects.toThrow('no');
    expect(added).toEqual([
      ['abort', { once: true }],
      ['abort', { once: true }],
    ]);
    expect(removed).toEqual(['abort', 'abort']);
  });

  it('rejects with ERR_ABORTED, the signal reason as cause, when the signal fires first', async () => {
    const controller = new AbortController();
    const waiting = abortable(new Promise(() => {}), controller.signal);
    const reason = new Error('shutting down');
    controller.abort(reason);
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ERR_ABORTED',
      message: 'Waiting for the access token was aborted',
      cause: reason,
    });
    expect(abortError(controller.signal).cause).toBe(reason);
  });
});

describe('originOf', () => {
  it('has no origin for opaque URLs, and resolves relative ones against the base', () => {
    expect(originOf('data:text/plain,hi')).toBeUndefined();
    expect(originOf('file:///etc/hosts')).toBeUndefined();
    expect(originOf('not a url')).toBeUndefined();
    expect(originOf('/user', DRILLSTER_API_BASE_URL)).toBe('https://www.drillster.com');
    expect(DRILLSTER_API_BASE_URL).toBe('https://www.drillster.com/api/2.1.1/');
  });
});

describe('readCachedToken', () => {
  it('is a miss from the millisecond the token expires', () => {
    const text = JSON.stringify({
      accessToken: 'abc',
      expiresAt: 2_000,
      issuedAt: 1_000,
      subject: 's',
    });
    expect(readCachedToken(text, 1_999)?.accessToken).toBe('abc');
    expect(readCachedToken(text, 2_000)).toBeUndefined();
    expect(readCachedToken('{', 0)).toBeUndefined();
  });
});

describe('MemoryTokenCache', () => {
  it('refuses a clock that is not a function, by message', () => {
    expect(() => new MemoryTokenCache({ clock: 5 as never })).toThrow(
      new ConfigurationError('ERR_INVALID_OPTIONS', 'clock must be a function'),
    );
    expect(() => new MemoryTokenCache({ clock: () => 0 })).not.toThrow();
  });
});
