import { NetworkError } from '@drillster-auth/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CommandTimer } from '../src/timeout.js';

const never = () => new Promise<never>(() => {});

/** Records how each command ended, in the order they ended. */
function tracker() {
  const outcomes: string[] = [];
  const track = (name: string, reply: Promise<unknown>) =>
    reply.then(
      (value) => outcomes.push(`${name}: ${String(value)}`),
      (error: NetworkError) => outcomes.push(`${name}: ${error.code} ${error.message}`),
    );
  return { outcomes, track };
}

describe('CommandTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails each hung command at its own deadline, however many answered around it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const timer = new CommandTimer(100);
    const { outcomes, track } = tracker();
    // The timer is armed for this one's deadline; the hung command sent later has its own.
    track(
      'fast',
      timer.run('GET', async () => 'value'),
    );
    await vi.advanceTimersByTimeAsync(60);
    track('a', timer.run('GET', never));
    await vi.advanceTimersByTimeAsync(30);
    track('b', timer.run('SET', never));
    for (let i = 0; i < 5; i++)
      track(
        `fast ${i}`,
        timer.run('GET', async () => i),
      );
    await vi.advanceTimersByTimeAsync(69); // 159 ms: a was sent 99 ms ago
    expect(outcomes).toEqual([
      'fast: value',
      'fast 0: 0',
      'fast 1: 1',
      'fast 2: 2',
      'fast 3: 3',
      'fast 4: 4',
    ]);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes.slice(6)).toEqual(['a: ERR_TIMEOUT Redis GET took longer than 100 ms']);
    await vi.advanceTimersByTimeAsync(29);
    expect(outcomes).toHaveLength(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes.slice(7)).toEqual(['b: ERR_TIMEOUT Redis SET took longer than 100 ms']);

    // Nothing in flight any more; a command sent now gets a timer of its own.
    await vi.advanceTimersByTimeAsync(500);
    track('c', timer.run('DEL', never));
    await vi.advanceTimersByTimeAsync(99);
    expect(outcomes).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes.slice(8)).toEqual(['c: ERR_TIMEOUT Redis DEL took longer than 100 ms']);
  });

  it('ignores the answer of a command that timed out', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const timer = new CommandTimer(50);
    let answer!: (value: string) => void;
    const reply = timer.run('GET', () => new Promise<string>((resolve) => (answer = resolve)));
    const outcome = reply.catch((error: NetworkError) => error);
    await vi.advanceTimersByTimeAsync(50);
    answer('too late');
    expect(await outcome).toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it('reports a failed command without what the library attached to its error', async () => {
    const timer = new CommandTimer(1_000);
    const failure = Object.assign(new Error('ERR wrong number of arguments'), {
      command: { name: 'set', args: ['key', 'the-token'] },
    });
    const error = await timer.run('SET', () => Promise.reject(failure)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({
      code: 'ERR_NETWORK',
      message: 'Redis SET failed (Error: ERR wrong number of arguments)',
    });
    expect((error as Error).cause).toBeUndefined();
    expect(JSON.stringify(error)).not.toContain('the-token');

    const thrown = await timer
      .run('GET', () => {
        throw new TypeError('not a function');
      })
      .catch((e: unknown) => e);
    expect(thrown).toMatchObject({
      code: 'ERR_NETWORK',
      message: 'Redis GET failed (TypeError: not a function)',
    });
  });

  it('keeps the process alive only while a command waits', async () => {
    // Only timers that keep the process alive are listed.
    const timers = () =>
      process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const idle = timers();
    const timer = new CommandTimer(60_000);
    for (let round = 0; round < 2; round++) {
      let answer!: (value: string) => void;
      const reply = timer.run('GET', () => new Promise<string>((resolve) => (answer = resolve)));
      expect(timers()).toBe(idle + 1);
      answer('value');
      expect(await reply).toBe('value');
      expect(timers()).toBe(idle);
    }
  });
});
