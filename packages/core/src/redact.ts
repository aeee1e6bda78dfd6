/** What a secret shows as wherever an object is printed. */
export const REDACTED = '[redacted]';

/** Node's `util.inspect` hook: objects holding secrets print their `toString()` instead. */
export const nodeInspect = Symbol.for('nodejs.util.inspect.custom');

/** Deno's `Deno.inspect` hook, likewise. */
export const denoInspect = Symbol.for('Deno.customInspect');
