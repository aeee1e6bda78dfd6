const encoder = new TextEncoder();
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * base64url (no padding) of `bytes`, by table: `btoa` needs a binary string first, and building
 * it and then rewriting `+/=` cost more than the signature's own encoding.
 */
export function base64urlBytes(bytes: Uint8Array): string {
  const length = bytes.length;
  let out = '';
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const bits = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[bits >> 18]! +
      ALPHABET[(bits >> 12) & 63]! +
      ALPHABET[(bits >> 6) & 63]! +
      ALPHABET[bits & 63]!;
  }
  if (i < length) {
    const two = i + 1 < length;
    const bits = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out += ALPHABET[bits >> 18]! + ALPHABET[(bits >> 12) & 63]!;
    if (two) out += ALPHABET[(bits >> 6) & 63]!;
  }
  return out;
}

/** base64url (no padding) of `text`'s UTF-8 bytes. */
export function base64url(text: string): string {
  return base64urlBytes(encoder.encode(text));
}
