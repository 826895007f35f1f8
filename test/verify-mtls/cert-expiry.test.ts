// The certificate expiry policy on real certificates: a mesh PKI minted on disk by meshgw's own pki
// store (short-lived where a test needs it), then the real CLI against a real local stack whose CA
// expires within the warning window, with and without --fail-on warn.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runMeshgw, type CliRun } from '../support/cli.js';
import { loadConfig, parseConfigText, type LoadedConfig } from '../../src/config/load.js';
import type { MeshgwConfig } from '../../src/config/schema.js';
import { workloadNames } from '../../src/config/topology.js';
import { startLocalStack, stopLocalStack } from '../../src/local/stack.js';
import { workloadTlsFiles } from '../../src/pki/files.js';
import { ensureMeshPki } from '../../src/pki/store.js';
import { runChecks, type CheckOutcome } from '../../src/verify/checks.js';
import { verifyRun, type VerifyRun } from '../../src/verify/command.js';
import type { ExpiryRow } from '../../src/verify/mtls/cert-expiry.js';
import type { LocalMtlsContext } from '../../src/verify/mtls/local-context.js';
import { localExpiryCheck } from '../../src/verify/mtls/local-expiry-check.js';

const root = path.resolve(new URL('../../..', import.meta.url).pathname);
const HOUR_MS = 3_600_000;

async function repoConfig(mesh: Partial<MeshgwConfig['mesh']> = {}): Promise<MeshgwConfig> {
  const cfg = parseConfigText(await readFile(path.join(root, 'meshgw.yaml'), 'utf8'), 'meshgw.yaml');
  return { ...cfg, mesh: { ...cfg.mesh, ...mesh } };
}

