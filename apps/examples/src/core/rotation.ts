/**
 * Key rotation without downtime: a client with two registered keys of the service account, in
 * order of preference. When Drillster refuses the first (deleted in its console because it
 * leaked, or rotated out), the next signs, within the same token request: no call fails, and a
 * `key_rejected` event says which key to replace. On the mock, the example deletes the first key
 * between two token requests to show it, and fails unless a `key_rejected` event names that key
 * (a token alone does not show that a refused key was passed over).
 *
 *   pnpm --filter @drillster-auth/examples exec tsx src/core/rotation.ts
 */
import {
  authorizationHeader,
  createDrillsterAuth,
  type DrillsterAuthEvent,
  parseServiceAccountKey,
} from '@drillster-auth/core';
import {
  type ExampleEnvironment,
  type ExampleReport,
  exampleEnvironment,
} from '../shared/environment.js';
import { runDirectly } from '../shared/run-directly.js';

export async function rotationExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  const { key: primary, ...credentials } = environment.auth;
  const standby = environment.standbyKey;
  const warnings: string[] = [];
  const rejectedKeyIds: string[] = [];
  const auth = createDrillsterAuth({
    ...credentials,
    key: standby === undefined ? primary : [primary, standby],
    onEvent: (event: DrillsterAuthEvent) => {
      // Worth an alert: a listed key no longer works and should be replaced.
      if (event.type === 'key_rejected') {
        rejectedKeyIds.push(event.keyId);
        warnings.push(
          `key ${event.keyId} refused (${event.error.error}), signing with ${event.acceptedKeyId}`,
        );
      }
    },
  });
  try {
    await auth.getAccessToken();
    const primaryKeyId = parseServiceAccountKey(primary).keyId;
    environment.deleteKey?.(primaryKeyId);
    const token = await auth.getAccessToken({ forceRefresh: true });
    const response = await fetch(new URL('user', environment.apiBaseUrl), {
      headers: { Authorization: authorizationHeader(token) },
    });
    await response.arrayBuffer();
    if (environment.deleteKey !== undefined && !rejectedKeyIds.includes(primaryKeyId)) {
      throw new Error(
        `key ${primaryKeyId} was deleted, yet no key_rejected event named it: the rotation was not shown`,
      );
    }
    return {
      example: 'core (key rotation)',
      subject: token.subject,
      tokenObtained: true,
      apiStatus: response.status,
      detail: warnings.length > 0 ? warnings.join('; ') : 'the first key was accepted',
    };
  } finally {
    auth.close();
  }
}

runDirectly(import.meta.url, async () => {
  const environment = await exampleEnvironment();
  try {
    console.log(await rotationExample(environment));
  } finally {
    await environment.close();
  }
});
