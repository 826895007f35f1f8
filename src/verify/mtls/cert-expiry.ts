/**
 * The certificate expiry policy, shared by the local and aws checks. A certificate close to expiry
 * is a warning, not a failure (the mesh still works today); `verify --fail-on warn` lets CI gate on
 * it, which is what linkerd users asked for after an expiry outage (linkerd/linkerd2#9612).
 *
 * The CA warns inside the N-day window. A leaf cannot use the same window: workload certificates
 * live 24 hours by default (as Istio's do) and would always be inside a window counted in days, so
 * they warn only once they are past their renewal point (less than DEFAULT_RENEW_BEFORE_FRACTION of
 * their lifetime left, where `meshgw up` and istiod would have replaced them) and inside the window.
 * A short-lived certificate that rotates on time is the design, not a risk (linkerd/linkerd2#5149).
 */
import { DEFAULT_RENEW_BEFORE_FRACTION } from '../../config/defaults.js';
import type { CheckResult } from '../checks.js';
import type { CertExpiryPolicy } from '../policy-options.js';

const DAY_MS = 86_400_000;

export interface CertValidity {
  /** "mesh CA", or the workload's name. */
  name: string;
  kind: 'ca' | 'leaf';
  notBefore: string;
  notAfter: string;
}

export interface ExpiryRow extends CertValidity {
  /** Days until notAfter at `now` (negative once expired), to 0.01 day. */
  daysLeft: number;
  /** Below this many days left, the certificate warns. */
  warnBelowDays: number;
  verdict: 'ok' | 'warn' | 'expired';
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The warning threshold in days for one certificate under the policy. */
export function warnThresholdDays(cert: CertValidity, policy: CertExpiryPolicy, renewBeforeFraction = DEFAULT_RENEW_BEFORE_FRACTION): number {
  if (cert.kind === 'ca') return policy.warnDays;
  const lifetimeDays = (Date.parse(cert.notAfter) - Date.parse(cert.notBefore)) / DAY_MS;
  return Math.min(policy.warnDays, renewBeforeFraction * lifetimeDays);
}

export function judgeExpiry(certs: CertValidity[], policy: CertExpiryPolicy, now: Date): ExpiryRow[] {
  return certs.map((c) => {
    const daysLeft = (Date.parse(c.notAfter) - now.getTime()) / DAY_MS;
    const warnBelowDays = warnThresholdDays(c, policy);
    const verdict = daysLeft <= 0 ? 'expired' : daysLeft < warnBelowDays ? 'warn' : 'ok';
    return { ...c, daysLeft: round2(daysLeft), warnBelowDays: round2(warnBelowDays), verdict };
  });
}

function left(days: number): string {
  return Math.abs(days) >= 2 ? `${Math.round(days)} days` : `${Math.round(days * 24 * 10) / 10} hours`;
}

/** The check's verdict: fail when one has expired, warn when one is inside its window, else pass. */
export function expiryResult(rows: ExpiryRow[], policy: CertExpiryPolicy, rotateHint: string): CheckResult {
  const data = { policy: { caWarnDays: policy.warnDays, leafRenewBeforeFraction: DEFAULT_RENEW_BEFORE_FRACTION }, certificates: rows };
  const expired = rows.filter((r) => r.verdict === 'expired');
  const warned = rows.filter((r) => r.verdict === 'warn');
  const describe = (r: ExpiryRow) => `${r.name} ${r.verdict === 'expired' ? `expired ${r.notAfter}` : `expires ${r.notAfter} (in ${left(r.daysLeft)}, warning below ${left(r.warnBelowDays)})`}`;
  if (expired.length > 0) return { ok: false, detail: expired.map(describe).join('; '), hint: rotateHint, data };
  if (warned.length > 0) return { ok: true, warn: true, detail: warned.map(describe).join('; '), hint: rotateHint, data };
  const soonest = [...rows].sort((a, b) => a.daysLeft - b.daysLeft)[0];
  const ca = rows.find((r) => r.kind === 'ca');
  return {
    ok: true,
    detail: `${rows.length} certificates outside their warning window${ca ? `; CA expires in ${left(ca.daysLeft)} (warning below ${policy.warnDays} days)` : ''}${soonest && soonest !== ca ? `; soonest leaf: ${soonest.name} in ${left(soonest.daysLeft)}` : ''}`,
    data,
  };
}
