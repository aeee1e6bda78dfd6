import type { AccessTokens } from './access-token.js';
import type { FaultQueue } from './faults.js';
import type { Registry } from './registry.js';
import type { ReplayCache } from './replay.js';
import type { MockStats } from './types.js';

/** Everything a route needs; owned by one `MockDrillster`. */
export interface ServerState {
  registry: Registry;
  replay: ReplayCache;
  tokens: AccessTokens;
  faults: FaultQueue;
  /** Faults for the metadata route. */
  metadataFaults: FaultQueue;
  /** Faults for the protected resource (`/api/…`). */
  apiFaults: FaultQueue;
  stats: MockStats;
  /** In seconds. */
  tokenLifetime: number;
  clock: () => number;
}

/** The server's now outside the token endpoint: the clock plus any standing clock fault. */
export function serverNow(state: ServerState): number {
  return state.clock() + state.faults.standingOffsetMs;
}
