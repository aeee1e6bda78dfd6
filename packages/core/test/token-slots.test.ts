import { describe, expect, it } from 'vitest';
import type { CachedToken } from '../src/index.js';
import { TokenEndpointError } from '../src/index.js';
import {
  backOff,
  emptySlot,
  evict,
  fillSlot,
  lasts,
  refreshMoment,
  type Slot,
  type SlotTiming,
} from '../src/token-slots.js';

// Slot timing is clock arithmetic: no HTTP, no timers, `now` is a number.
// The defaults: refresh from 40–50 % of the life, no deprecated window, a 30 s margin.
const timing: SlotTiming = {
  fromRatio: 0.4,
  spreadRatio: 0.1,
  windowMs: Number.POSITIVE_INFINITY,
  windowRatio: 1,
  marginMs: 30_000,
};
const T0 = 1_700_000_000_000;

function token(lifetimeMs: number, subject = 'sa'): CachedToken {
  return { accessToken: 'tok', issuedAt: T0, expiresAt: T0 + lifetimeMs, subject };
}

/** A slot placed at `spreadPoint` in the spread (an injected random). */
const slotAt = (spreadPoint: number) => emptySlot(() => spreadPoint);

describe('fillSlot', () => {
  it('an hour-long token refreshes from 40 % of its life at the start of the spread, 50 % at its end, and goes stale 30 s before expiry', () => {
    const slot = slotAt(0);
    const filled = fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(slot.refreshAt).toBe(T0 + 1_440_000);
    expect(slot.staleAt).toBe(T0 + 3_600_000 - 30_000);
    expect(slot.lifetime).toBe(3_600_000);
    expect(filled).toMatchObject({ lifetime: 3_600_000, minted: true, minValidity: 0 });
    expect(slot.token).toBe(filled.token);
    const late = slotAt(1 - 2 ** -20);
    fillSlot(late, timing, token(3_600_000), true, 0);
    expect(late.refreshAt).toBeGreaterThan(T0 + 1_799_000);
    expect(late.refreshAt).toBeLessThan(T0 + 1_800_000);
  });

  it('keeps its place in the spread from one token to the next, and scales it with each token’s life', () => {
    const slot = slotAt(0.5);
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(slot.refreshAt).toBe(T0 + 1_620_000); // 45 %
    fillSlot(slot, timing, token(600_000), true, 0);
    expect(slot.refreshAt).toBe(T0 + 270_000);
  });

  it('spreads slots drawn with different randoms over the whole window', () => {
    const moments = [0, 0.25, 0.5, 0.75].map((u) => {
      const slot = slotAt(u);
      fillSlot(slot, timing, token(1_000_000), true, 0);
      return slot.refreshAt - T0;
    });
    expect(moments).toEqual([400_000, 425_000, 450_000, 475_000]);
  });

  it('draws the spread point once, when the slot is made', () => {
    let draws = 0;
    const slot = emptySlot(() => {
      draws += 1;
      return 0.3;
    });
    fillSlot(slot, timing, token(3_600_000), true, 0);
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(draws).toBe(1);
    expect(slot.spreadPoint).toBe(0.3);
  });

  it('honours the deprecated window as a bound: windowSeconds 300 and windowRatio 0.1 give the old policy', () => {
    const old = { ...timing, windowMs: 300_000, windowRatio: 0.1 };
    const hour = slotAt(0);
    fillSlot(hour, old, token(3_600_000), true, 0);
    expect(hour.refreshAt).toBe(T0 + 3_300_000); // 5 min < 10 %
    const tenMinutes = slotAt(0);
    fillSlot(tenMinutes, old, token(600_000), true, 0);
    expect(tenMinutes.refreshAt).toBe(T0 + 540_000); // 10 % < 5 min
    const off = slotAt(0);
    fillSlot(off, { ...timing, windowMs: 0 }, token(600_000), true, 0);
    expect(off.refreshAt).toBe(off.staleAt); // windowSeconds 0: no background refresh
  });

  it('a 40 s token: the margin is half its life (20 s), and refresh never comes after stale', () => {
    const slot = slotAt(0);
    fillSlot(slot, { ...timing, fromRatio: 0.9 }, token(40_000), true, 0);
    expect(slot.staleAt).toBe(T0 + 20_000);
    expect(slot.refreshAt).toBe(T0 + 20_000);
  });

  it('clears the count of failed background refreshes', () => {
    const slot = { ...slotAt(0), failures: 4 };
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(slot.failures).toBe(0);
  });
});

describe('refreshMoment', () => {
  it('is fromRatio + spreadRatio × the spread point of the life, after the issue time', () => {
    const t = { ...token(10_000), issuedAt: T0 + 5000, expiresAt: T0 + 15_000 };
    expect(refreshMoment({ ...timing, fromRatio: 0.5, spreadRatio: 0.2 }, t, 0.5)).toBe(
      T0 + 5000 + 6000,
    );
  });
});

function refusal(retryAfter?: number): TokenEndpointError {
  return new TokenEndpointError('refused', { status: 503, retryAfter, response: new Response() });
}

