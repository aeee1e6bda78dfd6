/**
 * A Cloudflare Worker that calls the Drillster API with a service account.
 *
 * wrangler.toml:
 *   [vars]
 *   DRILLSTER_API_BASE_URL = "https://www.drillster.com/api/2.1.1/"
 * and the secrets: `wrangler secret put DRILLSTER_KEY_FILE` (the JSON key file),
 * `DRILLSTER_CLIENT_ID`, `DRILLSTER_CLIENT_SECRET`.
 */
import {
  createDrillsterAuth,
  DRILLSTER_API_BASE_URL,
  type DrillsterAuth,
} from '@drillster-auth/core';
import { createDrillsterFetch, type DrillsterFetch } from '@drillster-auth/edge';

export interface Env {
  DRILLSTER_KEY_FILE: string;
  DRILLSTER_CLIENT_ID: string;
  DRILLSTER_CLIENT_SECRET: string;
  DRILLSTER_ISSUER?: string;
  DRILLSTER_API_BASE_URL?: string;
}

// Module scope lives as long as the isolate: its token cache serves every request it handles.
let client: { auth: DrillsterAuth; fetch: DrillsterFetch } | undefined;

function drillster(env: Env): { auth: DrillsterAuth; fetch: DrillsterFetch } {
  if (!client) {
    const auth = createDrillsterAuth({
      key: env.DRILLSTER_KEY_FILE,
      clientId: env.DRILLSTER_CLIENT_ID,
      clientSecret: env.DRILLSTER_CLIENT_SECRET,
      ...(env.DRILLSTER_ISSUER ? { issuer: env.DRILLSTER_ISSUER } : {}),
    });
    client = {
      auth,
      fetch: createDrillsterFetch({ auth, allowedOrigins: [new URL(apiBase(env)).origin] }),
    };
  }
  return client;
}

function apiBase(env: Env): string {
  return env.DRILLSTER_API_BASE_URL ?? DRILLSTER_API_BASE_URL;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const { auth, fetch } = drillster(env);
    const response = await fetch(new URL('user', apiBase(env)));
    const user = (await response.json()) as { name?: string };
    return Response.json({
      subject: auth.serviceAccountId,
      apiStatus: response.status,
      user: user.name ?? null,
      nodeCompat: typeof (globalThis as { Buffer?: unknown }).Buffer !== 'undefined',
    });
  },
};
