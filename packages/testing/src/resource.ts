import { delay, faultResponse } from './faults.js';
import { baseHeaders, json, quote } from './responses.js';
import { type ServerState, serverNow } from './state.js';
import type { VerifiedAccessToken } from './types.js';

export const API_PREFIX = '/api/2.1.1/';

const GROUPS = [
  { id: 'Yk3pS2m8TqKgkVd3VqzX1A', name: 'Onboarding' },
  { id: 'rX0eQy7aRkWcC4u9nD2b6g', name: 'Sales training' },
];

/** The protected resource: a sliver of Drillster's REST API behind RFC 6750 bearer tokens. */
export async function protectedResource(request: Request, state: ServerState): Promise<Response> {
  const { stats } = state;
  stats.apiRequests += 1;
  const fault = state.apiFaults.take(state.clock());
  if (fault?.delayMs) await delay(fault.delayMs, request.signal);
  const now = serverNow(state);
  const headers = baseHeaders(now);
  // A 401 fault stands for a token the API no longer accepts; other faults answer as elsewhere.
  const refused =
    fault?.status === 401 &&
    fault.body === undefined &&
    fault.bodyBytes === undefined &&
    !fault.dropConnection;
  const injected =
    fault && !refused ? faultResponse(fault, headers, new URLSearchParams()) : undefined;
  if (injected !== undefined) return injected;
  const authorization = request.headers.get('authorization');
  const match = authorization === null ? null : /^bearer +([^\s]+) *$/i.exec(authorization);
  let token: VerifiedAccessToken | undefined;
  if (match?.[1] !== undefined && !refused) token = await state.tokens.verify(match[1], now);
  if (token === undefined) {
    stats.apiRejections += 1;
    // RFC 6750 §3.1: no error code when the request carried no token at all.
    const challenge =
      authorization === null
        ? 'Bearer realm="Drillster"'
        : 'Bearer realm="Drillster", error="invalid_token", error_description="The access token is invalid or expired"';
    headers.set('www-authenticate', challenge);
    return json(
      {
        error: authorization === null ? 'unauthorized' : 'invalid_token',
        error_description:
          authorization === null
            ? 'An access token is required'
            : 'The access token is invalid or expired',
      },
      401,
      headers,
    );
  }

  if (request.method !== 'GET') {
    headers.set('allow', 'GET');
    return json({ error: 'method_not_allowed' }, 405, headers);
  }
  const path = new URL(request.url).pathname.slice(API_PREFIX.length);
  if (path === 'user') return json(user(state, token), 200, headers);
  if (path === 'groups') return json({ groups: GROUPS }, 200, headers);
  return json(
    { error: 'not_found', error_description: `No API resource ${quote(path)}` },
    404,
    headers,
  );
}

function user(state: ServerState, token: VerifiedAccessToken): Record<string, unknown> {
  if (token.subject === token.serviceAccountId) {
    return { id: token.subject, name: 'Service account', serviceAccount: true };
  }
  const managed = state.registry.user(token.subject);
  const email = managed?.email;
  return {
    id: token.subject,
    name: email?.split('@')[0] ?? token.subject,
    email,
    serviceAccount: false,
  };
}
