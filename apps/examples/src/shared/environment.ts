import { readFile } from 'node:fs/promises';
import { DRILLSTER_API_BASE_URL, type DrillsterAuthOptions } from '@drillster-auth/core';
import { startMockDrillster } from '@drillster-auth/testing/node';

/** Where the examples get their credentials and which Drillster they talk to. */
export interface ExampleEnvironment {
  /** Options for `createDrillsterAuth`, with the key as its JSON file's text. */
  auth: Pick<DrillsterAuthOptions, 'clientId' | 'clientSecret' | 'issuer' | 'tokenEndpoint'> & {
    key: string;
  };
  /**
   * A second registered key of the service account (its JSON file's text), listed after
   * `auth.key` by the rotation example: on the mock a fresh one; on Drillster the file
   * `DRILLSTER_STANDBY_KEY_FILE` names, when set.
   */
  standbyKey?: string;
  /** On the mock only: deletes a key as Drillster's console does. */
  deleteKey?: (keyId: string) => void;
  /** Base URL of the REST API, ending in `/api/2.1.1/`. */
  apiBaseUrl: string;
  /** A user the service account manages, for widget tokens. */
  managedUserId: string;
  /** `mock` when the embedded mock server is used. */
  target: 'drillster' | 'mock';
  close(): Promise<void>;
}

/**
 * Real Drillster when `DRILLSTER_KEY_FILE`, `DRILLSTER_CLIENT_ID` and `DRILLSTER_CLIENT_SECRET`
 * are set (plus `DRILLSTER_MANAGED_USER` for widget tokens); otherwise an embedded mock server on
 * 127.0.0.1 with a fresh service account.
 */
export async function exampleEnvironment(env = process.env): Promise<ExampleEnvironment> {
  const { DRILLSTER_KEY_FILE, DRILLSTER_CLIENT_ID, DRILLSTER_CLIENT_SECRET } = env;
  if (DRILLSTER_KEY_FILE && DRILLSTER_CLIENT_ID && DRILLSTER_CLIENT_SECRET) {
    const standby = env.DRILLSTER_STANDBY_KEY_FILE;
    return {
      ...(standby ? { standbyKey: await readFile(standby, 'utf8') } : {}),
      auth: {
        key: await readFile(DRILLSTER_KEY_FILE, 'utf8'),
        clientId: DRILLSTER_CLIENT_ID,
        clientSecret: DRILLSTER_CLIENT_SECRET,
        ...(env.DRILLSTER_ISSUER ? { issuer: env.DRILLSTER_ISSUER } : {}),
        ...(env.DRILLSTER_TOKEN_ENDPOINT ? { tokenEndpoint: env.DRILLSTER_TOKEN_ENDPOINT } : {}),
      },
      apiBaseUrl: env.DRILLSTER_API_BASE_URL ?? DRILLSTER_API_BASE_URL,
      managedUserId: env.DRILLSTER_MANAGED_USER ?? '',
      target: 'drillster',
      close: async () => {},
    };
  }
  const server = await startMockDrillster();
  const { account, managedUser, authOptions } = await server.provision();
  const standby = await server.mock.addKey(account.serviceAccountId);
  return {
    // The key as its JSON file's text, the way it arrives from disk or a secret store.
    auth: { ...authOptions, key: account.keyFileJson },
    standbyKey: standby.keyFileJson,
    deleteKey: (keyId) => server.mock.revokeKey(keyId),
    apiBaseUrl: server.apiBaseUrl,
    managedUserId: managedUser.userId,
    target: 'mock',
    close: () => server.close(),
  };
}

/** What each example reports to the demo. */
export interface ExampleReport {
  example: string;
  subject: string;
  tokenObtained: boolean;
  apiStatus: number;
  detail?: string;
}
