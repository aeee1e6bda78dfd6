/**
 * Whether `value` is what a JSON object parses to: an object that is neither `null` nor an array.
 * Core's guard of the same name is internal to it, so the CLI keeps this one for its own reads
 * (key files, a `DRILLSTER_KEY_FILE` array, the doctor's answers).
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON object `text` holds, or `undefined` when it is no JSON or another JSON value. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
