import type { Clock } from '../../src/gateway/clock.js';

/** A clock that moves only when told: monotonic ms and wall-clock ms advance together. */
export class FakeClock implements Clock {
  private mono = 1_000;
  constructor(private epoch = Date.UTC(2026, 0, 15, 12, 0, 0)) {}
  nowMs(): number {
    return this.mono;
  }
  epochMs(): number {
    return this.epoch;
  }
  advance(ms: number): void {
    this.mono += ms;
    this.epoch += ms;
  }
  setEpoch(epochMs: number): void {
    this.epoch = epochMs;
  }
}
