import { accountId, hexId } from './ids.js';
import type { ServiceAccountKeyFile, WebCryptoKey } from './types.js';

/** A service account key made by {@link generateServiceAccountKey}. */
export interface GeneratedServiceAccountKey {
  /** The key file Drillster's console hands out (the private half, PKCS#8 PEM). */
  keyFile: ServiceAccountKeyFile;
  /** {@link keyFile} laid out as the console writes it. */
  keyFileJson: string;
  /** The public half, to verify signed assertions independently of the SDK. */
  publicKey: WebCryptoKey;
}

/** Options for {@link generateServiceAccountKey}. */
export interface GenerateServiceAccountKeyOptions {
  /** Default: random, Drillster-shaped (22 base64url characters). */
  serviceAccountId?: string;
  /**
   * RSA modulus in bits. Default 2048. The SDK refuses keys under 2048 bits, so a smaller one only
   * serves to test that refusal.
   */
  modulusLength?: number;
}

/**
 * Generates a service account key file without a mock server, e.g. for tests that parse keys or
 * verify assertions with the public half. `MockDrillster.createServiceAccount` uses the same
 * generator and also registers the public half.
 *
 * @example
 * ```ts
 * const { keyFile, publicKey } = await generateServiceAccountKey();
 * ```
 */
export function generateServiceAccountKey(
  options: GenerateServiceAccountKeyOptions = {},
): Promise<GeneratedServiceAccountKey> {
  return generateKey(options.serviceAccountId ?? accountId(), options.modulusLength ?? 2048);
}

/** Generates a key pair the way Drillster's console does and wraps the private half as a key file. */
export async function generateKey(
  serviceAccountId: string,
  modulusLength: number,
): Promise<GeneratedServiceAccountKey> {
  const pair = (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const keyFile: ServiceAccountKeyFile = {
    privateKey: pem('PRIVATE KEY', der),
    keyId: hexId(),
    serviceAccountId,
  };
  return { keyFile, keyFileJson: keyFileJson(keyFile), publicKey: pair.publicKey };
}

/**
 * Wraps DER bytes as PEM with 64-character lines and `\n` breaks, as in Drillster's key files;
 * for tests that build a key file around bytes of their own.
 *
 * @param label The PEM label, e.g. `PRIVATE KEY`.
 */
export function pem(label: string, der: Uint8Array): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

/** The console's layout: two-space indent, no space after the colon, fields in this order. */
function keyFileJson(keyFile: ServiceAccountKeyFile): string {
  const fields = [
    ['privateKey', keyFile.privateKey],
    ['keyId', keyFile.keyId],
    ['serviceAccountId', keyFile.serviceAccountId],
  ];
  return `{\n${fields.map(([name, value]) => `  ${JSON.stringify(name)}:${JSON.stringify(value)}`).join(',\n')}\n}`;
}
