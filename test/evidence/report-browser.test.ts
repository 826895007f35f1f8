// `meshgw verify all --evidence DIR` from a real run on the local target (the CLI as a child
// process, a real stack that verify starts and stops), then report.html opened in a real headless
// Chromium (Debian's, driven by playwright-core) with every non-file request aborted: the
// assertions are on the rendered page, and a full-page screenshot is kept for review.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { EvidenceBundle } from '../../src/evidence/types.js';
import type { VerifyRun } from '../../src/verify/command.js';
import { runMeshgw } from '../support/cli.js';
import { chromiumBin } from '../support/tools.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const RUN_TIMEOUT_MS = 300_000;

// Without the background-networking flags Chromium dials Google's hosts at start, which this
// machine's closed network refuses (/work/.library/env/machines/polyglot.md, "Known to work").
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function openOffline(userDataDir: string): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: chromiumBin(), headless: true, args: CHROMIUM_ARGS });
  const blocked: string[] = [];
  // Anything but the report file itself is a dependency the bundle must not have.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  return { context, blocked };
}

async function box(page: Page, selector: string, index: number): Promise<{ width: number; height: number } | null> {
  return page.locator(selector).nth(index).boundingBox();
}

describe('the evidence bundle of a real local run, rendered in headless Chromium', () => {
  let dir: string;
  let shots: string;
  let file: string;
  let bundleDir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-evidence-run-'));
    // The screenshot outlives the test's other files, so its path in the diagnostic can be opened.
    shots = await mkdtemp(path.join(tmpdir(), 'meshgw-evidence-screenshot-'));
    file = path.join(dir, 'meshgw.yaml');
    bundleDir = path.join(dir, 'bundle', 'nested');
    await writeFile(file, (await readFile(path.join(root, 'meshgw.yaml'), 'utf8')).replace('gatewayPort: 8080', 'gatewayPort: 0'));
  });
  after(async () => {
    // verify stops the stack it started; `down` is a no-op then, and the safety net if it crashed.
    await runMeshgw(['-c', file, 'down'], { timeoutMs: 60_000 });
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an --evidence path that is an existing file with exit 2, before starting anything', async () => {
    const taken = path.join(dir, 'taken');
    await writeFile(taken, 'mine');
    const r = await runMeshgw(['-c', file, 'verify', 'throttle', '--evidence', taken], { env: { CI: '1' }, timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /--evidence .*taken: expected a folder, but it is an existing file/);
    assert.equal(await readFile(taken, 'utf8'), 'mine');
    assert.doesNotMatch(r.stdout + r.stderr, /local stack started/);
  });

  it('shows the throttle charts, the whole authorization matrix, the counters, the waterfall, the fingerprint and the versions', async (t) => {
    const r = await runMeshgw(['-c', file, 'verify', 'all', '--quick', '--evidence', bundleDir, '--output', 'json'], { env: { CI: '1' }, timeoutMs: RUN_TIMEOUT_MS });
    // A check may fail on a loaded machine (exit 1); the bundle is written either way.
    assert.ok(r.code === 0 || r.code === 1, `verify exited ${r.code}: ${r.stderr}`);
    const run = JSON.parse(r.stdout) as VerifyRun;
    assert.deepEqual(run.evidence, { report: path.join(bundleDir, 'report.html'), json: path.join(bundleDir, 'evidence.json') });
    const bundle = JSON.parse(await readFile(run.evidence!.json, 'utf8')) as EvidenceBundle;
    assert.deepEqual(bundle.scenarios.map((s) => s.scenario), ['throttle', 'auth', 'mtls', 'resilience']);
    assert.ok(bundle.authzMatrix.available, 'the mtls matrix ran');
    assert.ok(bundle.legitTrace.available, `the flow's order was traced: ${bundle.legitTrace.available ? '' : bundle.legitTrace.reason}`);
    // A bundle is handed over: no API key value, login token or private key may be in it.
    const keys = JSON.parse(await readFile(path.join(dir, '.meshgw', 'local', 'api-keys.json'), 'utf8')) as { value: string }[];
    assert.ok(keys.length >= 2);
    for (const f of [run.evidence!.json, run.evidence!.report]) {
      const text = await readFile(f, 'utf8');
      for (const k of keys) assert.ok(!text.includes(k.value), `${path.basename(f)} holds an API key value`);
      assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.eyJ|PRIVATE KEY/, `${path.basename(f)} holds a token or a key`);
    }

    const userDataDir = path.join(dir, 'chromium-profile');
    const { context, blocked } = await openOffline(userDataDir);
    try {
      const page = await context.newPage();
      await page.goto(`file://${run.evidence!.report}`, { waitUntil: 'load' });

      // Throttle: every phase chart is an SVG with a real size on screen, drawn with bars.
      const charts = page.locator('#throttle-charts svg');
      const chartCount = await charts.count();
      assert.ok(chartCount >= 3, `throttle charts: ${chartCount}`);
      for (let i = 0; i < chartCount; i++) {
        assert.ok(await charts.nth(i).isVisible(), `chart ${i} is visible`);
        const b = await box(page, '#throttle-charts svg', i);
        assert.ok(b && b.width > 100 && b.height > 50, `chart ${i} box ${JSON.stringify(b)}`);
        assert.ok((await charts.nth(i).locator('rect').count()) > 0, `chart ${i} has bars`);
      }

      // The matrix: one row per caller, one column per service, each cell observed as expected.
      const m = bundle.authzMatrix;
      assert.ok(m.available);
      assert.deepEqual(await page.locator('#authz-matrix thead th[data-service]').allTextContents(), m.services);
      assert.deepEqual(await page.locator('#authz-matrix tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-caller'))), m.callers);
      assert.equal(m.callers.length, 5);
      const cells = await page.locator('#authz-matrix tbody td').evaluateAll((tds) => tds.map((td) => [td.getAttribute('data-expected'), td.getAttribute('data-observed')]));
      assert.equal(cells.length, m.callers.length * m.services.length);
      for (const [expected, observed] of cells) assert.equal(observed, expected);
      assert.ok(await page.locator('#authz-matrix').isVisible());

      // Counters before and after each refusal: every one moved.
      const refusalRows = page.locator('#refusal-counters tbody tr');
      assert.ok((await refusalRows.count()) >= 5);
      assert.match((await refusalRows.allInnerTexts()).join('\n'), /ssl\.fail_verify_no_cert\t\d+\t\d+\t\+1/);

      // The waterfall of the flow's order: the gateway, then orders, then users and products.
      const spans = await page.locator('#trace-waterfall #waterfall tbody tr td.name').allInnerTexts();
      for (const hop of ['gateway', 'gateway → orders', 'orders → users', 'orders → products']) assert.ok(spans.some((s) => s.trim().startsWith(hop)), `waterfall has ${hop}: ${spans.join(' | ')}`);
      assert.equal(await page.locator('#trace-waterfall #hops tbody tr').count(), 3);
      const bar = await page.locator('#trace-waterfall #waterfall tbody tr td.bar div').first().boundingBox();
      assert.ok(bar && bar.width > 0, 'the root span has a visible bar');

      // The run's facts.
      assert.equal(await page.locator('#config-fingerprint').innerText(), bundle.config.value);
      assert.match(bundle.config.value, /^[0-9a-f]{64}$/);
      const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { version: string };
      assert.equal(await page.locator('#meshgw-version').innerText(), pkg.version);
      assert.equal(await page.locator('#node-version').innerText(), process.version);
      assert.match(await page.locator('#istio-version').innerText(), /not used/);
      assert.equal(await page.locator('#target').innerText(), 'local');

      assert.deepEqual(blocked, [], 'the report asked for nothing outside its own file');
      const shot = path.join(shots, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.diagnostic(`screenshot: ${shot}`);
    } finally {
      await context.close();
    }
  });
});
