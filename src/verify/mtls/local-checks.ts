import type { Check } from '../checks.js';
import { localConfigurationCheck } from './local-config-check.js';
import type { LocalMtlsContext } from './local-context.js';
import { localFlowCheck } from './local-flow-check.js';
import { localListenerCheck } from './local-listener-check.js';
import { localRefusalChecks } from './local-refusal-checks.js';

export interface LocalMtlsOptions {
  /** The clock certificates are judged and forged against. */
  now?: () => Date;
}

/** `verify mtls` on the local target: configuration, no way around the mesh, the legitimate flow, then each refusal. */
export function localMtlsChecks(opts: LocalMtlsOptions = {}): Check<LocalMtlsContext>[] {
  const now = opts.now ?? (() => new Date());
  return [localConfigurationCheck(now), localListenerCheck(), localFlowCheck(), ...localRefusalChecks(now)];
}
