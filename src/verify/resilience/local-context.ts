/** The resilience context of a local stack: its run record, real signals, the sidecars' admin endpoints. */
import { MeshgwError } from '../../errors.js';
import { readRunState } from '../../local/state.js';
import type { GatewayEndpoint } from '../target.js';
import { httpAdminClient } from './admin-client.js';
import type { ResilienceContext } from './context.js';
import { unixEgressClient } from './egress-client.js';

export function localResilienceContext(stateDir: string, endpoint: GatewayEndpoint): ResilienceContext {
  return {
    endpoint,
    async readRun() {
      const run = await readRunState(stateDir);
      if (!run) throw new MeshgwError('STATE_MISSING', 'the local stack stopped during the check', 'Start it again with `meshgw up`.');
      return run;
    },
    kill: (pid, signal) => void process.kill(pid, signal),
    admin: httpAdminClient(),
    egress: unixEgressClient(),
  };
}
