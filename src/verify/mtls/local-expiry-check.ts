/** The certificate expiry policy on the local target: the mesh CA and every workload's leaf, read from the PKI on disk. */
import { readFile } from 'node:fs/promises';
import { workloadNames } from '../../config/topology.js';
import { describeCertificate } from '../../pki/describe.js';
import { caFiles } from '../../pki/files.js';
import type { Check, CheckResult } from '../checks.js';
import type { CertExpiryPolicy } from '../policy-options.js';
import { expiryResult, judgeExpiry, type CertValidity } from './cert-expiry.js';
import type { LocalMtlsContext } from './local-context.js';

const ROTATE_HINT = '`meshgw certs` reissues what is close to expiry (the CA too, which means every leaf), then `meshgw certs rotate` makes running sidecars pick the leaves up.';

async function inspect(ctx: LocalMtlsContext, policy: CertExpiryPolicy, now: Date): Promise<CheckResult> {
  const ca = describeCertificate(await readFile(caFiles(ctx.mesh.pkiDir).certFile, 'utf8'));
  const certs: CertValidity[] = [{ name: 'mesh CA', kind: 'ca', notBefore: ca.notBefore, notAfter: ca.notAfter }];
  for (const name of workloadNames(ctx.mesh.config)) {
    const w = ctx.mesh.workloads.find((x) => x.name === name);
    if (!w) continue; // mtls.config names a workload that is not running.
    const leaf = describeCertificate(await readFile(w.tls.certFile, 'utf8'));
    certs.push({ name, kind: 'leaf', notBefore: leaf.notBefore, notAfter: leaf.notAfter });
  }
  return expiryResult(judgeExpiry(certs, policy, now), policy, ROTATE_HINT);
}

export function localExpiryCheck(policy: CertExpiryPolicy, now: () => Date): Check<LocalMtlsContext> {
  return {
    id: 'mtls.expiry',
    title: `keeps the mesh CA more than ${policy.warnDays} days and every leaf short of its renewal point from expiry`,
    timeoutMs: 10_000,
    run: (ctx) => inspect(ctx, policy, now()),
  };
}
