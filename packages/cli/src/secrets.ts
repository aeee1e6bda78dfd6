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

  /** `text` with every known secret replaced by `[redacted]`. */
  redact(text: string): string {
    let out = text;
    for (const value of this.#values) out = out.replaceAll(value, REDACTED);
    return out;
  }
}
