import { base64url as base64urlOf } from './base64.js';

/** What a secret shows as wherever it is withheld: printed objects, redacted messages and headers, the CLI's stderr. */
export const REDACTED = '[redacted]';

/** Node's `util.inspect` hook: objects holding secrets print their `toString()` instead. */
export const nodeInspect = Symbol.for('nodejs.util.inspect.custom');

/** Deno's `Deno.inspect` hook, likewise. */
export const denoInspect = Symbol.for('Deno.customInspect');

/**
 * The spellings of `secret` a server may echo it in: raw, JSON-escaped (also with `\/`, and with
 * every other character as `\uXXXX`, lower or upper case hex), URL- and form-encoded (either hex
 * case), base64 and base64url; longest first, none twice, none for `''`. The CLI scrubs its
 * stderr of these.
 */
export function secretForms(secret: string): string[] {
  if (secret === '') return [];
  const json = JSON.stringify(secret).slice(1, -1);
  const escaped = secret.replace(/[^A-Za-z0-9]/g, (c) => `\\u${hex4(c)}`);
  const url = encodeURIComponent(secret);
  const form = new URLSearchParams({ x: secret }).toString().slice(2);
  const base64url = base64urlOf(secret);
  const base64 = base64url.replaceAll('-', '+').replaceAll('_', '/');
  const forms = [
    secret,
    json,
    json.replaceAll('/', '\\/'),
    escaped,
    escaped.replace(/\\u([0-9a-f]{4})/g, (_, code: string) => `\\u${code.toUpperCase()}`),
    url,
    url.replace(/%[0-9A-F]{2}/g, (code) => code.toLowerCase()),
    form,
    form.replace(/%[0-9A-F]{2}/g, (code) => code.toLowerCase()),
    // Padded to whole groups of four, as `btoa` gives it.
    base64 + '='.repeat(-base64.length & 3),
    base64,
    base64url,
  ];
  // Longest first, so a form that contains another is replaced whole.
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every spelling of each secret replaced by `[redacted]`. When a secret still shows
 * after decoding what is left (a spelling not listed, such as a mix of escapes), the whole text
 * is withheld: the reader loses a message, never a secret.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const present = secrets.filter((secret) => secret !== '');
  for (const secret of present) {
    for (const form of secretForms(secret)) out = out.replaceAll(form, REDACTED);
  }
  const decoded = decodings(out);
  if (present.some((secret) => decoded.some((text) => text.includes(secret)))) {
    return `${REDACTED} (it quoted the request's credentials)`;
  }
  return out;
}

/** `text` read back through the decodings a server may have applied, one layer deep and two. */
function decodings(text: string): string[] {
  const layer = (t: string) => [
    percentDecoded(t, true),
    percentDecoded(t, false),
    jsonUnescaped(t),
  ];
  const once = [text, ...layer(text)];
  return [...once, ...once.flatMap(layer)];
}

/** Percent-decoded; `plus` as form encoding has it (a space), else as a literal `+`. */
function percentDecoded(text: string, plus: boolean): string {
  try {
    return decodeURIComponent(plus ? text.replaceAll('+', ' ') : text);
  } catch {
    return (plus ? text.replaceAll('+', ' ') : text).replace(
      /%([0-9A-Fa-f]{2})/g,
      (_, code: string) => String.fromCharCode(Number.parseInt(code, 16)),
    );
  }
}

function jsonUnescaped(text: string): string {
  return text.replace(
    /\\(?:u([0-9A-Fa-f]{4})|(["\\/bfnrt]))/g,
    (_, code?: string, char?: string) => {
      if (code !== undefined) return String.fromCharCode(Number.parseInt(code, 16));
      return JSON.parse(`"\\${char}"`) as string;
    },
  );
}

function hex4(char: string): string {
  return char.charCodeAt(0).toString(16).padStart(4, '0');
}
