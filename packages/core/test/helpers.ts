import { readFileSync } from 'node:fs';

/** Generates an RSA key as a Drillster-style key file (PKCS#8 PEM with \n line breaks). */
export async function generateKeyFile(modulusLength = 2048): Promise<{
  keyFile: { privateKey: string; keyId: string; serviceAccountId: string };
  publicKey: CryptoKey;
}> {
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
  return {
    keyFile: {
      privateKey: pem('PRIVATE KEY', der),
      keyId: crypto.randomUUID().replaceAll('-', ''),
      serviceAccountId: 'iqKpEF3URCe0yAsyrsk_4g',
    },
    publicKey: pair.publicKey,
  };
}

export function pem(label: string, der: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...der));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

export function pemBody(pemText: string): Uint8Array {
  const body = pemText.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** The example key file printed in Drillster's service account document (deliberately corrupt). */
export function referenceExampleKeyFile(): string {
  return readFileSync(new URL('./fixtures/reference-example-key.json', import.meta.url), 'utf8');
}
