/**
 * The certificate expiry policy on EKS: the mesh roots plugged into istiod (cacerts), which are
 * meshgw's to rotate (`meshgw certs rotate-root`). Workload certificates there are istiod's: 24-hour
 * leaves it renews on its own, so they are not judged here.
 */
import { X509Certificate } from 'node:crypto';
import type { Check } from '../checks.js';
import { expiryResult, judgeExpiry, type CertValidity } from '../mtls/cert-expiry.js';
import type { CertExpiryPolicy } from '../policy-options.js';
import type { AwsMtlsContext } from './mtls-context.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each certificate of a PEM bundle (during a root rotation the bundle holds the old and the new root). */
export function bundleValidity(pem: string): CertValidity[] {
  return [...pem.matchAll(PEM_BLOCK)].map((m, i, all) => {
    const cert = new X509Certificate(m[0]);
    const name = all.length > 1 ? `mesh root ${i + 1} (${cert.fingerprint256.slice(0, 11)}…)` : 'mesh CA';
    return { name, kind: 'ca' as const, notBefore: new Date(cert.validFrom).toISOString(), notAfter: new Date(cert.validTo).toISOString() };
  });
}

export function awsExpiryCheck(policy: CertExpiryPolicy, now: () => Date): Check<AwsMtlsContext> {
  return {
    id: 'mtls.expiry',
    title: `keeps the mesh roots plugged into istiod more than ${policy.warnDays} days from expiry`,
    async run(ctx) {
      const certs = bundleValidity(ctx.meshCaPem);
      if (certs.length === 0) return { ok: false, detail: 'the mesh root bundle holds no certificate', hint: 'Run `meshgw deploy` to plug the mesh CA into istiod.' };
      return expiryResult(judgeExpiry(certs, policy, now()), policy, 'Rotate the root before it expires: `meshgw certs rotate-root --target aws` overlaps the old and new roots so no workload loses trust.');
    },
  };
}
