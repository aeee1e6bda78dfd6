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

/** Cloudflare's `ExecutionContext`, as far as this Worker uses it. */
interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

// Module scope lives as long as the isolate: its token cache serves every request it handles.
let auth: DrillsterAuth | undefined;

/**
 * A fetch for this request: the client is the isolate's, and the request's `ctx` receives the
 * token work that outlives the response (a refresh ahead of expiry), which workerd would
 * otherwise drop with the request.
 */
function drillster(env: Env, ctx: WorkerContext): { auth: DrillsterAuth; fetch: DrillsterFetch } {
  auth ??= createDrillsterAuth({
    key: env.DRILLSTER_KEY_FILE,
    clientId: env.DRILLSTER_CLIENT_ID,
    clientSecret: env.DRILLSTER_CLIENT_SECRET,
    ...(env.DRILLSTER_ISSUER ? { issuer: env.DRILLSTER_ISSUER } : {}),
  });
  const fetch = createDrillsterFetch({ auth, allowedOrigins: [new URL(apiBase(env)).origin], ctx });
  return { auth, fetch };
}

function apiBase(env: Env): string {
  return env.DRILLSTER_API_BASE_URL ?? DRILLSTER_API_BASE_URL;
}

export default {
  async fetch(_request: Request, env: Env, ctx: WorkerContext): Promise<Response> {
    const { auth, fetch } = drillster(env, ctx);
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
