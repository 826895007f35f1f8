/** Wall-clock milliseconds since the epoch; injected so tests can move time (token expiry, timestamps). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
