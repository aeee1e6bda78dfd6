// Pins loadServiceAccountKey's errors (core/node): which errno codes mean "no file here", the
// exact messages and their `cause` (the errno code only), when a path is too much like key
// material to be quoted (the 1,024-character limit included), and failures that carry no errno
// code (a runtime's own permission error, a rejection that is not an object). node-key-file.test.ts
// checks the codes; these tell the cases apart. Found by mutation testing (`pnpm mutation`).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoLeaks, generateServiceAccountKey } from '@drillster-auth/testing/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KeyFileError } from '../src/index.js';
import { loadServiceAccountKey } from '../src/node/index.js';

/** When set, the next readFile rejects with `value` instead of reading: a failure no real file gives. */
const readFailure = vi.hoisted(() => ({ next: undefined as { value: unknown } | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    readFile: (...args: Parameters<typeof actual.readFile>) => {
      const failure = readFailure.next;
      readFailure.next = undefined;
      return failure === undefined ? actual.readFile(...args) : Promise.reject(failure.value);
    },
  };
});

let scratch: string;
let keyFile: { privateKey: string };

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'drillster-auth-core-pinned-node-'));
  ({ keyFile } = await generateServiceAccountKey());
});

afterEach(() => {
  readFailure.next = undefined;
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** The KeyFileError `path` is refused with; it never quotes the private key. */
async function refusal(path: string): Promise<KeyFileError> {
  const error = await loadServiceAccountKey(path).then(
    () => expect.fail('resolved'),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(KeyFileError);
  expectNoLeaks(error, { privateKey: keyFile.privateKey });
  return error as KeyFileError;
}

/** Asserts that `error`'s cause is a plain Error holding only `errno`, with no cause of its own. */
function expectErrnoCause(error: KeyFileError, errno: string): void {
  const cause = error.cause;
  expect(cause).toBeInstanceOf(Error);
  expect((cause as Error).message).toBe(errno);
  expect((cause as Error).cause).toBeUndefined();
}

const hidden = 'the given path (not shown: it looks like key file content, not a path)';

describe('loadServiceAccountKey: no file at the path', () => {
  it('a missing file (ENOENT): the message names the path, the cause holds the errno only', async () => {
    const path = join(scratch, 'missing.json');
    const error = await refusal(path);
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
    expect(error.message).toBe(`No key file at ${JSON.stringify(path)}.`);
    expectErrnoCause(error, 'ENOENT');
  });

  it('a path through a file, as if it were a folder (ENOTDIR)', async () => {
    const file = join(scratch, 'plain.txt');
    await writeFile(file, 'not a folder');
    const path = join(file, 'key.json');
    const error = await refusal(path);
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
    expect(error.message).toBe(`No key file at ${JSON.stringify(path)}.`);
    expectErrnoCause(error, 'ENOTDIR');
  });

  it('a file name longer than any file system allows (ENAMETOOLONG)', async () => {
    const path = join(scratch, `${'k'.repeat(300)}.json`);
    const error = await refusal(path);
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
    expect(error.message).toBe(`No key file at ${JSON.stringify(path)}.`);
    expectErrnoCause(error, 'ENAMETOOLONG');
  });
});

describe('loadServiceAccountKey: a file that cannot be read', () => {
  it('a folder (EISDIR): the message names the path and the errno, the cause holds the errno only', async () => {
    const error = await refusal(scratch);
    expect(error.code).toBe('ERR_KEY_FILE_UNREADABLE');
    expect(error.message).toBe(
      `The key file at ${JSON.stringify(scratch)} cannot be read (EISDIR).`,
    );
    expectErrnoCause(error, 'EISDIR');
  });

  it.each([
    ['an Error without an errno code (a runtime permission error)', new Error('denied /secret')],
    ['an errno code that is not a string', Object.assign(new Error('denied'), { code: 13 })],
    ['undefined', undefined],
    ['null', null],
  ])('a read that fails with %s is "unknown error"', async (_, value) => {
    const path = join(scratch, 'key.json');
    readFailure.next = { value };
    const error = await refusal(path);
    expect(error.code).toBe('ERR_KEY_FILE_UNREADABLE');
    expect(error.message).toBe(
      `The key file at ${JSON.stringify(path)} cannot be read (unknown error).`,
    );
    expectErrnoCause(error, 'unknown error');
  });
});

describe('loadServiceAccountKey: a path that looks like key material is not quoted', () => {
  it.each([
    ['a brace', '{"keyId":"k1"}'],
    ['a line feed', 'key\nfile.json'],
    ['a carriage return', 'key\rfile.json'],
    ['PRIVATE KEY', '-----BEGIN PRIVATE KEY-----'],
  ])('a short path with %s', async (_, path) => {
    const error = await refusal(join(scratch, path));
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
    expect(error.message).toBe(`No key file at ${hidden}.`);
  });

  it('the private key without its armour, on one line: over 1,024 characters and no marker', async () => {
    const body = keyFile.privateKey.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(body.length).toBeGreaterThan(1024);
    expect(body).not.toMatch(/[{}\r\n]|PRIVATE KEY/);
    const error = await refusal(body);
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
    expect(error.message).toBe(`No key file at ${hidden}.`);
  });

  it('a path of exactly 1,024 characters is quoted, one of 1,025 is not', async () => {
    /** A path under scratch of `length` characters, in folders of 200 that do not exist. */
    const pathOf = (length: number) => {
      let path = scratch;
      while (path.length < length) {
        path += `/${'d'.repeat(Math.min(200, length - path.length - 1))}`;
      }
      return path;
    };
    const quoted = pathOf(1024);
    expect(quoted).toHaveLength(1024);
    expect((await refusal(quoted)).message).toBe(`No key file at ${JSON.stringify(quoted)}.`);
    const longer = pathOf(1025);
    expect(longer).toHaveLength(1025);
    expect((await refusal(longer)).message).toBe(`No key file at ${hidden}.`);
  });
});
