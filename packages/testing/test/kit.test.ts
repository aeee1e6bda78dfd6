import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServiceAccountKey, startWorkerd } from '../src/node.js';

describe('generateServiceAccountKey', () => {
  it('makes a console-shaped key file whose public half verifies what the private half signs', async () => {
    const { keyFile, keyFileJson, publicKey } = await generateServiceAccountKey();
    expect(keyFile.serviceAccountId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(keyFile.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.parse(keyFileJson)).toEqual(keyFile);
    expect((publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(2048);

    const body = keyFile.privateKey.replace(/-----[A-Z ]+-----|\n/g, '');
    const privateKey = await crypto.subtle.importKey(
      'pkcs8',
      Uint8Array.from(atob(body), (c) => c.charCodeAt(0)),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const data = new TextEncoder().encode('signed');
    const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', privateKey, data);
    expect(await crypto.subtle.verify('RSASSA-PKCS1-v1_5', publicKey, signature, data)).toBe(true);
  });

  it('takes the service account id and modulus length', async () => {
    const { keyFile, publicKey } = await generateServiceAccountKey({
      serviceAccountId: 'iqKpEF3URCe0yAsyrsk_4g',
      modulusLength: 3072,
    });
    expect(keyFile.serviceAccountId).toBe('iqKpEF3URCe0yAsyrsk_4g');
    expect((publicKey.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(3072);
  });
});

describe('startWorkerd', () => {
  // A stand-in for the workerd binary that speaks its --control-fd protocol, so this package's
  // tests need no workerd; edge's runtime tests and the examples run the real one through it.
  let dir: string;
  const fake = async (name: string, script: string) => {
    const path = join(dir, name);
    await writeFile(path, `#!${process.execPath}\n${script}\n`);
    await chmod(path, 0o755);
    return path;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drillster-workerd-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves with the port of the named socket, also when its line arrives in pieces', async () => {
    const binary = await fake(
      'listens',
      `const fs = require('node:fs');
if (process.argv[2] !== 'serve' || process.argv[4] !== '--control-fd=3') process.exit(9);
fs.writeSync(3, JSON.stringify({ event: 'listen', socket: 'other', port: 1111 }) + '\\n');
fs.writeSync(3, '{"event":"listen","socket":"http",');
setTimeout(() => fs.writeSync(3, '"port":4321}\\n'), 50);
setInterval(() => {}, 1000);`,
    );
    await using worker = await startWorkerd({ binary, config: join(dir, 'config.capnp') });
    expect(worker.port).toBe(4321);
    expect(worker.url).toBe('http://127.0.0.1:4321');
  });

  it('rejects with workerd’s stderr when it exits before listening', async () => {
    const binary = await fake(
      'fails',
      `process.stderr.write('config.capnp:1: parse error\\n'); process.exit(1);`,
    );
    await expect(startWorkerd({ binary, config: 'config.capnp' })).rejects.toThrow(
      /exited with 1 before listening\nconfig\.capnp:1: parse error/,
    );
  });

  it('gives up after startTimeout', async () => {
    const binary = await fake('silent', 'setInterval(() => {}, 1000);');
    await expect(
      startWorkerd({ binary, config: 'config.capnp', startTimeout: 200 }),
    ).rejects.toThrow(/did not start listening in time/);
  });
});
