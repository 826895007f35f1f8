/**
 * The assignment's "certificate validation failure", one check per way a caller can be wrong,
 * each against a real sidecar inbound port: the connection (or request) must be refused and the
 * sidecar's own counter for that reason must move. Forged certificates claim the gateway's
 * identity, which is allowed everywhere, so only the certificate itself can be the reason.
 */
import { readFile } from 'node:fs/promises';
import { authorizationTable, GATEWAY_WORKLOAD, serviceDnsName, serviceNames, spiffeId } from '../../config/topology.js';
import type { MeshgwConfig } from '../../config/schema.js';
import { probe, type ProbeOutcome } from '../../mesh/probe.js';
import { caFiles } from '../../pki/files.js';
import { createCa, issueLeaf } from '../../pki/issue.js';
import { readMeshCa } from '../../pki/store.js';
import type { LocalMeshWorkload } from '../target.js';
import type { Check, CheckResult } from '../checks.js';
import { counterDelta, fetchRefusals, fetchStats } from './local-admin.js';
import type { LocalMtlsContext } from './local-context.js';

type Credentials = { cert?: string; key?: string; plaintext?: boolean; note: string };

interface RefusalCase {
  id: string;
  title: string;
  /** The sidecar counter that must move. */
  counter: string;
  /** 'handshake': the connection must be refused; 'rbac': the request must get 403 RBAC_DENIED. */
  expect: 'refused' | 'rbac';
  target(ctx: LocalMtlsContext): string;
  credentials(ctx: LocalMtlsContext, now: Date): Promise<Credentials>;
  hint: string;
}

const HOUR_MS = 3_600_000;

function pickService(cfg: MeshgwConfig, preferred: string, index: number): string {
  const services = serviceNames(cfg);
  return services.includes(preferred) ? preferred : services[index % services.length];
}

/** A caller that the authorization table does not allow into a callee: users → orders by default. */
export function forbiddenPair(cfg: MeshgwConfig): { caller: string; callee: string } | undefined {
  const table = authorizationTable(cfg);
  const services = serviceNames(cfg);
  const candidates = services.flatMap((callee) => services.filter((caller) => caller !== callee && !table[callee].includes(caller)).map((caller) => ({ caller, callee })));
  return candidates.find((p) => p.caller === 'users' && p.callee === 'orders') ?? candidates[0];
}

function workload(ctx: LocalMtlsContext, name: string): LocalMeshWorkload {
  const w = ctx.mesh.workloads.find((x) => x.name === name);
  if (!w?.inboundUrl || !w.adminUrl) throw new Error(`${name} has no running sidecar (inbound and admin addresses missing)`);
  return w;
}

async function gatewayClaim(ctx: LocalMtlsContext, issuer: Parameters<typeof issueLeaf>[0], notBefore: Date | undefined, now: Date) {
  const cfg = ctx.mesh.config;
  return issueLeaf(issuer, { spiffeId: spiffeId(cfg, GATEWAY_WORKLOAD), dnsName: serviceDnsName(cfg, GATEWAY_WORKLOAD), lifetimeHours: 1, now, notBefore });
}

