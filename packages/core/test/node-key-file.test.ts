import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  expectNoLeaks,
  type MockProvision,
  type RunningMockDrillster,
  startMockDrillster,
} from '@drillster-auth/testing/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDrillsterAuth, KeyFileError } from '../src/index.js';
import { loadServiceAccountKey } from '../src/node/index.js';

let server: RunningMockDrillster;
let provision: MockProvision;
let scratch: string;

beforeAll(async () => {
  server = await startMockDrillster();
  provision = await server.provision();
  scratch = await mkdtemp(join(tmpdir(), 'drillster-auth-core-node-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await server.close();
});

const secrets = () => ({
  privateKey: provision.account.keyFile.privateKey,
  keyFile: provision.account.keyFileJson,
});

/** The rejection of `promise`, which must be a KeyFileError that quotes no key material. */
async function keyFileError(promise: Promise<unknown>): Promise<KeyFileError> {
  const error = await promise.then(
    () => expect.fail('resolved'),
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(KeyFileError);
  expectNoLeaks(error, secrets());
  return error as KeyFileError;
}

describe('loadServiceAccountKey (core/node)', () => {
  it('reads a key file saved with a byte order mark, by path and by file URL, and mints with it', async () => {
    const path = join(scratch, 'bom.json');
    await writeFile(path, `\uFEFF${provision.account.keyFileJson}`, { mode: 0o600 });

    const key = await loadServiceAccountKey(path);
    expect(key.keyId).toBe(provision.account.keyFile.keyId);
    expect((await loadServiceAccountKey(pathToFileURL(path))).keyId).toBe(key.keyId);
    expectNoLeaks(key, { privateKey: provision.account.keyFile.privateKey });

    const auth = createDrillsterAuth({ ...provision.authOptions, key, retry: false });
    try {
      expect((await auth.getAccessToken()).accessToken.length).toBeGreaterThan(0);
    } finally {
      auth.close();
    }
  });

  it('a missing file is ERR_KEY_FILE_NOT_FOUND, naming the path', async () => {
    const path = join(scratch, 'missing', 'key.json');
    const error = await keyFileError(loadServiceAccountKey(path));
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
    expect(error.message).toContain(path);
  });

  it('a folder or a file without read permission is ERR_KEY_FILE_UNREADABLE', async () => {
    expect((await keyFileError(loadServiceAccountKey(scratch))).code).toBe(
      'ERR_KEY_FILE_UNREADABLE',
    );
    // root reads any file regardless of its mode, so the permission case needs another user.
    if (process.getuid?.() === 0) return;
    const locked = join(scratch, 'locked.json');
    await writeFile(locked, provision.account.keyFileJson, { mode: 0o000 });
    try {
      expect((await keyFileError(loadServiceAccountKey(locked))).code).toBe(
        'ERR_KEY_FILE_UNREADABLE',
      );
    } finally {
      await chmod(locked, 0o600);
    }
  });

  it('a file that is not a key file fails like parseServiceAccountKey and quotes none of it', async () => {
    const broken = join(scratch, 'broken.json');
    await writeFile(broken, provision.account.keyFileJson.slice(0, -2));
    expect((await keyFileError(loadServiceAccountKey(broken))).code).toBe(
      'ERR_KEY_FILE_INVALID_JSON',
    );
  });

  it("the key file's text passed as the path is not found, and the error does not repeat it", async () => {
    const error = await keyFileError(loadServiceAccountKey(provision.account.keyFileJson));
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
  });
});

describe('the CommonJS build (dist, run `npx tsup` first)', () => {
  const dist = new URL('../dist/', import.meta.url);

  it('core/node throws the KeyFileError class of the main entry point', async () => {
    const require = createRequire(import.meta.url);
    const root = require('../dist/index.cjs') as { KeyFileError: typeof KeyFileError };
    const node = require('../dist/node.cjs') as {
      loadServiceAccountKey: typeof loadServiceAccountKey;
    };
    const error = await node.loadServiceAccountKey(join(scratch, 'none.json')).catch((e) => e);
    expect(error).toBeInstanceOf(root.KeyFileError);
    expect(error.code).toBe('ERR_KEY_FILE_NOT_FOUND');
  });

  it('requires no ESM-only package (jose 6): Jest and Node 20.11-20.18 cannot require() it', () => {
    const cjs = readdirSync(dist).filter((file) => file.endsWith('.cjs'));
    expect(cjs).toContain('index.cjs');
    for (const file of cjs) {
      expect(readFileSync(new URL(file, dist), 'utf8')).not.toMatch(/require\(["']jose["']\)/);
    }
  });
});
