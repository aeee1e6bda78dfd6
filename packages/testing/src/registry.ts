import type { MockManagedUser } from './types.js';

export interface KeyRecord {
  keyId: string;
  serviceAccountId: string;
  publicKey: CryptoKey;
  revoked: boolean;
}

export interface AccountRecord {
  serviceAccountId: string;
  modulusLength: number;
  users: MockManagedUser[];
}

/** What the server knows: service accounts with their public keys and users, and clients. */
export class Registry {
  readonly accounts = new Map<string, AccountRecord>();
  readonly keys = new Map<string, KeyRecord>();
  readonly #clients = new Map<string, string>();

  account(serviceAccountId: string): AccountRecord {
    const account = this.accounts.get(serviceAccountId);
    if (account === undefined) {
      throw new Error(`No service account ${JSON.stringify(serviceAccountId)} on this mock`);
    }
    return account;
  }

  setClient(clientId: string, clientSecret: string): void {
    this.#clients.set(clientId, clientSecret);
  }

  /** Compares in time independent of where the secrets differ, as a real server must. */
  authenticateClient(clientId: string, clientSecret: string): boolean {
    const expected = this.#clients.get(clientId);
    if (expected === undefined) return false;
    let difference = expected.length ^ clientSecret.length;
    for (let i = 0; i < expected.length; i++) {
      // Past the end of a shorter secret charCodeAt is NaN, which `^` treats as 0.
      difference |= expected.charCodeAt(i) ^ clientSecret.charCodeAt(i);
    }
    return difference === 0;
  }

  /** The account id a `sub` names for a service account: itself, or a managed user by id or email. */
  resolveSubject(account: AccountRecord, subject: string): string | undefined {
    if (subject === account.serviceAccountId) return subject;
    const email = subject.toLowerCase();
    const user = account.users.find((u) => u.userId === subject || u.email.toLowerCase() === email);
    return user?.userId;
  }

  /** The managed user with this id in any account, for the protected resource. */
  user(userId: string): MockManagedUser | undefined {
    for (const account of this.accounts.values()) {
      const user = account.users.find((u) => u.userId === userId);
      if (user !== undefined) return user;
    }
    return undefined;
  }
}
