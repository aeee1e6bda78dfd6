const REDACTED = '[redacted]';

/**
 * The secrets this run has seen (client secret, tokens, assertions), so that any text leaving
 * on stderr can be scrubbed of them, whatever a server or a library put into a message.
 */
export class Secrets {
  readonly #values = new Set<string>();

  /** Remembers `value` as a secret. Very short values are ignored: scrubbing them would mangle ordinary words. */
  add(value: string | undefined): void {
    if (value !== undefined && value.length >= 4) this.#values.add(value);
  }

  /**
   * Remembers the base64 lines of the private key in a key file's text, so that not even a
   * fragment of it can reach stderr. Text that is not a key file is ignored: the core reports it.
   */
  addKeyMaterial(keyFileText: string): void {
    let privateKey: unknown;
    try {
      privateKey = (JSON.parse(keyFileText) as { privateKey?: unknown }).privateKey;
    } catch {
      return;
    }
    if (typeof privateKey !== 'string') return;
    for (const line of privateKey.replaceAll('\\n', '\n').split(/\s+/)) {
      if (line.length >= 16 && !line.startsWith('-----')) this.add(line);
    }
  }

  /** `text` with every known secret replaced by `[redacted]`. */
  redact(text: string): string {
    let out = text;
    for (const value of this.#values) out = out.replaceAll(value, REDACTED);
    return out;
  }
}
