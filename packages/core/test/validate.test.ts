import { describe, expect, it } from 'vitest';
import { ConfigurationError, MAX_TIMER_DELAY, numberOption, textOption } from '../src/index.js';

describe('numberOption', () => {
  const rule = { default: 5, min: 1, max: 10, integer: true };

  it('returns the default for undefined and the value when it fits', () => {
    expect(numberOption(undefined, 'n', rule)).toBe(5);
    expect(numberOption(1, 'n', rule)).toBe(1);
    expect(numberOption(10, 'n', rule)).toBe(10);
  });

  it.each([
    [Number.NaN, 'got NaN'],
    [Infinity, 'got Infinity'],
    [0, 'got 0'],
    [11, 'got 11'],
    [1.5, 'got 1.5'],
    ['3', 'got string'],
    [null, 'got object'],
  ])('refuses %s, naming the option', (value, got) => {
    const error = (() => {
      try {
        numberOption(value, 'retry.attempts', rule);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    expect((error as Error).message).toContain(
      'retry.attempts must be a whole number from 1 to 10',
    );
    expect((error as Error).message).toContain(got);
  });

  it('requires a value when there is no default', () => {
    expect(() => numberOption(undefined, 'n', { min: 0, max: 1 })).toThrow(/n must be a number/);
  });

  it('accepts fractions unless integer is set, and Infinity only when max is Infinity', () => {
    expect(numberOption(0.5, 'ratio', { min: 0, max: 1 })).toBe(0.5);
    expect(numberOption(Infinity, 'pause', { min: 0, max: Infinity, integer: true })).toBe(
      Infinity,
    );
    expect(() =>
      numberOption(MAX_TIMER_DELAY + 1, 'timeout', { min: 1, max: MAX_TIMER_DELAY }),
    ).toThrow(ConfigurationError);
  });
});

describe('textOption', () => {
  it('returns a non-empty string and refuses the rest without quoting it', () => {
    expect(textOption('abc', 'clientId')).toBe('abc');
    for (const value of ['', '   ', null, undefined, 42]) {
      expect(() => textOption(value, 'clientSecret')).toThrow(
        'clientSecret must be a non-empty string',
      );
    }
  });
});
