// The vendored CRDs in test/fixtures/crds/ are byte-for-byte the upstream files SOURCES.md names: each
// file's sha256 and size match its row, and every listed file is there (no real server needed).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CRD_DIR, loadRealCrds, realCrdFiles } from '../support/real-crds.js';

interface SourceRow {
  file: string;
  bytes: number;
  sha256: string;
}

/** The Gateway API table rows and the Istio "saved as" line of SOURCES.md. */
function sourceRows(): SourceRow[] {
  const text = readFileSync(path.join(CRD_DIR, 'SOURCES.md'), 'utf8');
  const rows: SourceRow[] = [];
  for (const m of text.matchAll(/^\| (gateway-api-[^ |]+\.yaml) \| [^|]+\| `[0-9a-f]{40}` \| (\d+) \| `([0-9a-f]{64})` \|/gm)) {
    rows.push({ file: m[1], bytes: Number(m[2]), sha256: m[3] });
  }
  for (const m of text.matchAll(/^- saved as: (istio-[^ ]+\.yaml) — (\d+) bytes — sha256 `([0-9a-f]{64})`/gm)) {
    rows.push({ file: m[1], bytes: Number(m[2]), sha256: m[3] });
  }
  return rows;
}

describe('vendored upstream CRDs', () => {
  it('match the size and sha256 that SOURCES.md records for every file, and SOURCES.md lists every file', () => {
    const rows = sourceRows();
    assert.deepEqual(rows.map((r) => r.file).sort(), realCrdFiles().sort(), 'SOURCES.md rows and files on disk');
    for (const row of rows) {
      const bytes = readFileSync(path.join(CRD_DIR, row.file));
      assert.equal(bytes.length, row.bytes, `${row.file} size`);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), row.sha256, `${row.file} sha256`);
    }
  });

  it('hold the 6 Gateway API v1.4.0 standard-channel CRDs and the 14 Istio CRDs', () => {
    const crds = loadRealCrds();
    const gateway = crds.filter((c) => c.spec.group === 'gateway.networking.k8s.io');
    assert.equal(gateway.length, 6);
    for (const c of gateway) {
      assert.equal(c.metadata.annotations?.['gateway.networking.k8s.io/bundle-version'], 'v1.4.0', c.metadata.name);
      assert.equal(c.metadata.annotations?.['gateway.networking.k8s.io/channel'], 'standard', c.metadata.name);
    }
    assert.equal(crds.filter((c) => c.spec.group.endsWith('istio.io')).length, 14);
  });
});
