import { readFileSync } from 'node:fs';
import { generateServiceAccountKey } from '@drillster-auth/testing';

export { generateServiceAccountKey, pem } from '@drillster-auth/testing';

/** The pinned tests' name for {@link generateServiceAccountKey}. */
export function generateKeyFile(modulusLength?: number) {
  return generateServiceAccountKey({ modulusLength });
}

export function pemBody(pemText: string): Uint8Array {
  const body = pemText.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/** The example key file printed in Drillster's service account document (deliberately corrupt). */
export function referenceExampleKeyFile(): string {
  return readFileSync(new URL('./fixtures/reference-example-key.json', import.meta.url), 'utf8');
}
