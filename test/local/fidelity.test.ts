// The fidelity table of `meshgw status` on the local target: the data (src/local/fidelity.ts), its
// text rendering, and the real CLI's text and --output json (a child process; no stack needs to run).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderFidelity } from '../../src/local/commands.js';
import { FIDELITY, fidelityTable, type FidelityRow } from '../../src/local/fidelity.js';
import type { LocalStatus } from '../../src/local/status.js';
import { runMeshgw } from '../support/cli.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

describe('the local fidelity table', () => {
  it('covers API Gateway and Istio, each row with one of same / approximate / absent', () => {
    const areas = new Set(FIDELITY.map((r) => r.area));
    assert.deepEqual([...areas].sort(), ['API Gateway', 'Istio']);
    for (const area of areas) {
      const rows = FIDELITY.filter((r) => r.area === area);
      assert.ok(rows.length >= 8, `${area}: ${rows.length} rows`);
      assert.ok(new Set(rows.map((r) => r.local)).size >= 2, `${area} is not all one level`);
    }
    for (const r of FIDELITY) assert.ok(['same', 'approximate', 'absent'].includes(r.local), `${r.behaviour}: ${r.local}`);
    assert.equal(new Set(FIDELITY.map((r) => `${r.area}/${r.behaviour}`)).size, FIDELITY.length, 'no behaviour twice');
  });

  it("says how for every row that is not the same, and names the behaviours the issue lists", () => {
    for (const r of FIDELITY.filter((x) => x.local !== 'same')) assert.ok(r.how.trim().length >= 15, `${r.behaviour} has no how`);
    const names = FIDELITY.map((r) => r.behaviour).join('\n');
    for (const must of [/token bucket per method/, /quotas/, /API keys/, /access log/, /X-Ray/, /mTLS STRICT/, /AuthorizationPolicy/, /retries/, /outlier detection/, /fault injection/, /Istio standard metrics/, /certificate rotation/, /Gateway API/, /WAF/, /custom domain/, /CloudWatch alarms/]) {
      assert.match(names, must);
    }
    assert.equal(FIDELITY.find((r) => /WAF/.test(r.behaviour))?.local, 'absent');
  });

  it('renders a table with a header, a count per level and one line per row', () => {
    const rows: FidelityRow[] = [
      { area: 'API Gateway', behaviour: 'token bucket per method', local: 'same', how: 'one bucket per method' },
      { area: 'Istio', behaviour: 'fault injection', local: 'approximate', how: 'a switch on the admin port' },
    ];
    const text = renderFidelity(rows).split('\n');
    assert.equal(text[0], 'what the local target emulates (1 same, 1 approximate, 0 absent):');
    assert.match(text[1], /^area\s+behaviour\s+local\s+how$/);
    assert.match(text[3], /^API Gateway\s+token bucket per method\s+same\s+one bucket per method$/);
    assert.match(text[4], /^Istio\s+fault injection\s+approximate\s+a switch on the admin port$/);
  });

  it('hands out copies: a caller cannot change the table', () => {
    const first = { ...FIDELITY[0] };
    const copy = fidelityTable();
    copy[0].local = first.local === 'absent' ? 'same' : 'absent';
    copy.pop();
    assert.deepEqual(FIDELITY[0], first);
    assert.deepEqual(fidelityTable(), FIDELITY);
  });
});

describe('meshgw status on the local target', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'meshgw-fidelity-'));
    file = path.join(dir, 'meshgw.yaml');
    await writeFile(file, await readFile(path.join(root, 'meshgw.yaml'), 'utf8'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the fidelity table, and --output json carries it as fidelity: [{area, behaviour, local, how}]', async () => {
    const text = await runMeshgw(['-c', file, 'status', '--target', 'local'], { timeoutMs: 60_000 });
    assert.match(text.stdout, /local stack: not running/);
    assert.match(text.stdout, /what the local target emulates \(\d+ same, \d+ approximate, \d+ absent\):/);
    assert.match(text.stdout, /Istio\s+mTLS STRICT \(PeerAuthentication\)\s+same/);

    const json = await runMeshgw(['-c', file, 'status', '--target', 'local', '--output', 'json'], { timeoutMs: 60_000 });
    const status = JSON.parse(json.stdout) as LocalStatus;
    assert.equal(status.fidelity.length, FIDELITY.length);
    for (const row of status.fidelity) assert.deepEqual(Object.keys(row).sort(), ['area', 'behaviour', 'how', 'local']);
    assert.deepEqual(status.fidelity, FIDELITY);
  });
});
