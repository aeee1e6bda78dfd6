import { REDACTED, secretForms } from '@drillster-auth/core';

/** Shorter values are not scrubbed: replacing them would mangle ordinary words. */
const MIN_LENGTH = 4;

/**
 * The secrets this run has seen (client secret, tokens, assertions, key material, the cache
 * password), so that any text leaving on stderr can be scrubbed of them, whatever a server or a
 * library put into a message, and in whichever spelling a server echoed them.
 */
export class Secrets {
  readonly #values = new Set<string>();

  /** Remembers `value` as a secret, in every spelling core's `secretForms` lists. Very short values are ignored. */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_LENGTH) return;
    for (const spelling of secretForms(value)) {
      if (spelling.length >= MIN_LENGTH) this.#values.add(spelling);
    }
  }

  /**
   * Remembers the private key in a key file's text, whole and line by line, so that not even a
   * fragment of it can reach stderr. Text that is not a key file is ignored: the core reports it.
   */
  addKeyMaterial(keyFileText: string): void {
    let privateKey: unknown;
    try {
      // A byte order mark is no JSON; the core strips it too.
      privateKey = (JSON.parse(keyFileText.replace(/^\uFEFF/, '')) as { privateKey?: unknown })
        .privateKey;
    } catch {
      return;
    }
    if (typeof privateKey !== 'string') return;
    this.add(privateKey);
    for (const line of privateKey.replaceAll('\\n', '\n').split(/\s+/)) {
      if (line.length >= 16 && !line.startsWith('-----')) this.add(line);
    }
  }

  /** `text` with every known secret replaced by `[redacted]`, longest first. */
  redact(text: string): string {
    let out = text;
    const longestFirst = [...this.#values].sort((a, b) => b.length - a.length);
    for (const value of longestFirst) out = out.replaceAll(value, REDACTED);
    return out;
  }
}

/**
 * A `fetch` that remembers the credentials a request carries (the form fields `client_secret`
 * and `assertion`) before sending it: whatever a server echoes of them, in any spelling, is
 * then scrubbed from stderr as well, whether or not the core's own redaction caught it.
 */
export function rememberingFetch(
  secrets: Secrets,
  inner: typeof fetch = globalThis.fetch,
): typeof fetch {
  return async (input, init) => {
    const body = init?.body ?? (input instanceof Request ? await input.clone().text() : undefined);
    if (typeof body === 'string' || body instanceof URLSearchParams) {
      const form = new URLSearchParams(body);
      secrets.add(form.get('client_secret') ?? undefined);
      secrets.add(form.get('assertion') ?? undefined);
    }
    return inner(input, init);
  };
}
