// Pins the edges of the CLOCK sweep and of `lasts` that the behaviour tests pass over: a used
// slot whose token was invalidated or is stale to the millisecond gets no second chance, and
// minValidity may be 0 and exactly the longest lifetime believed. Found by mutation testing
// (`pnpm mutation`). Clock arithmetic only: no HTTP, no timers.
import { describe, expect, it } from 'vitest';
import { AccessToken } from '../src/access-token.js';
import { emptySlot, evict, lasts, MAX_LIFETIME_SECONDS, type Slot } from '../src/token-slots.js';

const T0 = 1_700_000_000_000;
const live = { token: new AccessToken('tok', T0 + 60_000, 'sa'), staleAt: T0 + 1000 };

function slots(entries: Array<[string, Partial<Slot>]>): Map<string, Slot> {
  return new Map(entries.map(([name, s]) => [name, { ...emptySlot(), ...s }]));
}

describe('evict gives no second chance to a used slot', () => {
  it('whose token is gone (invalidated): it goes before an unused one', () => {
    const map = slots([
      ['a', { ...live, used: true, token: undefined }],
      ['b', { ...live }],
    ]);
    evict(map, 1, T0);
    expect([...map.keys()]).toEqual(['b']);
  });

  it('whose token went stale this very millisecond: it goes before an unused one', () => {
    const map = slots([
      ['a', { ...live, used: true, staleAt: T0 }],
      ['b', { ...live }],
    ]);
    evict(map, 1, T0);
    expect([...map.keys()]).toEqual(['b']);
  });
});

describe('lasts', () => {
  const day = MAX_LIFETIME_SECONDS * 1000;
  const longLived = new AccessToken('tok', T0 + 2 * day, 'sa');

  it('takes a minValidity of 0', () => {
    expect(lasts(new AccessToken('tok', T0, 'sa'), 0, T0)).toBe(true);
  });

  it('takes exactly the longest lifetime believed, and refuses a second more', () => {
    expect(lasts(longLived, MAX_LIFETIME_SECONDS, T0)).toBe(true);
    expect(lasts(longLived, MAX_LIFETIME_SECONDS + 1, T0)).toBe(false);
  });
});
