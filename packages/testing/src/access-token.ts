import { jwtVerify, SignJWT } from 'jose';
import type { VerifiedAccessToken } from './types.js';

export interface IssueTokenOptions {
  issuer: string;
  subject: string;
  serviceAccountId: string;
  clientId: string;
  /** The server's now, in milliseconds since the epoch. */
  now: number;
  /** In seconds. */
  lifetime: number;
}

/**
 * Signs and checks the server's access tokens: HS256 JWTs like Drillster's, so a client can read
 * `exp` when `expires_in` is missing.
 */
export class AccessTokens {
  #secret = crypto.getRandomValues(new Uint8Array(32));

  /** Every token issued so far stops verifying: the signing secret is replaced. */
  revokeAll(): void {
    this.#secret = crypto.getRandomValues(new Uint8Array(32));
  }

  issue(options: IssueTokenOptions): Promise<string> {
    const issuedAt = Math.floor(options.now / 1000);
    return new SignJWT({
      client_id: options.clientId,
      service_account_id: options.serviceAccountId,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(options.subject)
      .setIssuer(options.issuer)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + options.lifetime)
      .setJti(crypto.randomUUID())
      .sign(this.#secret);
  }

  /** The token's claims if it was issued here and is unexpired at `now`, else `undefined`. */
  async verify(token: string, now: number): Promise<VerifiedAccessToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#secret, {
        algorithms: ['HS256'],
        currentDate: new Date(now),
        requiredClaims: ['sub', 'exp'],
      });
      const { sub, exp, client_id: clientId, service_account_id: serviceAccountId } = payload;
      if (typeof clientId !== 'string' || typeof serviceAccountId !== 'string') return undefined;
      return { subject: sub!, serviceAccountId, clientId, expiresAt: exp! * 1000 };
    } catch {
      return undefined;
    }
  }
}
