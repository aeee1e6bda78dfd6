import { decodeJwt } from 'jose';
import { validateAssertion } from './assertion.js';
import { delay, faultResponse } from './faults.js';
import { JWT_BEARER_GRANT, TOKEN_PATH } from './metadata.js';
import { baseHeaders, json, oauthError, quote } from './responses.js';
import type { ServerState } from './state.js';

/** `POST /daas/oauth/token`: the RFC 7523 JWT bearer grant with `client_secret_post`. */
export async function tokenEndpoint(
  request: Request,
  issuer: string,
  state: ServerState,
): Promise<Response> {
  const { stats } = state;
  if (request.method !== 'POST') {
    const headers = baseHeaders(state.clock() + state.faults.standingOffsetMs);
    headers.set('allow', 'POST');
    return reject(state, 405, 'invalid_request', 'The token endpoint accepts POST only', headers);
  }
  stats.tokenRequests += 1;
  const form = await readForm(request);
  record(state, form.params);

  const fault = state.faults.take(state.clock());
  if (fault?.delayMs) await delay(fault.delayMs, request.signal);
  const now = state.clock() + (fault?.dateOffsetMs ?? 0);
  const headers = baseHeaders(now);
  const injected = fault && faultResponse(fault, headers, form.params);
  if (injected !== undefined) return injected;

  if (form.error !== undefined) return reject(state, 400, 'invalid_request', form.error, headers);
  const { params } = form;
  const grantType = params.get('grant_type');
  if (grantType === null) {
    return reject(state, 400, 'invalid_request', 'grant_type is missing', headers);
  }
  if (grantType !== JWT_BEARER_GRANT) {
    return reject(
      state,
      400,
      'unsupported_grant_type',
      `grant_type ${quote(grantType)} is not supported; use '${JWT_BEARER_GRANT}'`,
      headers,
    );
  }
  const clientId = params.get('client_id');
  const clientSecret = params.get('client_secret');
  if (request.headers.has('authorization')) {
    return rejectClient(
      state,
      'Only client_secret_post is supported: send client_id and client_secret in the form, not in an Authorization header',
      headers,
    );
  }
  if (clientId === null || clientSecret === null) {
    return rejectClient(state, 'client_id and client_secret are required', headers);
  }
  if (!state.registry.authenticateClient(clientId, clientSecret)) {
    return rejectClient(state, 'Client authentication failed', headers);
  }
  const assertion = params.get('assertion');
  if (assertion === null) {
    return reject(state, 400, 'invalid_request', 'assertion is missing', headers);
  }

  const result = await validateAssertion(assertion, {
    registry: state.registry,
    replay: state.replay,
    tokenEndpoint: `${issuer}${TOKEN_PATH}`,
    now,
  });
  if (!result.valid) return reject(state, 400, 'invalid_grant', result.description, headers);

  const lifetime = state.tokenLifetime;
  const accessToken = await state.tokens.issue({
    issuer,
    subject: result.subject,
    serviceAccountId: result.serviceAccountId,
    clientId,
    now,
    lifetime,
  });
  stats.tokensIssued += 1;
  headers.set('cache-control', 'no-store');
  headers.set('pragma', 'no-cache');
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: fault?.tokenType ?? 'bearer',
  };
  if (!fault?.omitExpiresIn) body.expires_in = lifetime;
  return json(body, 200, headers);
}

interface Form {
  params: URLSearchParams;
  error?: string;
}

/** RFC 6749 §3.2: a form body, no repeated parameters; empty ones count as absent (§3.1). */
async function readForm(request: Request): Promise<Form> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return {
      params: new URLSearchParams(),
      error: 'The request body must be application/x-www-form-urlencoded',
    };
  }
  const params = new URLSearchParams();
  let error: string | undefined;
  for (const [name, value] of new URLSearchParams(await request.text())) {
    if (value === '') continue;
    if (params.has(name)) error ??= `Parameter ${quote(name)} is included more than once`;
    else params.set(name, value);
  }
  return error === undefined ? { params } : { params, error };
}

function record(state: ServerState, params: URLSearchParams): void {
  const { stats } = state;
  const fields: Record<string, string> = {};
  for (const [name, value] of params) {
    if (name !== 'client_secret' && name !== 'assertion') fields[name] = value;
  }
  stats.lastRequestBody = fields;
  const assertion = params.get('assertion') ?? undefined;
  stats.lastAssertion = assertion;
  if (assertion === undefined) return;
  let subject: unknown;
  try {
    subject = decodeJwt(assertion).sub;
  } catch {
    return;
  }
  if (typeof subject === 'string') {
    stats.tokenRequestsBySubject[subject] = (stats.tokenRequestsBySubject[subject] ?? 0) + 1;
  }
}

function reject(
  state: ServerState,
  status: number,
  error: string,
  description: string,
  headers: Headers,
): Response {
  state.stats.rejections[error] = (state.stats.rejections[error] ?? 0) + 1;
  return oauthError(status, error, description, headers);
}

function rejectClient(state: ServerState, description: string, headers: Headers): Response {
  headers.set('www-authenticate', 'Basic realm="Drillster"');
  return reject(state, 401, 'invalid_client', description, headers);
}
