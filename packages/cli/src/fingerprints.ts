import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** The public half of an RSA key, described so it can be registered and recognised. */
export interface PublicKeyDescription {
  /** Size of the modulus, in bits. */
  bits: number;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  pem: string;
  /** The public JWK: `kty`, `n`, `e`, plus `alg` and `use`. */
  jwk: { kty: 'RSA'; n: string; e: string; alg: 'RS256'; use: 'sig' };
  /** RFC 7638 JWK thumbprint: SHA-256 of the canonical JWK, base64url. */
  jwkThumbprint: string;
  /** SHA-256 of the SPKI DER, lowercase hex (what `openssl dgst -sha256` prints for it). */
  spkiSha256: string;
}

/** Describes the public half of the PKCS#8 PEM `privateKeyPem`; never exposes the private half. */
export function describePublicKeyOf(privateKeyPem: string): PublicKeyDescription {
  return describePublicKey(createPublicKey(privateKeyPem));
}

/** Describes an RSA public key given as SPKI DER. */
export function describeSpki(spki: Uint8Array): PublicKeyDescription {
  return describePublicKey(
    createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
  );
}

function describePublicKey(key: KeyObject): PublicKeyDescription {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TypeError(
      `expected an RSA key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`,
    );
  }
  const { n, e } = key.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new TypeError('RSA key without n or e');
  const spki = key.export({ format: 'der', type: 'spki' });
  return {
    bits: key.asymmetricKeyDetails?.modulusLength ?? 0,
    pem: key.export({ format: 'pem', type: 'spki' }).toString().trimEnd(),
    jwk: { kty: 'RSA', n, e, alg: 'RS256', use: 'sig' },
    jwkThumbprint: jwkThumbprint({ n, e }),
    spkiSha256: createHash('sha256').update(spki).digest('hex'),
  };
}

/**
 * RFC 7638 §3: the required members only (`e`, `kty`, `n` for RSA), in lexicographic order,
 * without white space, hashed with SHA-256 and base64url-encoded.
 */
export function jwkThumbprint(jwk: { n: string; e: string }): string {
  const canonical = `{"e":${JSON.stringify(jwk.e)},"kty":"RSA","n":${JSON.stringify(jwk.n)}}`;
  return createHash('sha256').update(canonical).digest('base64url');
}
