import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  KeyFileError,
  parseServiceAccountKey,
  parseServiceAccountKeys,
  type ServiceAccountKey,
  type ServiceAccountKeyFile,
} from '../src/index.js';
import { KeyRing } from '../src/key-ring.js';
import { generateServiceAccountKey } from './helpers.js';

// The ring is clock arithmetic: no HTTP, no timers, `now` is a number.
const T0 = 1_700_000_000_000;
const PAUSE = 600_000;

let files: [ServiceAccountKeyFile, ServiceAccountKeyFile, ServiceAccountKeyFile];
let a: ServiceAccountKey;
let b: ServiceAccountKey;
let c: ServiceAccountKey;

beforeAll(async () => {
  const first = await generateServiceAccountKey();
  const serviceAccountId = first.keyFile.serviceAccountId;
  const [second, third] = await Promise.all([
    generateServiceAccountKey({ serviceAccountId }),
    generateServiceAccountKey({ serviceAccountId }),
  ]);
  files = [first.keyFile, second.keyFile, third.keyFile];
  [a, b, c] = files.map((file) => parseServiceAccountKey(file)) as [
    ServiceAccountKey,
    ServiceAccountKey,
    ServiceAccountKey,
  ];
});

describe('parseServiceAccountKeys', () => {
  it('takes one key as a list of one', () => {
    const keys = parseServiceAccountKeys(files[0]);
    expect(keys.map((key) => key.keyId)).toEqual([files[0].keyId]);
  });

  it('keeps the order of a list, whatever form each key is in', () => {
    const keys = parseServiceAccountKeys([JSON.stringify(files[1]), files[0], c]);
    expect(keys.map((key) => key.keyId)).toEqual([files[1].keyId, files[0].keyId, c.keyId]);
    expect(keys[2]).toBe(c);
  });

  it('refuses an empty list', () => {
    expect(() => parseServiceAccountKeys([])).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        code: 'ERR_INVALID_OPTIONS',
        message: 'key must be a service account key or a non-empty list of keys',
      }),
    );
  });

  it('refuses keys of different service accounts, naming both', async () => {
    const other = await generateServiceAccountKey();
    const error = catchError(() => parseServiceAccountKeys([files[0], other.keyFile]));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    expect(error.message).toBe(
      `key[1] belongs to service account ${other.keyFile.serviceAccountId}, key[0] to ${files[0].serviceAccountId}: all keys must be of one service account`,
    );
  });

  it('refuses a keyId listed twice, naming both places', () => {
    const error = catchError(() => parseServiceAccountKeys([files[0], files[1], files[0]]));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    expect(error.message).toBe(
      `key[2] has the keyId of key[0] (${files[0].keyId}): each key may be listed once`,
    );
  });

  it('names the index of an unusable key in the key file error, and keeps code and field', () => {
    const error = catchError(() =>
      parseServiceAccountKeys([files[0], { ...files[1], keyId: undefined } as never]),
    );
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error).toMatchObject({
      code: 'ERR_KEY_FILE_MISSING_FIELD',
      field: 'keyId',
      message: 'key[1]: The service account key file has no keyId',
    });
  });

  it('does not prefix the error of a single key', () => {
    expect(() => parseServiceAccountKeys('not json')).toThrow(
      expect.objectContaining({
        code: 'ERR_KEY_FILE_INVALID_JSON',
        message: 'The service account key file is not valid JSON',
      }),
    );
  });
});

describe('KeyRing', () => {
  it('signs with the first key while none is refused', () => {
    const ring = new KeyRing([a, b, c], PAUSE);
    expect(ring.next(T0)).toBe(a);
    expect(ring.order(T0)).toEqual([a, b, c]);
    expect(ring.serviceAccountId).toBe(a.serviceAccountId);
  });

  it('passes a refused key over for the pause, then prefers it again', () => {
    const ring = new KeyRing([a, b, c], PAUSE);
    expect(ring.refuse(a, T0)).toBe(T0 + PAUSE);
    expect(ring.next(T0)).toBe(b);
    expect(ring.order(T0 + PAUSE - 1)).toEqual([b, c, a]);
    expect(ring.refusedUntil(a, T0 + PAUSE - 1)).toBe(T0 + PAUSE);
    expect(ring.refusedUntil(a, T0 + PAUSE)).toBeUndefined();
    expect(ring.order(T0 + PAUSE)).toEqual([a, b, c]);
  });

  it('keeps refused keys last, the one free soonest first, so a mint can still try every key', () => {
    const ring = new KeyRing([a, b, c], PAUSE);
    ring.refuse(b, T0);
    ring.refuse(a, T0 + 1000);
    expect(ring.order(T0 + 2000)).toEqual([c, b, a]);
    ring.refuse(c, T0 + 2000);
    expect(ring.order(T0 + 3000)).toEqual([b, a, c]);
    expect(ring.next(T0 + 3000)).toBe(b);
  });

  it('reports a refusal once while it lasts (many callers refused at once), and again after', () => {
    const ring = new KeyRing([a, b], PAUSE);
    expect(ring.refuse(a, T0)).toBe(T0 + PAUSE);
    expect(ring.refuse(a, T0 + 10)).toBeUndefined();
    expect(ring.refusedUntil(a, T0 + 10)).toBe(T0 + PAUSE);
    expect(ring.refuse(a, T0 + PAUSE)).toBe(T0 + 2 * PAUSE);
  });

  it('forgets the refusal of a key that is accepted', () => {
    const ring = new KeyRing([a, b], PAUSE);
    ring.refuse(a, T0);
    ring.accept(b);
    expect(ring.next(T0)).toBe(b);
    ring.accept(a);
    expect(ring.refusedUntil(a, T0)).toBeUndefined();
    expect(ring.order(T0)).toEqual([a, b]);
  });

  it('with a pause of 0 remembers nothing but still reports each refusal', () => {
    const ring = new KeyRing([a, b], 0);
    expect(ring.refuse(a, T0)).toBe(T0);
    expect(ring.refuse(a, T0)).toBe(T0);
    expect(ring.order(T0)).toEqual([a, b]);
  });

  it('needs a key', () => {
    expect(() => new KeyRing([], PAUSE)).toThrow(RangeError);
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
