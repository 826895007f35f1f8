import type { GatewayOverhead } from './gateway-overhead.js';
import type { LimiterExactness, ThrottleCost } from './limiter.js';
import type { Machine } from './machine.js';
import type { MeshOverhead } from './mesh-overhead.js';
import type { OrderFlow } from './order-flow.js';
import type { SidecarPair } from './sidecar-pair.js';
import type { Startup } from './startup.js';

export type Section = 'gateway' | 'mesh' | 'sidecars' | 'orders' | 'limiter' | 'startup';
export const SECTIONS: readonly Section[] = ['gateway', 'mesh', 'sidecars', 'orders', 'limiter', 'startup'];

export interface BenchResults {
  startedAt: string;
  machine: Machine;
  settings: Record<string, unknown>;
  gateway?: GatewayOverhead;
  mesh?: MeshOverhead;
  sidecarPair?: SidecarPair;
  orderFlow?: OrderFlow;
  limiter?: LimiterExactness;
  throttleCost?: ThrottleCost;
  startup?: Startup;
  failures: { section: Section; error: string }[];
  totalSeconds: number;
}
