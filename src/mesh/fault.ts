/**
 * The sidecar's fault switch, meshgw's local stand-in for Istio's HTTPFaultInjection: requests
 * arriving on the inbound listener are delayed and/or answered with an error before they reach the
 * app, each with its own percentage. Set through the admin endpoint (POST/DELETE/GET /fault) by
 * `verify resilience`; counted as Envoy's fault filter counts (http.inbound.fault.*).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

export const faultSchema = z.strictObject({
  delayMs: z.number().int('expected a whole number of milliseconds').min(0).max(600_000).default(0),
  delayPercent: z.number().min(0, 'expected a percentage from 0 to 100').max(100, 'expected a percentage from 0 to 100').default(0),
  abortStatus: z.number().int().min(200, 'expected an HTTP status from 200 to 599').max(599, 'expected an HTTP status from 200 to 599').default(503),
  abortPercent: z.number().min(0, 'expected a percentage from 0 to 100').max(100, 'expected a percentage from 0 to 100').default(0),
});

export type Fault = z.infer<typeof faultSchema>;

/** What the switch decided for one request. */
export interface FaultVerdict {
  delayMs: number;
  /** The status to answer with instead of calling the app; 0 to call it. */
  abortStatus: number;
}

const NONE: FaultVerdict = { delayMs: 0, abortStatus: 0 };

export class FaultSwitch {
  #fault: Fault | undefined;

  constructor(private readonly random: () => number = Math.random) {}

  get current(): Fault | undefined {
    return this.#fault;
  }

  set(fault: Fault): void {
    this.#fault = fault.delayPercent > 0 || fault.abortPercent > 0 ? fault : undefined;
  }

  clear(): void {
    this.#fault = undefined;
  }

  /** Draws this request's fault (the same object for every request when none applies). */
  decide(): FaultVerdict {
    const f = this.#fault;
    if (!f) return NONE;
    const delayMs = f.delayMs > 0 && this.random() * 100 < f.delayPercent ? f.delayMs : 0;
    const abortStatus = this.random() * 100 < f.abortPercent ? f.abortStatus : 0;
    return delayMs === 0 && abortStatus === 0 ? NONE : { delayMs, abortStatus };
  }
}

/** Waits out an injected delay. */
export function injectDelay(ms: number): Promise<void> {
  return sleep(ms);
}
