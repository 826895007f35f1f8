// Shared by the throttle tests: spikes through the limiter, and the model's count for them.
import type { GatewayConfig, ThrottleConfig } from '../../src/config/schema.js';
import type { GatewayThrottle } from '../../src/gateway/throttle.js';
import { throttleLevelsFor, type ThrottledRequest } from '../../src/gateway/throttle-levels.js';
import { predictAdmissions } from '../../src/gateway/token-bucket-model.js';
import type { FakeClock } from './fake-clock.js';

/** Sends `count` requests at the clock's current instant; returns how many were admitted. */
export function spike(throttle: GatewayThrottle, clock: FakeClock, count: number, req: ThrottledRequest): number {
  let admitted = 0;
  for (let i = 0; i < count; i++) if (throttle.admit(req.method, req.path, req.keyId, clock.nowMs(), clock.epochMs()) === 'admitted') admitted++;
  return admitted;
}

/** What the verify model predicts for the same spikes: [time, count, request] in order. */
export function modelled(gateway: GatewayConfig, spikes: Array<[number, number, ThrottledRequest]>, account?: ThrottleConfig): number {
  const arrivals = spikes.flatMap(([tMs, count, req]) => Array.from({ length: count }, () => ({ tMs, levels: throttleLevelsFor(gateway, req, { account }) })));
  return predictAdmissions(arrivals).admittedCount;
}

export const GET_ORDERS = { method: 'GET', path: '/orders' };
export const GET_PRODUCTS = { method: 'GET', path: '/products/p-1' };
export const POST_ORDERS = { method: 'POST', path: '/orders' };
