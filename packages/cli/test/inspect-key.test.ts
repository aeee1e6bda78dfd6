import { readFile } from 'node:fs/promises';
import {
  type GeneratedServiceAccountKey,
  generateServiceAccountKey,
} from '@drillster-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRUPT_KEY_FILE, expectFailure, pemBodyLines, run, tempDir } from './helpers.js';

let key: GeneratedServiceAccountKey;
let dir: Awaited<ReturnType<typeof tempDir>>;
let keyFile: string;

beforeAll(async () => {
  key = await generateServiceAccountKey();
  dir = await tempDir();
  keyFile = await dir.file('key.json', key.keyFileJson);
});

afterAll(async () => {
  await dir?.remove();
});

describe('inspect-key', () => {
  it('describes a valid key file without printing key material', async () => {
    const result = await run(['inspect-key', keyFile]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`key id:             ${key.keyFile.keyId}`);
    expect(result.stdout).toContain(`service account id: ${key.keyFile.serviceAccountId}`);
    expect(result.stdout).toMatch(/key type: +RSA (2048|3072|4096) bits/);
    expect(result.stdout).toContain('RS256');
    for (const line of pemBodyLines(key.keyFile.privateKey)) {
      expect(result.stdout).not.toContain(line);
    }
    expect(result.stdout).not.toContain('PRIVATE KEY');
  });

  it('exits 2 with ERR_KEY_FILE_MALFORMED_KEY for the corrupt key from the documentation', async () => {
    const corrupt = JSON.parse(await readFile(CORRUPT_KEY_FILE, 'utf8')).privateKey;
    const line = expectFailure(
      await run(['inspect-key', CORRUPT_KEY_FILE]),
      2,
      'ERR_KEY_FILE_MALFORMED_KEY',
      pemBodyLines(corrupt),
    );
    expect(line).toContain('privateKey');
  });

  it('exits 2 with the key file error code for other unusable files', async () => {
    const notJson = await dir.file('not-json.json', `{"privateKey": ${key.keyFile.privateKey}`);
    expectFailure(
      await run(['inspect-key', notJson]),
      2,
      'ERR_KEY_FILE_INVALID_JSON',
      pemBodyLines(key.keyFile.privateKey),
    );
    const { keyId: _, ...withoutKeyId } = key.keyFile;
    const noKeyId = await dir.file('no-key-id.json', JSON.stringify(withoutKeyId));
    expect(
      expectFailure(await run(['inspect-key', noKeyId]), 2, 'ERR_KEY_FILE_MISSING_FIELD', []),
    ).toContain('keyId');
  });

  it('exits 2 for a missing argument or file', async () => {
    expectFailure(await run(['inspect-key']), 2, 'ERR_USAGE', []);
    expectFailure(
      await run(['inspect-key', ...Array<string>(17).fill(keyFile)]),
      2,
      'ERR_USAGE',
      [],
    );
    expectFailure(await run(['inspect-key', `${dir.path}/none.json`]), 2, 'ERR_KEY_FILE_READ', []);
  });
});

describe('inspect-key fingerprints', () => {
  it('prints the JWK thumbprint (as jose computes it) and the SPKI SHA-256', async () => {
    const { createHash, createPublicKey } = await import('node:crypto');
    const { calculateJwkThumbprint, exportJWK } = await import('jose');
    const result = await run(['inspect-key', keyFile]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const jwk = await exportJWK(key.publicKey);
    expect(result.stdout).toContain(
      `JWK thumbprint:     ${await calculateJwkThumbprint(jwk, 'sha256')}\n`,
    );
    const spki = createPublicKey(key.keyFile.privateKey).export({ format: 'der', type: 'spki' });
    expect(result.stdout).toContain(
      `SPKI SHA-256:       ${createHash('sha256').update(spki).digest('hex')}\n`,
    );
  });

  it('refuses a key under 2048 bits with a warning naming its fingerprints', async () => {
    const { calculateJwkThumbprint, exportJWK } = await import('jose');
    const weak = await generateServiceAccountKey({ modulusLength: 1024 });
    const file = await dir.file('weak.json', weak.keyFileJson);
    const result = await run(['inspect-key', file]);
    const [warning, ...rest] = result.stderr.split('\n');
    const thumbprint = await calculateJwkThumbprint(await exportJWK(weak.publicKey), 'sha256');
    expect(warning).toMatch(/^drillster-auth: warning: this is a 1024-bit RSA key/);
    expect(warning).toContain(`JWK thumbprint ${thumbprint}`);
    expect(warning).toContain('keygen');
    expectFailure({ ...result, stderr: rest.join('\n') }, 2, 'ERR_KEY_FILE_WEAK_KEY', [
      weak.keyFile.privateKey,
      ...pemBodyLines(weak.keyFile.privateKey),
    ]);
    expect(result.stderr).not.toContain('PRIVATE KEY');
  });
});

describe('inspect-key with a key list', () => {
  it('describes each key of a list, from arguments or DRILLSTER_KEY_FILE, in order', async () => {
    const { delimiter } = await import('node:path');
    const other = await generateServiceAccountKey();
    const otherFile = await dir.file('other.json', other.keyFileJson);
    for (const [args, env] of [
      [['inspect-key', keyFile, otherFile], {}],
      [['inspect-key'], { DRILLSTER_KEY_FILE: `${keyFile}${delimiter}${otherFile}` }],
    ] as const) {
      const result = await run([...args], env);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      const blocks = result.stdout.split('\n\n');
      expect(blocks).toHaveLength(2);
      expect(blocks[0]).toContain(`key id:             ${key.keyFile.keyId}`);
      expect(blocks[1]).toContain(`key id:             ${other.keyFile.keyId}`);
      expect(blocks[1]).toMatch(/JWK thumbprint: {5}[\w-]{43}\nSPKI SHA-256: {7}[0-9a-f]{64}\n$/);
    }
  });

  it('prints nothing when one key of the list is unusable', async () => {
    const result = await run(['inspect-key', keyFile, CORRUPT_KEY_FILE]);
    expectFailure(result, 2, 'ERR_KEY_FILE_MALFORMED_KEY', pemBodyLines(key.keyFile.privateKey));
  });
});