/** A PKI minted `mintedAgoMs` before now, judged now with the given warning window. */
async function judge(mesh: Partial<MeshgwConfig['mesh']>, mintedAgoMs: number, warnDays = 60): Promise<{ outcome: CheckOutcome; rows: ExpiryRow[]; ok: boolean }> {
  const config = await repoConfig(mesh);
  const dir = await mkdtemp(path.join(tmpdir(), 'meshgw-expiry-'));
  try {
    const pkiDir = path.join(dir, 'pki');
    await ensureMeshPki({ config, pkiDir, now: new Date(Date.now() - mintedAgoMs) });
    const ctx = { mesh: { config, pkiDir, workloads: workloadNames(config).map((name) => ({ name, spiffeId: '', tls: workloadTlsFiles(pkiDir, name) })), processes: [] } } as unknown as LocalMtlsContext;
    const report = await runChecks('mtls', 'local', [localExpiryCheck({ warnDays }, () => new Date())], ctx);
    const outcome = report.checks[0];
    return { outcome, rows: (outcome.data as { certificates: ExpiryRow[] }).certificates, ok: report.ok };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('verify mtls: the certificate expiry policy', () => {
  it('passes a fresh mesh: a 24-hour leaf that rotates on time is not a warning', async () => {
    const { outcome, rows } = await judge({}, 0);
    assert.equal(outcome.status, 'pass', outcome.detail);
    assert.equal(rows.length, 5);
    assert.ok(rows.every((r) => r.verdict === 'ok'));
    assert.match(outcome.detail, /CA expires in 365 days \(warning below 60 days\)/);
  });

  it('warns (⚠, scenario still passing) when the CA expires within the window, and says how to renew it', async () => {
    const { outcome, rows, ok } = await judge({ caLifetimeDays: 30 }, 0);
    assert.equal(outcome.status, 'warn');
    assert.ok(ok, 'a warning alone does not fail the scenario');
    assert.deepEqual(rows.filter((r) => r.verdict === 'warn').map((r) => r.name), ['mesh CA']);
    assert.match(outcome.detail, /mesh CA expires .* \(in 30 days, warning below 60 days\)/);
    assert.match(outcome.hint ?? '', /meshgw certs/);
  });

  it('honours the configured window: 0 days turns the CA warning off', async () => {
    const { outcome } = await judge({ caLifetimeDays: 30 }, 0, 0);
    assert.equal(outcome.status, 'pass', outcome.detail);
  });

  it('warns on leaves past their renewal point (under 20 % of their lifetime left) but not the CA', async () => {
    const { outcome, rows } = await judge({}, 22 * HOUR_MS);
    assert.equal(outcome.status, 'warn', outcome.detail);
    assert.deepEqual(rows.filter((r) => r.verdict === 'warn').map((r) => r.name).sort(), ['gateway', 'orders', 'products', 'users']);
    assert.ok(rows.every((r) => r.kind === 'ca' ? r.verdict === 'ok' : Math.abs(r.warnBelowDays - 0.2) < 0.01), '20 % of a 24-hour leaf is 0.2 days');
    assert.match(outcome.detail, /users expires .* \(in (1\.9|2) hours, warning below 4\.8 hours\)/);
  });

  it('fails when a leaf has expired', async () => {
    const { outcome } = await judge({ leafLifetimeHours: 1 }, 2 * HOUR_MS);
    assert.equal(outcome.status, 'fail');
    assert.match(outcome.detail, /expired/);
  });

  it('fails the run on a warning only with --fail-on warn', () => {
    const warned = { scenario: 'mtls', target: 'local' as const, ok: true, warnings: 1, checks: [{ id: 'mtls.expiry', title: 't', status: 'warn' as const, detail: 'd', durationMs: 0 }] };
    const session = { target: 'local' as const, startedStack: false };
    assert.equal(verifyRun([warned], session, 'fail').ok, true);
    assert.equal(verifyRun([warned], session, 'warn').ok, false);
    assert.equal(verifyRun([{ ...warned, warnings: 0, checks: [{ ...warned.checks[0], status: 'pass' as const }] }], session, 'warn').ok, true);
  });
});

const meshgw = (args: string[]): Promise<CliRun> => runMeshgw(args, { env: { CI: '1' }, timeoutMs: 120_000 });

describe('meshgw verify mtls --fail-on warn on a local stack whose CA expires in 30 days', () => {
  let dir: string;
  let file: string;
  let loaded: LoadedConfig;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-expiry-stack-'));
    file = path.join(dir, 'meshgw.yaml');
    await writeFile(file, (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0').replace('caLifetimeDays: 365', 'caLifetimeDays: 30'));
    loaded = await loadConfig(file);
    await startLocalStack(loaded, { port: 0 });
  });
  after(async () => {
    await stopLocalStack(loaded.stateDir);
    await rm(dir, { recursive: true, force: true });
  });

  it('passes with a ⚠ by default, and exits 1 with --fail-on warn, naming the CA', async () => {
    const plain = await meshgw(['verify', 'mtls', '-c', file]);
    assert.match(plain.stdout, /⚠ keeps the mesh CA more than 60 days .* mesh CA expires .* \(in 30 days, warning below 60 days\)/);
    assert.match(plain.stdout, /verify: PASS \(1 warning\)/, plain.stdout + plain.stderr);
    assert.equal(plain.code, 0);

    const gated = await meshgw(['verify', 'mtls', '-c', file, '--fail-on', 'warn', '--output', 'json']);
    assert.equal(gated.code, 1, gated.stderr);
    const run = JSON.parse(gated.stdout) as VerifyRun;
    assert.equal(run.ok, false);
    assert.equal(run.failOn, 'warn');
    assert.equal(run.warnings, 1);
    assert.equal(run.scenarios[0].checks.find((c) => c.id === 'mtls.expiry')?.status, 'warn');
    assert.ok(run.scenarios[0].checks.filter((c) => c.id !== 'mtls.expiry').every((c) => c.status === 'pass'), 'only the warning fails the run');
  });

  it('rejects a bad --fail-on or --cert-warn-days with exit 2 before touching the stack', async () => {
    const badLevel = await meshgw(['verify', 'mtls', '-c', file, '--fail-on', 'error']);
    assert.equal(badLevel.code, 2);
    assert.match(badLevel.stderr, /--fail-on: expected "warn" or "fail", got "error"/);
    const badDays = await meshgw(['verify', 'mtls', '-c', file, '--cert-warn-days', '-3']);
    assert.equal(badDays.code, 2);
    assert.match(badDays.stderr, /--cert-warn-days: expected a number of days from 0 to 3650, got "-3"/);
  });
});
