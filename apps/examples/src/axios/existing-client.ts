/**
 * An axios client you already have gains Drillster auth in two lines.
 *
 *   pnpm --filter @drillster-auth/examples exec tsx src/axios/existing-client.ts
 */
import { attachDrillsterAuth } from '@drillster-auth/axios';
import { createDrillsterAuth } from '@drillster-auth/core';
import axios from 'axios';
import {
  type ExampleEnvironment,
  type ExampleReport,
  exampleEnvironment,
} from '../shared/environment.js';
import { runDirectly } from '../shared/run-directly.js';

export async function axiosExample(environment: ExampleEnvironment): Promise<ExampleReport> {
  // The client your application already has:
  const drillster = axios.create({ baseURL: environment.apiBaseUrl, timeout: 10_000 });

  // The two lines:
  const auth = createDrillsterAuth(environment.auth);
  const detach = attachDrillsterAuth(drillster, auth);

  try {
    const me = await drillster.get<{ name?: string }>('user');
    const groups = await drillster.get<unknown[]>('groups');
    return {
      example: 'axios',
      subject: auth.serviceAccountId,
      tokenObtained: true,
      apiStatus: me.status,
      detail: `GET /user → ${me.data.name ?? 'unknown'}; GET /groups → ${groups.status}`,
    };
  } finally {
    detach();
    auth.close();
  }
}

runDirectly(import.meta.url, async () => {
  const environment = await exampleEnvironment();
  try {
    console.log(await axiosExample(environment));
  } finally {
    await environment.close();
  }
});
