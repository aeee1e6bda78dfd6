import { ConfigurationError } from './errors.js';

/**
 * Longest delay, in milliseconds, that `setTimeout` and `AbortSignal.timeout` accept
 * (2^31 − 1). Beyond it Node fires at once or throws `RangeError`, so a timeout option must
 * stay at or below it.
 */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * Whether `value` is what a JSON object parses to: an object that is neither `null` nor an array.
 * Every JSON body core reads (token response, metadata, key file) passes this first.
 * @internal
 */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * RFC 6750 §2.1 `b64token`: what may follow `Bearer ` in an `Authorization` header (no space, no
 * CR or LF). Every access token core hands out, minted or read from a cache, matches it.
 * @internal
 */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** What {@link numberOption} accepts. */
export interface NumberOptionRule {
  /** Returned when the value is `undefined`. Without it the option is required. */
  default?: number;
  /** Smallest value accepted. */
  min: number;
  /** Largest value accepted; `Infinity` only if the option really has no limit. */
  max: number;
  /** Accept whole numbers only. Default `false`. */
  integer?: boolean;
}

/**
 * Validates a numeric option: a finite number (unless `max` is `Infinity` and the value is
 * too), within `[min, max]`, whole when `integer` is set. Every package validates its numeric
 * options with this, so `NaN`, `Infinity` or `1500.5` fail where they are given, with the
 * option's name, instead of later with a `RangeError` or a loop that never ends.
 *
 * @param value - The option as the caller passed it.
 * @param name - The option's name as the caller wrote it, e.g. `retry.attempts`.
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` naming the option and the accepted range.
 */
export function numberOption(value: unknown, name: string, rule: NumberOptionRule): number {
  if (value === undefined && rule.default !== undefined) return rule.default;
  const whole = rule.integer === true;
  const valid =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    value >= rule.min &&
    value <= rule.max &&
    (!whole || Number.isInteger(value) || (value === Infinity && rule.max === Infinity));
  if (!valid) {
    const kind = whole ? 'a whole number' : 'a number';
    const got = typeof value === 'number' ? String(value) : typeof value;
    throw new ConfigurationError(
      'ERR_INVALID_OPTIONS',
      `${name} must be ${kind} from ${rule.min} to ${rule.max} (got ${got})`,
    );
  }
  return value;
}

/**
 * Validates a required text option: a string with something other than white space in it.
 * The value itself is never quoted (it may be a secret).
 *
 * @throws {ConfigurationError} `ERR_INVALID_OPTIONS` naming the option.
 */
export function textOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigurationError('ERR_INVALID_OPTIONS', `${name} must be a non-empty string`);
  }
  return value;
}
