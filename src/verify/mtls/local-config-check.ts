/**
 * The assignment's "configuration validation" for the local mesh: STRICT on every inbound
 * listener, one CA, each certificate's chain, identity and validity, and the authorization table
 * each sidecar really enforces (read from its /config_dump, not from our own config). How close a
 * valid certificate is to expiry is the expiry policy's call (local-expiry-check.ts): a warning.
 */
import { readFile } from 'node:fs/promises';
import { authorizationTable, serviceNames, spiffeId, workloadNames } from '../../config/topology.js';
import { describeCertificate, verifyChain } from '../../pki/describe.js';
import { caFiles } from '../../pki/files.js';
import type { Check, CheckResult } from '../checks.js';
import { fetchConfigDump } from './local-admin.js';
import type { LocalMtlsContext } from './local-context.js';

interface WorkloadRow {
  workload: string;
  identity: string | undefined;
  expectedIdentity: string;
  chain: string;
  notAfter: string;
  fingerprint: string;
  mode?: string;
  allowedCallers?: string[];
}

const sameList = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

async function inspect(ctx: LocalMtlsContext, now: Date): Promise<CheckResult> {
  const { config, pkiDir } = ctx.mesh;
  const caPem = await readFile(caFiles(pkiDir).certFile, 'utf8');
  const ca = describeCertificate(caPem);
  const table = authorizationTable(config);
  const services = new Set(serviceNames(config));
  const problems: string[] = [];
  const rows: WorkloadRow[] = [];

  for (const name of workloadNames(config)) {
    const w = ctx.mesh.workloads.find((x) => x.name === name);
    const expectedIdentity = spiffeId(config, name);
    if (!w) {
      problems.push(`${name}: not running`);
      continue;
    }
    const certPem = await readFile(w.tls.certFile, 'utf8');
    const desc = describeCertificate(certPem);
    const chain = verifyChain(certPem, caPem, now);
    const row: WorkloadRow = { workload: name, identity: desc.identity, expectedIdentity, chain: chain.ok ? 'ok' : chain.reason, notAfter: desc.notAfter, fingerprint: desc.fingerprint };
    rows.push(row);
    if (!chain.ok) problems.push(`${name}: certificate does not chain to the mesh CA (${chain.reason})`);
    if (desc.identity !== expectedIdentity) problems.push(`${name}: certificate says ${desc.identity ?? 'no SPIFFE ID'}, expected ${expectedIdentity}`);
    if ((await readFile(w.tls.caFile, 'utf8')) !== caPem) problems.push(`${name}: trusts a CA other than ${caFiles(pkiDir).certFile}`);
    if (!services.has(name)) continue;

    if (!w.adminUrl) {
      problems.push(`${name}: no sidecar admin address, so no inbound listener to inspect`);
      continue;
    }
    const dump = await fetchConfigDump(w.adminUrl);
    row.mode = dump.inbound.mode;
    row.allowedCallers = dump.inbound.allowedCallers;
    if (dump.inbound.mode !== 'STRICT' || !dump.inbound.requestCert || !dump.inbound.rejectUnauthorized) problems.push(`${name}: inbound listener is ${dump.inbound.mode}, not STRICT`);
    const expectedCallers = table[name].map((c) => spiffeId(config, c));
    if (!sameList(dump.inbound.allowedCallers, expectedCallers)) {
      problems.push(`${name}: admits ${dump.inbound.allowedCallers.join(', ') || 'nobody'}, the authorization table says ${expectedCallers.join(', ')}`);
    }
    if (dump.certificate.fingerprint !== desc.fingerprint) problems.push(`${name}: sidecar serves a certificate other than ${w.tls.certFile} (not reloaded since a rotation?)`);
  }

  const data = {
    ca: { subject: ca.subject, fingerprint: ca.fingerprint, notAfter: ca.notAfter, file: caFiles(pkiDir).certFile },
    authorization: table,
    workloads: rows,
  };
  if (problems.length > 0) return { ok: false, detail: problems.join('; '), data, hint: hintFor(problems) };
  const strict = rows.filter((r) => r.mode === 'STRICT').length;
  const auth = Object.entries(table)
    .map(([callee, callers]) => `${callee}←${callers.join(',')}`)
    .join(' ');
  return { ok: true, detail: `${rows.length} certificates chain to CA ${ca.fingerprint.slice(0, 11)}…, identities as expected; ${strict} inbound listeners STRICT; enforced: ${auth}`, data };
}

function hintFor(problems: string[]): string {
  const text = problems.join(' ');
  if (/not reloaded/.test(text)) return '`meshgw certs rotate` reissues the leaves and asks the running sidecars to reload them.';
  if (/chain|SPIFFE ID|certificate says|trusts a CA/.test(text)) return 'Run `meshgw certs` to reissue what is wrong, then `meshgw certs rotate` so running sidecars pick it up.';
  return 'The sidecars were not started from this meshgw.yaml: run `meshgw down` and `meshgw up` so each one gets STRICT mode and the authorization table.';
}

export function localConfigurationCheck(now: () => Date): Check<LocalMtlsContext> {
  return {
    id: 'mtls.config',
    title: 'runs every inbound listener STRICT, with one CA, the expected identities and the authorization table',
    timeoutMs: 15_000,
    run: (ctx) => inspect(ctx, now()),
  };
}