describe('backOff', () => {
  const max = (() => 1 - 2 ** -30) as () => number;

  it('pushes refreshAt back by at least 1 ms and at most 1/1000 of the life, and counts the failure', () => {
    const slot = slotAt(0);
    fillSlot(slot, timing, token(3_600_000), true, 0);
    const now = slot.refreshAt;
    const retryAt = backOff(slot, refusal(), now, max);
    expect(slot.failures).toBe(1);
    expect(retryAt).toBe(slot.refreshAt);
    expect(retryAt).toBe(now + 1 + 3599); // floor(random × 3600 ms)
    expect(backOff(slotAfterFailures(0), refusal(), now, () => 0)).toBe(now + 1);
  });

  function slotAfterFailures(failures: number, lifetime = 3_600_000): Slot {
    const slot = slotAt(0);
    fillSlot(slot, timing, token(lifetime), true, 0);
    slot.failures = failures;
    return slot;
  }

  it('doubles per failure up to 1/40 of the life: 3.6 s … 90 s for an hour, 4 ms … 100 ms for 4 s', () => {
    const waits = (lifetime: number) =>
      [0, 1, 2, 3, 4, 5, 6, 20].map((failures) => {
        const slot = slotAfterFailures(failures, lifetime);
        return (backOff(slot, refusal(), T0, max) as number) - T0 - 1;
      });
    expect(waits(3_600_000)).toEqual([3599, 7199, 14_399, 28_799, 57_599, 89_999, 89_999, 89_999]);
    expect(waits(4000)).toEqual([3, 7, 15, 31, 63, 99, 99, 99]);
  });

  it("uses the server's Retry-After (seconds) when it sent one", () => {
    const slot = slotAt(0);
    fillSlot(slot, timing, token(3_600_000), true, 0);
    expect(backOff(slot, refusal(7), T0)).toBe(T0 + 7000);
  });

  it('keeps trying while the token is served: undefined only when the next attempt would come after it goes stale', () => {
    const slot = slotAfterFailures(100);
    expect(backOff(slot, refusal(), slot.staleAt - 90_001, max)).toBe(slot.staleAt - 1);
    expect(backOff(slot, refusal(), slot.staleAt, () => 0)).toBeUndefined();
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

  it('drops a slot whose request in flight is older than abandonAfter', () => {
    const inflight = Promise.resolve() as unknown as Slot['inflight'];
    const map = slots([
      ['abandoned', { inflight, inflightSince: Date.now() - 2000 }],
      ['recent', { inflight, inflightSince: Date.now() - 500 }],
      ['idle', { ...live, used: true }],
    ]);
    evict(map, 1, T0, 1000);
    expect([...map.keys()]).toEqual(['recent']);
  });
});

describe('lasts', () => {
  it('compares seconds left with minValidity, and refuses an invalid one', () => {
    const slot = slotAt(0);
    const { token: t } = fillSlot(slot, timing, token(600_000), true, 0);
    expect(lasts(t, 600, T0)).toBe(true);
    expect(lasts(t, 600.001, T0)).toBe(false);
    expect(lasts(t, Number.NaN, T0)).toBe(false);
    expect(lasts(t, -1, T0)).toBe(false);
  });
});

/**
 * The client's refresh loop as clock arithmetic: a caller every `h` ms; a call after the stale
 * time mints at once (and fails while the endpoint is down), a call after the refresh time
 * starts a background attempt (backed off while down). Requests take no time. Returns the
 * failed calls.
 */
function failedCalls(
  lifetime: number,
  outage: { from: number; to: number },
  h: number,
  random: () => number,
): number {
  const down = (t: number) => t >= outage.from && t < outage.to;
  const issue = (slot: Slot, at: number) =>
    fillSlot(slot, timing, { ...token(lifetime), issuedAt: at, expiresAt: at + lifetime }, true, 0);
  const slot = emptySlot(random);
  issue(slot, T0);
  let failed = 0;
  for (let t = T0 + h; t < outage.to + lifetime; t += h) {
    if (t >= slot.staleAt) {
      if (down(t)) failed += 1;
      else issue(slot, t);
    } else if (t >= slot.refreshAt) {
      if (down(t)) backOff(slot, refusal(), t, random);
      else issue(slot, t);
    }
  }
  return failed;
}

describe('the outage guarantee (README: D ≤ 0.475 × lifetime − 30 s − h)', () => {
  const worst = () => 1 - 2 ** -30; // the latest refresh moment, the longest backoff waits
  // Lifetime and time between calls: 10 minutes (the shortest the README promises 40 % for)
  // with its 15 s, an hour with 10 s and 4 minutes, a day with a minute.
  const cases = [
    [600_000, 15_000],
    [3_600_000, 10_000],
    [3_600_000, 240_000],
    [86_400_000, 60_000],
  ];
  const lifetimes = [600_000, 3_600_000, 86_400_000];

  it('holds for an outage starting at any moment (a grid of 80 starts over two lifetimes)', () => {
    for (const [lifetime = 0, h = 0] of cases) {
      const longest = 0.475 * lifetime - 30_000 - h;
      expect(longest).toBeGreaterThanOrEqual(0.4 * lifetime); // 40 %, with these calls
      for (let i = 0; i < 80; i++) {
        const from = T0 + (i / 40) * lifetime;
        for (const random of [worst, () => 0, Math.random]) {
          expect(failedCalls(lifetime, { from, to: from + longest }, h, random)).toBe(0);
        }
      }
    }
  }, 60_000);

  it('fails calls when the outage outlasts the token in hand (from the latest refresh moment past its stale time)', () => {
    for (const lifetime of lifetimes) {
      const from = T0 + 0.5 * lifetime - 1;
      const to = T0 + lifetime - 30_000 + 1000;
      expect(failedCalls(lifetime, { from, to }, 1000, worst)).toBeGreaterThan(0);
    }
  });
});
