// Pins what mutation testing found unpinned in option parsing and the key ring: which option an
// insecure URL error names, a `null` refresh, an empty key ring, a key list whose item throws
// something other than a key file error, and whole-number options with no upper bound. Found by
// `pnpm mutation` (MUTATION.md).
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError, createDrillsterAuth, numberOption } from '../src/index.js';
import { KeyRing, parseServiceAccountKeys } from '../src/key-ring.js';
import { generateKeyFile } from './helpers.js';

let keyFile: { privateKey: string; keyId: string; serviceAccountId: string };

beforeAll(async () => {
  ({ keyFile } = await generateKeyFile());
});

const base = () => ({ key: keyFile, clientId: 'client', clientSecret: 'secret' });

describe('client options', () => {
  it('name the URL option that is not https', () => {
    expect(() => createDrillsterAuth({ ...base(), issuer: 'http://example.com' })).toThrow(
      new ConfigurationError(
        'ERR_INSECURE_ENDPOINT',
        'issuer must use https (plain http is allowed on loopback only): http://example.com',
      ),
    );
    expect(() =>
      createDrillsterAuth({ ...base(), tokenEndpoint: 'http://example.com/daas/oauth/token' }),
    ).toThrow(
      new ConfigurationError(
        'ERR_INSECURE_ENDPOINT',
        'tokenEndpoint must use https (plain http is allowed on loopback only): http://example.com',
      ),
    );
  });

  it('refuse a null refresh as they refuse any other non-object', () => {
    for (const refresh of [null, 5, 'soon']) {
      expect(() => createDrillsterAuth({ ...base(), refresh: refresh as never })).toThrow(
        new ConfigurationError('ERR_INVALID_OPTIONS', 'refresh must be an object'),
      );
    }
  });
});

describe('the key ring', () => {
  it('needs at least one key', () => {
    expect(() => new KeyRing([], 0)).toThrow(new RangeError('A key ring needs at least one key'));
  });

  it('passes through, unchanged, an error that is not about a key file', () => {
    const failure = new TypeError('a getter failed');
    const item = {
      get privateKey(): string {
        throw failure;
      },
      keyId: 'k',
      serviceAccountId: 's',
    };
    let thrown: unknown;
    try {
      parseServiceAccountKeys([keyFile, item] as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(failure);
  });
});

describe('numberOption', () => {
  it('takes Infinity as a whole number only where there is no upper bound, and no fraction', () => {
    const unbounded = { min: 0, max: Infinity, integer: true };
    expect(numberOption(Infinity, 'n', unbounded)).toBe(Infinity);
    expect(() => numberOption(1.5, 'n', unbounded)).toThrow(ConfigurationError);
    expect(() => numberOption(Infinity, 'n', { min: 0, max: 10, integer: true })).toThrow(
      ConfigurationError,
    );
  });
});
