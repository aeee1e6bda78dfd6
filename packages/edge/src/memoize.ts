import {
  createDrillsterAuth,
  DEFAULT_ISSUER,
  type DrillsterAuth,
  type DrillsterAuthOptions,
  parseServiceAccountKeys,
} from '@drillster-auth/core';

const clients = new Map<string, DrillsterAuth>();

/**
 * The {@link DrillsterAuth} for these options, created on first use and kept for the life of
 * the isolate (a Worker's, or the Deno/Bun process). Call it in each request with that
 * request's `env`: requests the isolate serves then share one client, and so its cached
 * tokens and its single in-flight token request.
 *
 * Clients are told apart by issuer (or token endpoint), client id and secret, service account id
 * and the key ids in their order (so a rotated `key` list gets a new client); the first call's
 * other options (cache, refresh window, `onEvent`…) are the ones used.
 *
 * @throws {KeyFileError} when the key is unusable; {@link ConfigurationError} for other options.
 */
export function getDrillsterAuth(options: DrillsterAuthOptions): DrillsterAuth {
  const keys = parseServiceAccountKeys(options.key);
  // The secret is part of the identity so that a rotated secret gets a new client rather than
  // the old one's invalid_client errors. The map is private; the client holds the secret anyway.
  const id = [
    options.tokenEndpoint ?? options.issuer ?? DEFAULT_ISSUER,
    options.clientId,
    options.clientSecret,
    keys[0]?.serviceAccountId,
    ...keys.map((key) => key.keyId),
  ].join('\n');
  let client = clients.get(id);
  if (client === undefined) {
    client = createDrillsterAuth({ ...options, key: keys });
    clients.set(id, client);
  }
  return client;
}
