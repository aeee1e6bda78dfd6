import { describe, expect, it } from 'vitest';
import type { CachedToken } from '../src/index.js';
import { TokenEndpointError } from '../src/index.js';
import {
  backOff,
  emptySlot,
  evict,
  fillSlot,
  lasts,
  type Slot,
  type SlotTiming,
} from '../src/token-slots.js';

// Slot timing is clock arithmetic: no HTTP, no timers, `now` is a number.
const timing: SlotTiming = { windowMs: 300_000, windowRatio: 0.1, marginMs: 30_000 };
const T0 = 1_700_000_000_000;

function token(lifetimeMs: number, subject = 'sa'): CachedToken {
  return { accessToken: 'tok', issuedAt: T0, expiresAt: T0 + lifetimeMs, subject };
}

describe('fillSlot', () => {
  it('an hour-long token refreshes in its last 10 % (6 min > 5 min window: 5 min) and goes stale 30 s before expiry', () => {
    const slot = emptySlot();
    const filled = fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(slot.refreshAt).toBe(T0 + 3_600_000 - 300_000);
    expect(slot.staleAt).toBe(T0 + 3_600_000 - 30_000);
    expect(slot.lifetime).toBe(3_600_000);
    expect(filled).toMatchObject({ lifetime: 3_600_000, minted: true, minValidity: 0 });
    expect(slot.token).toBe(filled.token);
  });

  it('a 10-minute token refreshes in its last tenth (60 s), shorter than the window', () => {
    const slot = emptySlot();
    fillSlot(slot, timing, token(600_000), false, 0);
    expect(slot.refreshAt).toBe(T0 + 540_000);
  });

  it('a 40 s token: the margin is half its life (20 s), and refresh never comes after stale', () => {
    const slot = emptySlot();
    fillSlot(slot, { ...timing, windowRatio: 0 }, token(40_000), true, 0);
    expect(slot.staleAt).toBe(T0 + 20_000);
    expect(slot.refreshAt).toBe(T0 + 20_000);
  });

  it('clears the count of failed background refreshes', () => {
    const slot = { ...emptySlot(), failures: 4 };
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(slot.failures).toBe(0);
  });
});

function refusal(retryAfter?: number): TokenEndpointError {
  return new TokenEndpointError('refused', { status: 503, retryAfter, response: new Response() });
}

describe('backOff', () => {
  it('pushes refreshAt back by at least 1 ms and at most the doubled base, and counts the failure', () => {
    const slot = emptySlot();
    fillSlot(slot, timing, token(3_600_000), true, 0);
    const now = slot.refreshAt;
    const error = refusal();
    const retryAt = backOff(slot, error, now);
    expect(slot.failures).toBe(1);
    expect(retryAt).toBe(slot.refreshAt);
    expect(slot.refreshAt).toBeGreaterThanOrEqual(now + 1);
    expect(slot.refreshAt).toBeLessThanOrEqual(now + 1 + 1000);
  });

  it("uses the server's Retry-After (seconds) when it sent one", () => {
    const slot = emptySlot();
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(backOff(slot, refusal(7), T0)).toBe(T0 + 7000);
  });

  it('undefined when the next attempt would come after the token goes stale', () => {
    const slot = emptySlot();
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(backOff(slot, refusal(), slot.staleAt)).toBeUndefined();
    expect(slot.refreshAt).toBeGreaterThan(slot.staleAt);
  });
});

describe('evict (CLOCK sweep)', () => {
  function slots(entries: Array<[string, Partial<Slot>]>): Map<string, Slot> {
    return new Map(entries.map(([name, s]) => [name, { ...emptySlot(), ...s }]));
  }
  const live = { token: {} as Slot['token'], staleAt: T0 + 1000 };

  it('drops the oldest unused slot, gives a used one a second chance (moved back, mark cleared)', () => {
    const map = slots([
      ['a', { ...live, used: true }],
      ['b', { ...live }],
      ['c', { ...live }],
    ]);
    evict(map, 2, T0);
    expect([...map.keys()]).toEqual(['c', 'a']);
    expect(map.get('a')?.used).toBe(false);
  });

  it('drops a used slot whose token went stale', () => {
    const map = slots([
      ['a', { ...live, used: true, staleAt: T0 }],
      ['b', { ...live, used: true }],
    ]);
    evict(map, 1, T0);
    expect([...map.keys()]).toEqual(['b']);
  });

  it('never drops a slot in flight, and gives up after two rounds when all are', () => {
    const inflight = Promise.resolve() as unknown as Slot['inflight'];
    const map = slots([
      ['a', { inflight }],
      ['b', { inflight }],
    ]);
    evict(map, 1, T0);
    expect(map.size).toBe(2);
  });
});

describe('lasts', () => {
  it('compares seconds left with minValidity, and refuses an invalid one', () => {
    const slot = emptySlot();
    const { token: t } = fillSlot(slot, timing, token(600_000), true, 0);
    expect(lasts(t, 600, T0)).toBe(true);
    expect(lasts(t, 600.001, T0)).toBe(false);
    expect(lasts(t, Number.NaN, T0)).toBe(false);
    expect(lasts(t, -1, T0)).toBe(false);
  });
});
