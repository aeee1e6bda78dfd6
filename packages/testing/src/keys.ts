import { hexId } from './ids.js';
import type { ServiceAccountKeyFile } from './types.js';

export interface GeneratedKey {
  keyFile: ServiceAccountKeyFile;
  keyFileJson: string;
  publicKey: CryptoKey;
}

/** Generates a key pair the way Drillster's console does and wraps the private half as a key file. */
export async function generateKey(
  serviceAccountId: string,
  modulusLength: number,
): Promise<GeneratedKey> {
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

/** PEM with 64-character lines and `\n` breaks, as in Drillster's key files. */
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
