import { base64url } from 'jose';

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** 22 base64url characters, the shape of Drillster's account ids (`iqKpEF3URCe0yAsyrsk_4g`). */
export function accountId(): string {
  return base64url.encode(randomBytes(16));
}

/** 32 hexadecimal characters, the shape of Drillster's key and client ids. */
export function hexId(): string {
  return Array.from(randomBytes(16), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A random secret: 32 bytes as base64url. */
export function secret(): string {
  return base64url.encode(randomBytes(32));
}
