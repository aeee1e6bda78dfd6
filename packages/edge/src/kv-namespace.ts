/**
 * The part of a Workers KV namespace binding that {@link createKvTokenCache} uses. Cloudflare's
 * `KVNamespace` satisfies it, as does any store with the same methods.
 */
export interface KvNamespaceLike {
  /** The value stored under `key`, or `null`. */
  get(key: string, type: 'text'): Promise<string | null>;
  /** Stores `value`; KV deletes it `expirationTtl` seconds later (at least 60). */
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<unknown>;
  /** Removes `key`. */
  delete(key: string): Promise<unknown>;
}
