// Pins importSigningKey's refusal: its exact message, and the cause it keeps when WebCrypto
// rejects with something that is not an Error (a polyfill's string): named `Error`, quoting
// nothing. assertion.test.ts checks the code and the cause of an Error rejection. Found by
// mutation testing (`pnpm mutation`).
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { importSigningKey, KeyFileError, parseServiceAccountKey } from '../src/index.js';
import { generateKeyFile, pem, pemBody } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A key the parser takes and WebCrypto refuses: rsaEncryption's NULL parameters made an INTEGER. */
async function keyWebCryptoRefuses() {
  const { keyFile } = await generateKeyFile();
  const der = pemBody(keyFile.privateKey);
  expect([der[20], der[21]]).toEqual([0x05, 0x00]);
  der[20] = 0x02;
  return parseServiceAccountKey({ ...keyFile, privateKey: pem('PRIVATE KEY', der) });
}

describe('importSigningKey refuses a key WebCrypto will not import', () => {
  it('with the message that names privateKey', async () => {
    const error = await importSigningKey(await keyWebCryptoRefuses()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyFileError);
    expect(error).toMatchObject({ code: 'ERR_KEY_FILE_MALFORMED_KEY', field: 'privateKey' });
    expect((error as KeyFileError).message).toBe(
      'privateKey could not be imported as an RSA signing key',
    );
  });

  it('naming the cause Error when WebCrypto rejects with something that is not an Error', async () => {
    const { keyFile } = await generateKeyFile();
    const key = parseServiceAccountKey(keyFile);
    const quoted = `refused ${keyFile.privateKey}`;
    vi.spyOn(crypto.subtle, 'importKey').mockRejectedValue(quoted);
    const error = await importSigningKey(key).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_KEY_FILE_MALFORMED_KEY', field: 'privateKey' });
    const cause = (error as KeyFileError).cause as Error;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('Error');
    expect(cause.message).toBe('WebCrypto import failed (Error)');
    expect(cause.cause).toBeUndefined();
    expectNoLeaks(error, { privateKey: keyFile.privateKey });
  });
});
