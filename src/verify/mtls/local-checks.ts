import type { Check } from '../checks.js';
import { DEFAULT_CERT_WARN_DAYS, type CertExpiryPolicy } from '../policy-options.js';
import { localAlertChecks, type LocalAlertOptions } from './local-alert-check.js';
import { localConfigurationCheck } from './local-config-check.js';
import type { LocalMtlsContext } from './local-context.js';
import { localExpiryCheck } from './local-expiry-check.js';
import { localFlowCheck } from './local-flow-check.js';
import { localListenerCheck } from './local-listener-check.js';
import { localMatrixCheck } from './local-matrix-check.js';
import { localRefusalChecks } from './local-refusal-checks.js';

export interface LocalMtlsOptions {
  /** The clock certificates are judged and forged against. */
  now?: () => Date;
  /** When a certificate close to expiry warns (default: the CA within 60 days). */
  certExpiry?: CertExpiryPolicy;
  /** Timing of the alert check (tests). */
  alerts?: LocalAlertOptions;
}

/** `verify mtls` on the local target: configuration, expiry, no way around the mesh, the legitimate flow, each refusal and the alert it trips, then the whole matrix. */
export function localMtlsChecks(opts: LocalMtlsOptions = {}): Check<LocalMtlsContext>[] {
  const now = opts.now ?? (() => new Date());
  const certExpiry = opts.certExpiry ?? { warnDays: DEFAULT_CERT_WARN_DAYS };
  // The alert's window opens before the first refusal and is judged right after the last one.
  const alert = localAlertChecks(opts.alerts);
  return [localConfigurationCheck(now), localExpiryCheck(certExpiry, now), localListenerCheck(), localFlowCheck(), alert.baseline, ...localRefusalChecks(now), alert.verdict, localMatrixCheck(now)];
}
