/** Headers every answer carries: the server's `Date`, shifted when a clock fault is active. */
export function baseHeaders(now: number): Headers {
  return new Headers({ date: new Date(now).toUTCString() });
}

export function json(body: unknown, status: number, headers: Headers): Response {
  headers.set('content-type', 'application/json');
  return new Response(JSON.stringify(body), { status, headers });
}

/** An RFC 6749 §5.2 error response; never cached. */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Headers,
): Response {
  headers.set('cache-control', 'no-store');
  headers.set('pragma', 'no-cache');
  return json({ error, error_description: description }, status, headers);
}

/**
 * Quotes a value taken from a request for an `error_description`, which RFC 6749 limits to
 * printable ASCII without `"` and `\`; long values are cut so an attacker cannot bloat answers.
 */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const clean = text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
  return `'${clean.length > 80 ? `${clean.slice(0, 80)}...` : clean}'`;
}
