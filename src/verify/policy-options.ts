/**
 * `verify` flags that set policy rather than load: which outcome fails the run (--fail-on) and how
 * close to expiry a certificate may get (--cert-warn-days). Parsed here once (STYLE rule 6).
 */
import { MeshgwError } from '../errors.js';

/** 'fail': only failed checks fail the run (exit 1); 'warn': a warning fails it too, for CI gates. */
export type FailOn = 'fail' | 'warn';

/**
 * The mesh CA warns when it expires within this many days. Linkerd's `check` uses the same figure
 * for its trust anchor and issuer ("valid for at least 60 days"): the CA is rotated by hand, so the
 * warning must come early enough to plan the overlap (`meshgw certs rotate-root` on aws).
 */
export const DEFAULT_CERT_WARN_DAYS = 60;

export interface CertExpiryPolicy {
  /** Warn when the CA (and any leaf past its renewal point) expires within this many days. */
  warnDays: number;
}

export interface VerifyPolicyOptions {
  failOn: FailOn;
  certExpiry: CertExpiryPolicy;
}

const MAX_WARN_DAYS = 3650;

function stringValue(raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
}

export function parseFailOn(value: string | undefined): FailOn {
  if (value === undefined || value === 'fail') return 'fail';
  if (value === 'warn') return 'warn';
  throw new MeshgwError('USAGE', `--fail-on: expected "warn" or "fail", got "${value}"`, 'Use --fail-on warn in CI to fail on warnings such as a certificate close to expiry.');
}

export function parseCertWarnDays(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CERT_WARN_DAYS;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > MAX_WARN_DAYS) {
    throw new MeshgwError('USAGE', `--cert-warn-days: expected a number of days from 0 to ${MAX_WARN_DAYS}, got "${value}"`, `The default is ${DEFAULT_CERT_WARN_DAYS} days.`);
  }
  return n;
}

/** Reads --fail-on and --cert-warn-days from commander's values. */
export function parseVerifyPolicyOptions(raw: Record<string, unknown>): VerifyPolicyOptions {
  return { failOn: parseFailOn(stringValue(raw, 'failOn')), certExpiry: { warnDays: parseCertWarnDays(stringValue(raw, 'certWarnDays')) } };
}