const CASES: RefusalCase[] = [
  {
    id: 'mtls.refuse.no-cert',
    title: 'refuses a client without a certificate (ssl.fail_verify_no_cert)',
    counter: 'ssl.fail_verify_no_cert',
    expect: 'refused',
    target: (ctx) => pickService(ctx.mesh.config, 'users', 0),
    credentials: async () => ({ note: 'no client certificate' }),
    hint: 'The inbound listener must demand a client certificate (STRICT: requestCert and rejectUnauthorized).',
  },
  {
    id: 'mtls.refuse.foreign-ca',
    title: 'refuses a certificate from another CA (ssl.fail_verify_error)',
    counter: 'ssl.fail_verify_error',
    expect: 'refused',
    target: (ctx) => pickService(ctx.mesh.config, 'products', 1),
    credentials: async (ctx, now) => {
      const foreign = await createCa({ commonName: 'meshgw verify foreign CA', lifetimeDays: 1, now });
      const leaf = await gatewayClaim(ctx, foreign, undefined, now);
      return { cert: leaf.certPem, key: leaf.keyPem, note: "the gateway's identity signed by a foreign CA" };
    },
    hint: 'The sidecar must trust only the mesh CA (its spec tls.caFile).',
  },
  {
    id: 'mtls.refuse.expired',
    title: 'refuses an expired certificate from the mesh CA (ssl.fail_verify_error)',
    counter: 'ssl.fail_verify_error',
    expect: 'refused',
    target: (ctx) => pickService(ctx.mesh.config, 'orders', 2),
    credentials: async (ctx, now) => {
      const ca = await readMeshCa(ctx.mesh.pkiDir);
      if (!ca) throw new Error(`the mesh CA is not readable under ${ctx.mesh.pkiDir}`);
      const leaf = await gatewayClaim(ctx, ca, new Date(now.getTime() - 2 * HOUR_MS), now);
      return { cert: leaf.certPem, key: leaf.keyPem, note: `the gateway's identity from the mesh CA, expired ${leaf.notAfter.toISOString()}` };
    },
    hint: 'The sidecar must check validity dates of client certificates.',
  },
  {
    id: 'mtls.refuse.identity',
    title: 'answers 403 to a valid identity that may not call the service (rbac.denied)',
    counter: 'rbac.denied',
    expect: 'rbac',
    target: (ctx) => forbiddenPair(ctx.mesh.config)?.callee ?? pickService(ctx.mesh.config, 'orders', 2),
    credentials: async (ctx, now) => {
      const pair = forbiddenPair(ctx.mesh.config);
      if (pair) {
        const tls = workload(ctx, pair.caller).tls;
        return { cert: await readFile(tls.certFile, 'utf8'), key: await readFile(tls.keyFile, 'utf8'), note: `the ${pair.caller} workload's own certificate` };
      }
      // Every service may call every other: use a mesh identity that is in nobody's table.
      const ca = await readMeshCa(ctx.mesh.pkiDir);
      if (!ca) throw new Error(`the mesh CA is not readable under ${ctx.mesh.pkiDir}`);
      const cfg = ctx.mesh.config;
      const leaf = await issueLeaf(ca, { spiffeId: spiffeId(cfg, 'meshgw-verify-stranger'), dnsName: serviceDnsName(cfg, 'meshgw-verify-stranger'), lifetimeHours: 1, now });
      return { cert: leaf.certPem, key: leaf.keyPem, note: 'a mesh identity no service lists as a caller' };
    },
    hint: "The sidecar's allowedCallers must come from the authorization table (a service may call only its declared backends).",
  },
  {
    id: 'mtls.refuse.plaintext',
    title: 'refuses plaintext HTTP on an mTLS port (ssl.connection_error)',
    counter: 'ssl.connection_error',
    expect: 'refused',
    target: (ctx) => pickService(ctx.mesh.config, 'users', 0),
    credentials: async () => ({ plaintext: true, note: 'plain HTTP' }),
    hint: 'The inbound port must speak only TLS.',
  },
];

function describeOutcome(o: ProbeOutcome): string {
  if (o.type === 'response') return `answered ${o.status}${o.body ? ` ${o.body.slice(0, 120)}` : ''}`;
  const stage = o.stage === 'handshake' ? 'during the handshake' : o.stage === 'after-handshake' ? 'right after the handshake' : 'on connect';
  return `refused ${stage} (${o.error.split('\n')[0]})`;
}

async function runCase(c: RefusalCase, ctx: LocalMtlsContext, now: Date): Promise<CheckResult> {
  const name = c.target(ctx);
  const w = workload(ctx, name);
  const ca = await readFile(caFiles(ctx.mesh.pkiDir).certFile, 'utf8');
  const creds = await c.credentials(ctx, now);
  const before = await fetchStats(w.adminUrl!);
  const outcome = await probe({
    url: creds.plaintext ? w.inboundUrl!.replace(/^https:/, 'http:') : w.inboundUrl!,
    path: `/${name}`,
    ca,
    cert: creds.cert,
    key: creds.key,
    timeoutMs: 5_000,
  });
  const after = await fetchStats(w.adminUrl!);
  const moved = counterDelta(before, after)[c.counter] ?? 0;
  const serverSaw = (await fetchRefusals(w.adminUrl!)).filter((r) => r.reason === c.counter).at(-1)?.error;
  const refused =
    c.expect === 'refused'
      ? outcome.type === 'refused'
      : outcome.type === 'response' && outcome.status === 403 && /RBAC_DENIED/.test(outcome.body);
  const ok = refused && moved >= 1;
  const detail = `${creds.note} → ${name}: ${describeOutcome(outcome)}; sidecar counted ${c.counter} +${moved}${serverSaw && moved >= 1 ? ` (${serverSaw})` : ''}`;
  return {
    ok,
    detail,
    ...(ok ? {} : { hint: refused ? `The refusal happened but ${c.counter} did not move: the sidecar counts it under another name.` : c.hint }),
    data: { target: name, outcome, counter: c.counter, delta: moved, counterBefore: before[c.counter] ?? 0, counterAfter: after[c.counter] ?? 0, serverError: serverSaw ?? null },
  };
}

export function localRefusalChecks(now: () => Date): Check<LocalMtlsContext>[] {
  return CASES.map((c) => ({ id: c.id, title: c.title, timeoutMs: 20_000, run: (ctx: LocalMtlsContext) => runCase(c, ctx, now()) }));
}
