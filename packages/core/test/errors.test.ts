import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type AnyDrillsterAuthError,
  ConfigurationError,
  DrillsterAuthError,
  type DrillsterAuthErrorCode,
  TokenEndpointError,
} from '../src/index.js';

describe('AnyDrillsterAuthError', () => {
  it('has a member for every code, and no code that is not one (checked by typecheck)', () => {
    expectTypeOf<AnyDrillsterAuthError['code']>().toEqualTypeOf<DrillsterAuthErrorCode>();
  });

  it('narrows on code to the class with its fields', () => {
    const errors: unknown[] = [
      new TokenEndpointError('refused', {
        status: 400,
        error: 'invalid_grant',
        response: new Response(),
      }),
      new ConfigurationError('ERR_INVALID_OPTIONS', 'bad'),
      new DrillsterAuthError('ERR_UNEXPECTED', 'bug'),
    ];
    const seen = errors.map((caught) => {
      if (!(caught instanceof DrillsterAuthError)) return 'not ours';
      const error = caught as AnyDrillsterAuthError;
      switch (error.code) {
        case 'ERR_TOKEN_ENDPOINT':
          return `${error.code} ${error.status} ${error.error}`;
        case 'ERR_INVALID_OPTIONS':
        case 'ERR_INSECURE_ENDPOINT':
          expectTypeOf(error).toEqualTypeOf<ConfigurationError>();
          return error.code;
        default:
          return error.code;
      }
    });
    expect(seen).toEqual([
      'ERR_TOKEN_ENDPOINT 400 invalid_grant',
      'ERR_INVALID_OPTIONS',
      'ERR_UNEXPECTED',
    ]);
  });
});
