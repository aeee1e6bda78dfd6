/**
 * The core client on its own: get a token for the service account and call the Drillster API.
 *
 *   pnpm --filter @drillster-auth/examples exec tsx src/core/get-token.ts
 */
import { createDrillsterAuth } from '@drillster-auth/core';
import {
  type ExampleEnvironment,
  type ExampleReport,
  exampleEnvironment,
} from '../shared/environment.js';
import { runDirectly } from '../shared/run-directly.js';

export async function coreExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  const auth = createDrillsterAuth(environment.auth);
  try {
    const token = await auth.getAccessToken();
    const response = await fetch(new URL('user', environment.apiBaseUrl), {
      headers: { Authorization: await auth.getAuthorizationHeader() },
    });
    const user = (await response.json()) as { name?: string };
    return {
      example: 'core',
      subject: token.subject,
      tokenObtained: true,
      apiStatus: response.status,
      detail: `GET /user → ${user.name ?? 'unknown'}, token valid until ${new Date(token.expiresAt).toISOString()}`,
    };
  } finally {
    auth.close();
  }
}

runDirectly(import.meta.url, async () => {
  const environment = await exampleEnvironment();
  try {
    console.log(await coreExample(environment));
  } finally {
    await environment.close();
  }
});
