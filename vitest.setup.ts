import { vi } from 'vitest';

/**
 * How long `vi.waitFor` waits when a test does not say. Vitest's default is 1 s, which a loopback
 * round trip to the mock or Redis can outlast on a 2-core machine kept busy (seen: a background
 * refresh still open after 1 s while mutation testing ran). A test waits for what it asserts, so
 * a longer wait costs time only when the test is going to fail anyway.
 */
const WAIT_FOR_TIMEOUT = 15_000;

const waitFor = vi.waitFor;
vi.waitFor = ((callback, options) =>
  waitFor(
    callback,
    typeof options === 'number' ? options : { timeout: WAIT_FOR_TIMEOUT, ...options },
  )) as typeof vi.waitFor;
