import { inspect } from 'node:util';
import { expectNoLeaks } from '@drillster-auth/testing/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DrillsterAuthEvent, parseServiceAccountKey, secretForms } from '../src/index.js';
import { type Fixture, startFixture } from './server.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});

afterAll(async () => {
  await fx.server.close();
});

/** Everything that would identify a secret if it leaked. */
function secrets(extra: string[]): string[] {
  const pemLines = fx.account.keyFile.privateKey
    .split('\n')
    .filter((line) => !line.startsWith('-----'));
  return [fx.client.clientSecret, ...pemLines.filter((line) => line.length > 20), ...extra];
}

function render(value: unknown): string[] {
  const out = [inspect(value, { depth: 20, showHidden: true, getters: true })];
  try {
    out.push(JSON.stringify(value) ?? '');
  } catch {
    // Circular structures cannot be stringified; inspect covered them.
  }
  if (value instanceof Error) {
    out.push(value.message, String(value.stack));
    if (value.cause) out.push(...render(value.cause));
  }
  return out;
}

describe('secrets never leak', () => {
  it('through errors, events, or JSON/inspect output of clients, keys and tokens', async () => {
    const events: DrillsterAuthEvent[] = [];
    const failures: unknown[] = [];
    const onEvent = (event: DrillsterAuthEvent) => events.push(event);
    const auth = fx.auth({ onEvent, retry: { attempts: 2, baseDelay: 1 } });
    const token = await auth.getAccessToken();
    const user = fx.server.mock.addManagedUser(fx.account.serviceAccountId);
    const userToken = await auth.getAccessToken({ subject: user.userId });

    const mock = fx.server.mock;
    const scenarios: Array<() => Promise<unknown>> = [
      () => fx.auth({ onEvent, clientSecret: `${fx.client.clientSecret}x` }).getAccessToken(),
      () => auth.getAccessToken({ subject: 'someone-else' }),
      async () => {
        mock.injectFault({ status: 503, count: 2 });
        return auth.getAccessToken({ forceRefresh: true });
      },
      async () => {
        mock.injectFault({
          status: 200,
          body: `{"access_token": ${JSON.stringify(token.accessToken)}}`,
        });
        return auth.getAccessToken({ forceRefresh: true });
      },
      async () => {
        mock.injectFault({ dropConnection: true, count: 2 });
        return auth.getAccessToken({ forceRefresh: true });
      },
      async () => {
        // A server that echoes what it got into its error description.
        mock.injectFault({
          status: 400,
          body: JSON.stringify({
            error: 'invalid_request',
            error_description: `rejected client_secret=${fx.client.clientSecret}`,
          }),
          contentType: 'application/json',
        });
        return auth.getAccessToken({ forceRefresh: true });
      },
      () =>
        fx
          .auth({ onEvent, tokenEndpoint: 'http://127.0.0.1:9/token', retry: false })
          .getAccessToken(),
      async () => {
        // ofetch's own error on a timeout holds the request body: secret and assertion.
        mock.injectFault({ delayMs: 2000 });
        return fx.auth({ onEvent, timeout: 100, retry: false }).getAccessToken();
      },
      async () =>
        parseServiceAccountKey({
          ...fx.account.keyFile,
          privateKey: fx.account.keyFile.privateKey.slice(0, 900),
        }),
      async () =>
        parseServiceAccountKey(JSON.stringify(fx.account.keyFile).replace('"keyId"', 'keyId')),
    ];
    for (const scenario of scenarios) {
      try {
        await scenario();
      } catch (error) {
        failures.push(error);
      }
    }
    mock.clearFaults();
    expect(failures.length).toBe(scenarios.length);
    expect(events.some((e) => e.type === 'token_failed')).toBe(true);

    const rendered = [
      ...failures.flatMap(render),
      ...events.flatMap(render),
      ...render(auth),
      ...render(token),
      ...render(userToken),
      ...render(parseServiceAccountKey(fx.account.keyFile)),
      String(auth),
      String(token),
    ].join('\n');
    for (const secret of secrets([token.accessToken, userToken.accessToken])) {
      expect(rendered).not.toContain(secret);
    }
    const leakSecrets = {
      clientSecret: fx.client.clientSecret,
      privateKey: fx.account.keyFile.privateKey,
      accessToken: token.accessToken,
      userAccessToken: userToken.accessToken,
    };
    for (const failure of failures) expectNoLeaks(failure, leakSecrets, 'an error');
    for (const event of events) expectNoLeaks(event, leakSecrets, `the ${event.type} event`);
    expect(rendered).toContain('[redacted]');
    expect(rendered).toContain('invalid_client');
  });
});

describe('secretForms', () => {
  it('spells a secret in base64 as btoa does, padded and not, and in base64url, whatever its length', () => {
    for (const secret of ['a', 'ab', 'abc', 'abcd', 's3cr+t/?ü', '€€', 'x'.repeat(65)]) {
      const base64 = btoa(String.fromCharCode(...new TextEncoder().encode(secret)));
      const unpadded = base64.replace(/=+$/, '');
      const forms = secretForms(secret);
      expect(forms).toContain(base64);
      expect(forms).toContain(unpadded);
      expect(forms).toContain(unpadded.replaceAll('+', '-').replaceAll('/', '_'));
    }
  });
});
