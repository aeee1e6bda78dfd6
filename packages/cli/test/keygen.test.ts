import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parseServiceAccountKey, signAssertion } from '@drillster-auth/core';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { calculateJwkThumbprint, importJWK, importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/index.js';
import { expectFailure, pemBodyLines, run, tempDir } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  dir = await tempDir();
});

afterAll(async () => {
  await dir?.remove();
});

interface KeygenJson {
  file: string;
  bits: number;
  keyId: string;
  serviceAccountId: string;
  missing: string[];
  publicKeyPem: string;
  publicJwk: { kty: string; n: string; e: string };
  jwkThumbprint: string;
  spkiSha256: string;
}

/** The key file's private key must show nowhere in what the command printed. */
function expectNoPrivateKey(output: string, privateKey: string): void {
  expect(output).not.toContain('PRIVATE KEY');
  expectNoLeaks(
    output,
    Object.fromEntries(
      [privateKey, ...pemBodyLines(privateKey)].map((value, i) => [`private key #${i}`, value]),
    ),
    'keygen output',
  );
}

describe('keygen', () => {
  it('writes a 0600 key file that signs for the public key it prints, with jose’s thumbprint', async () => {
    const out = join(dir.path, 'json.json');
    const result = await run([
      'keygen',
      '--out',
      out,
      '--json',
      '--key-id',
      'k1',
      '--service-account-id',
      'sa1',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(result.stdout) as KeygenJson;
    expect(report).toMatchObject({
      file: out,
      bits: 2048,
      keyId: 'k1',
      serviceAccountId: 'sa1',
      missing: [],
    });
    expect((await stat(out)).mode & 0o777).toBe(0o600);

    const file = JSON.parse(await readFile(out, 'utf8'));
    expect(Object.keys(file)).toEqual(['privateKey', 'keyId', 'serviceAccountId']);
    expectNoPrivateKey(result.stdout, file.privateKey);
    expect(report.jwkThumbprint).toBe(await calculateJwkThumbprint(report.publicJwk, 'sha256'));

    // The pair belongs together: what the key file signs, the printed public key verifies.
    const key = parseServiceAccountKey(file);
    expect(key.modulusLength).toBe(2048);
    const assertion = await signAssertion(key, { audience: 'https://aud.example', subject: 'sa1' });
    for (const publicKey of [
      await importSPKI(report.publicKeyPem, 'RS256'),
      await importJWK(report.publicJwk, 'RS256'),
    ]) {
      const { protectedHeader } = await jwtVerify(assertion, publicKey);
      expect(protectedHeader.kid).toBe('k1');
    }
  });

  it('leaves the ids empty without a terminal: refused until filled in, inspect-key names them', async () => {
    const out = join(dir.path, 'text.json');
    const result = await run(['keygen', '--out', out, '--bits', '3072']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const file = JSON.parse(await readFile(out, 'utf8'));
    expect(file).toMatchObject({ keyId: '', serviceAccountId: '' });
    expectNoPrivateKey(result.stdout, file.privateKey);
    expect(result.stdout).toContain('-----BEGIN PUBLIC KEY-----');
    expect(result.stdout).toContain('3072-bit RSA');
    expect(result.stdout).toContain('fill in keyId and serviceAccountId');
    const thumbprint = /JWK thumbprint \(RFC 7638, SHA-256\): (\S+)/.exec(result.stdout)?.[1];

    const incomplete = expectFailure(
      await run(['inspect-key', out]),
      2,
      'ERR_KEY_FILE_MISSING_FIELD',
      [file.privateKey, ...pemBodyLines(file.privateKey)],
    );
    expect(incomplete).toContain('keyId and serviceAccountId are not filled in');
    expect(incomplete).toContain(`JWK thumbprint ${thumbprint}`);

    await writeFile(out, JSON.stringify({ ...file, keyId: 'k2', serviceAccountId: 'sa2' }));
    const inspected = await run(['inspect-key', out]);
    expect(inspected).toMatchObject({ code: 0, stderr: '' });
    expect(inspected.stdout).toContain(`JWK thumbprint:     ${thumbprint}`);
    expect(inspected.stdout).toContain('RSA 3072 bits');
  });

  it('makes a 4096-bit pair on request, which inspect-key reports as RSA 4096 bits', async () => {
    const out = join(dir.path, 'bits-4096.json');
    const result = await run([
      'keygen',
      '--out',
      out,
      '--bits',
      '4096',
      '--json',
      '--key-id',
      'k4',
      '--service-account-id',
      'sa4',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(result.stdout) as KeygenJson;
    expect(report).toMatchObject({ file: out, bits: 4096, missing: [] });
    // The size printed is the size made: a 4096-bit modulus is 512 bytes.
    expect(Buffer.from(report.publicJwk.n, 'base64url')).toHaveLength(512);
    const file = JSON.parse(await readFile(out, 'utf8'));
    expectNoPrivateKey(result.stdout, file.privateKey);
    expect(parseServiceAccountKey(file).modulusLength).toBe(4096);

    const inspected = await run(['inspect-key', out]);
    expect(inspected).toMatchObject({ code: 0, stderr: '' });
    expect(inspected.stdout).toMatch(/key type: +RSA 4096 bits/);
    expect(inspected.stdout).toContain(`JWK thumbprint:     ${report.jwkThumbprint}`);
  });

  it('asks for the ids when stdin is a terminal, and writes the answers', async () => {
    const out = join(dir.path, 'prompted.json');
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const output = { stdout: '', stderr: '' };
    // One answer per question, given as it is asked: the first is refused (white space).
    const answers = ['key id\n', 'kid-3\r\n', '\n'];
    const io = {
      stdout: { write: (chunk: string) => (output.stdout += chunk) },
      stderr: {
        write: (chunk: string) => {
          output.stderr += chunk;
          if (chunk.startsWith('Once registered, enter')) stdin.write(answers.shift() ?? '');
        },
      },
      env: {},
      stdin,
    };
    expect(await main(['keygen', '--out', out], io)).toBe(0);
    expect(answers).toEqual([]);
    expect(output.stderr.match(/Once registered, enter the key id/g)).toHaveLength(2);
    expect(output.stderr).toContain('An id has no white space; try again.');
    const file = JSON.parse(await readFile(out, 'utf8'));
    expect(file).toMatchObject({ keyId: 'kid-3', serviceAccountId: '' });
    expect(output.stdout).toContain('fill in serviceAccountId in');
    expectNoPrivateKey(output.stdout + output.stderr, file.privateKey);
  });

  it('refuses to overwrite a file, other sizes, and a missing --out (exit 2)', async () => {
    const existing = await dir.file('existing.json', 'keep me');
    expectFailure(await run(['keygen', '--out', existing]), 2, 'ERR_KEY_FILE_EXISTS', []);
    expect(await readFile(existing, 'utf8')).toBe('keep me');
    for (const bits of ['1024', '2047', '8192', 'big']) {
      const out = join(dir.path, `bits-${bits}.json`);
      expectFailure(await run(['keygen', '--out', out, '--bits', bits]), 2, 'ERR_USAGE', []);
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    }
    expectFailure(await run(['keygen']), 2, 'ERR_USAGE', []);
    expectFailure(
      await run(['keygen', '--out', join(dir.path, 'id.json'), '--key-id', 'a b']),
      2,
      'ERR_USAGE',
      [],
    );
    expectFailure(
      await run(['keygen', '--out', join(dir.path, 'no-such-dir', 'k.json')]),
      2,
      'ERR_KEY_FILE_WRITE',
      [],
    );
  });
});
