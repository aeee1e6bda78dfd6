import { ConfigurationError, KeyFileError } from './errors.js';
import {
  parseServiceAccountKey,
  type ServiceAccountKey,
  type ServiceAccountKeyFile,
} from './key-file.js';

/** One service account key as the client takes it: the key file's text, its object, or a parsed key. */
export type ServiceAccountKeyInput = string | ServiceAccountKeyFile | ServiceAccountKey;

/** Default of the client's `rejectedKeyPause`, in milliseconds: 10 minutes. */
export const DEFAULT_REJECTED_KEY_PAUSE = 600_000;

/**
 * Parses one key, or a list of keys of one service account in order of preference, as the
 * client's `key` option takes them.
 *
 * @throws {KeyFileError} when a key is unusable; in a list, the message starts with its index
 * (`key[1]: …`).
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` for an empty list, keys of different service
 * accounts or two keys with one `keyId`.
 */
export function parseServiceAccountKeys(
  input: ServiceAccountKeyInput | readonly ServiceAccountKeyInput[],
): readonly ServiceAccountKey[] {
  if (!Array.isArray(input)) return [parseServiceAccountKey(input as ServiceAccountKeyInput)];
  const list: readonly unknown[] = input;
  if (list.length === 0) {
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      'key must be a service account key or a non-empty list of keys',
    );
  }
  const keys = list.map((item, index) => parseListed(item, index));
  const [first] = keys as [ServiceAccountKey];
  keys.forEach((key, index) => {
    if (key.serviceAccountId !== first.serviceAccountId) {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `key[${index}] belongs to service account ${key.serviceAccountId}, key[0] to ${first.serviceAccountId}: all keys must be of one service account`,
      );
    }
    const earlier = keys.findIndex((other) => other.keyId === key.keyId);
    if (earlier < index) {
      throw new ConfigurationError(
        'ERR_INVALID_OPTIONS',
        `key[${index}] has the keyId of key[${earlier}] (${key.keyId}): each key may be listed once`,
      );
    }
  });
  return keys;
}

function parseListed(item: unknown, index: number): ServiceAccountKey {
  try {
    return parseServiceAccountKey(item as ServiceAccountKeyInput);
  } catch (error) {
    if (!(error instanceof KeyFileError)) throw error;
    // The message names the field; in a list, which key it is matters as much.
    throw new KeyFileError(error.code, `key[${index}]: ${error.message}`, {
      field: error.field,
      cause: error.cause,
    });
  }
}

/**
 * Which key signs next, and which the token endpoint refused and until when: clock arithmetic
 * only (the caller passes `now`), so it is testable without HTTP. The minting step
 * (`minting.ts`) asks it for the order to try keys in and reports what the token endpoint said.
 *
 * A key counts as refused only once another key was accepted where it was not: an
 * `invalid_grant` that every key gets is about something else (the subject, the clock), and is
 * no reason to pass a key over.
 */
export class KeyRing {
  /** The keys in order of preference; all of one service account. */
  readonly keys: readonly ServiceAccountKey[];
  readonly #pauseMs: number;
  /** Milliseconds since the epoch until which each refused key is passed over. */
  readonly #refusedUntil = new Map<ServiceAccountKey, number>();

  /**
   * @param keys - In order of preference, at least one.
   * @param pauseMs - How long a refused key is passed over, in milliseconds.
   */
  constructor(keys: readonly ServiceAccountKey[], pauseMs: number) {
    if (keys.length === 0) throw new RangeError('A key ring needs at least one key');
    this.keys = keys;
    this.#pauseMs = pauseMs;
  }

  /** The service account the keys belong to. */
  get serviceAccountId(): string {
    return (this.keys[0] as ServiceAccountKey).serviceAccountId;
  }

  /** The key that signs next at `now`: the first of {@link order}. */
  next(now: number): ServiceAccountKey {
    return this.order(now)[0] as ServiceAccountKey;
  }

  /**
   * The keys in the order a mint tries them at `now`: those not refused, in order of
   * preference, then the refused ones, the one free soonest first (the refusal may have been
   * about something else, and a caller should not fail while any key could still work).
   */
  order(now: number): readonly ServiceAccountKey[] {
    if (this.#refusedUntil.size === 0) return this.keys;
    const usable: ServiceAccountKey[] = [];
    const refused: ServiceAccountKey[] = [];
    for (const key of this.keys) {
      if (this.refusedUntil(key, now) === undefined) usable.push(key);
      else refused.push(key);
    }
    refused.sort((a, b) => (this.#refusedUntil.get(a) ?? 0) - (this.#refusedUntil.get(b) ?? 0));
    return [...usable, ...refused];
  }

  /** Until when `key` is passed over (milliseconds since the epoch), or `undefined` if it is not. */
  refusedUntil(key: ServiceAccountKey, now: number): number | undefined {
    const until = this.#refusedUntil.get(key);
    if (until === undefined) return undefined;
    if (now < until) return until;
    this.#refusedUntil.delete(key);
    return undefined;
  }

  /**
   * Records that the token endpoint refused `key` while another key was accepted: it is passed
   * over from `now` for the pause. Returns until when, or `undefined` when it was refused
   * already (so many callers refused at once report it once).
   */
  refuse(key: ServiceAccountKey, now: number): number | undefined {
    if (this.refusedUntil(key, now) !== undefined) return undefined;
    const until = now + this.#pauseMs;
    this.#refusedUntil.set(key, until);
    return until;
  }

  /** Records that the token endpoint accepted `key`: it is no longer passed over. */
  accept(key: ServiceAccountKey): void {
    this.#refusedUntil.delete(key);
  }
}
