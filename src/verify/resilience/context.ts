/** What verify resilience needs of the local stack; every side effect behind a small interface. */
import type { LocalRunState } from '../../local/state.js';
import type { GatewayEndpoint } from '../target.js';
import type { AdminClient } from './admin-client.js';
import type { EgressClient } from './egress-client.js';

export interface ResilienceContext {
  endpoint: GatewayEndpoint;
  /** The run record as the supervisor last wrote it: fresh pids and health. */
  readRun(): Promise<LocalRunState>;
  /** Signals one process (SIGKILL of a replica's app). */
  kill(pid: number, signal: NodeJS.Signals): void;
  admin: AdminClient;
  egress: EgressClient;
}

export interface ResilienceOptions {
  /** Short phases, for `meshgw demo` and `verify --quick`. */
  quick: boolean;
  /** Order load in requests per second; by default 100, held below 90 % of the POST /orders limit. */
  rate?: number;
}
