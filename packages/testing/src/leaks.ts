import { inspect } from 'node:util';

/**
 * The leak scan: tests hand it every error, event and output line they produce, with the
 * secrets of the run, and it says which secret showed up in which encoding. A secret can leave
 * a process in many spellings (a server echoes it JSON-escaped, a URL carries it encoded, a
 * header base64), so each is searched for, not just the raw text.
 */

/** Fragments of a PEM body shorter than this are not searched for: they could occur by chance. */
const MIN_PEM_FRAGMENT = 32;

/** Each spelling of `secret` that we search for, with the name reported when it is found. */
export function secretForms(secret: string): string[] {
  return [...namedForms(secret).values()];
}

function namedForms(secret: string): Map<string, string> {
  const bytes = new TextEncoder().encode(secret);
  const base64 = btoa(String.fromCharCode(...bytes));
  const forms = new Map<string, string>([
    ['raw', secret],
    ['JSON-escaped', JSON.stringify(secret).slice(1, -1)],
    ['JSON-escaped with \\/', JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/')],
    ['\\u-escaped', unicodeEscaped(secret)],
    ['url-encoded', encodeURIComponent(secret)],
    ['form-encoded', new URLSearchParams({ x: secret }).toString().slice(2)],
    ['base64', base64],
    ['base64url', base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')],
  ]);
  // A private key leaks when any line of its body does, whole or not.
  const body = pemBody(secret);
  if (body !== undefined) {
    for (const [index, line] of body.entries()) {
      if (line.length >= MIN_PEM_FRAGMENT) forms.set(`PEM body line ${index + 1}`, line);
    }
    const joined = body.join('');
    if (joined.length >= MIN_PEM_FRAGMENT) forms.set('PEM body without line breaks', joined);
  }
  for (const [name, form] of forms) if (form === '') forms.delete(name);
  return forms;
}

/** Every character but letters and digits as `\uXXXX`, as a hostile JSON encoder may write it. */
function unicodeEscaped(secret: string): string {
  return secret.replace(
    /[^A-Za-z0-9]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function pemBody(secret: string): string[] | undefined {
  if (!secret.includes('-----BEGIN')) return undefined;
  return secret
    .split(/\r?\n|\\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('-----'));
}

/**
 * Every text form of `value` a log line could show: `util.inspect` with hidden properties,
 * getters and unlimited depth (the whole `cause` chain included), `JSON.stringify` and `String`.
 */
function renderings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  const texts = [inspect(value, { showHidden: true, getters: true, depth: Infinity })];
  try {
    texts.push(JSON.stringify(value) ?? '');
  } catch {
    // A cycle or a throwing toJSON: inspect above still covers the value.
  }
  try {
    texts.push(String(value));
  } catch {
    // An object without a usable toString.
  }
  return texts;
}

/**
 * Searches `value` for each secret in every form {@link secretForms} lists.
 *
 * @param value - An error, event, response, output text… Non-strings are rendered with
 *   `util.inspect` (hidden properties, getters, unlimited depth), `JSON.stringify` and `String`.
 * @param secrets - The secrets by name; `undefined` entries are skipped.
 * @returns One entry per leak, naming the secret and the form, e.g. `clientSecret (url-encoded)`,
 *   never the secret itself. Empty when nothing leaked.
 */
export function findLeaks(value: unknown, secrets: Record<string, string | undefined>): string[] {
  const texts = renderings(value);
  const leaks: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    if (secret === undefined || secret === '') continue;
    for (const [form, spelling] of namedForms(secret)) {
      if (texts.some((text) => text.includes(spelling))) leaks.push(`${name} (${form})`);
    }
  }
  return leaks;
}

/**
 * Throws when {@link findLeaks} finds any secret in `value`. The thrown message names what leaked
 * and where it was looked for, never the secret.
 *
 * @param label - What `value` is, for the message, e.g. `token_failed event`.
 */
export function expectNoLeaks(
  value: unknown,
  secrets: Record<string, string | undefined>,
  label = 'value',
): void {
  const leaks = findLeaks(value, secrets);
  if (leaks.length > 0) {
    throw new Error(`Secrets leaked into ${label}: ${leaks.join(', ')}`);
  }
}
