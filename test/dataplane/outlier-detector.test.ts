// Outlier detection's arithmetic on its own (no sockets: it only counts): the threshold, the cap
// on ejected replicas, the growing ejection time and the gauge. The socket-level behaviour is in
// cluster.test.ts and test/mesh/resilience.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../src/dataplane/counters.js';
import { OutlierDetector, newOutlierState, type OutlierState } from '../../src/dataplane/outlier-detector.js';

function detector(n: number, maxEjectionPercent: number, consecutiveErrors = 2): { d: OutlierDetector; states: OutlierState[]; stats: Counters } {
  const stats = new Counters();
  const d = new OutlierDetector({ consecutiveErrors, baseEjectionTimeMs: 60_000, maxEjectionPercent }, { sink: stats, active: 'active', enforced: 'enforced' });
  const states = Array.from({ length: n }, newOutlierState);
  for (const s of states) d.add(s);
  return { d, states, stats };
}

describe('outlier detection', () => {
  it('ejects a replica after consecutiveErrors errors in a row, and a success in between resets the count', () => {
    const { d, states, stats } = detector(2, 50, 3);
    d.error(states[0]);
    d.error(states[0]);
    d.success(states[0]);
    d.error(states[0]);
    d.error(states[0]);
    assert.equal(states[0].ejected, false);
    d.error(states[0]);
    assert.equal(states[0].ejected, true);
    assert.deepEqual(stats.snapshot(), { active: 1, enforced: 1 });
    d.close();
    assert.equal(stats.get('active'), 0, 'the gauge falls back when the replica returns');
  });

  it('ejects at most maxEjectionPercent of the replicas, but one of two even at 0 %, and never the only one', () => {
    const three = detector(3, 50);
    for (const s of three.states) for (let i = 0; i < 2; i++) three.d.error(s);
    assert.deepEqual(three.states.map((s) => s.ejected), [true, false, false]);
    const two = detector(2, 0);
    for (const s of two.states) for (let i = 0; i < 2; i++) two.d.error(s);
    assert.equal(two.d.ejectedCount, 1);
    const one = detector(1, 100);
    for (let i = 0; i < 5; i++) one.d.error(one.states[0]);
    assert.equal(one.d.ejectedCount, 0);
    for (const x of [three, two, one]) x.d.close();
  });

  it('keeps a replica out longer each time it is ejected (base × times ejected)', () => {
    const { d, states } = detector(2, 50, 1);
    d.error(states[0]);
    assert.equal(states[0].timesEjected, 1);
    d.close();
    d.error(states[0]);
    assert.equal(states[0].timesEjected, 2);
    // Node's Timeout keeps its delay in _idleTimeout: the second ejection lasts twice the base.
    assert.equal((states[0].ejectionTimer as unknown as { _idleTimeout: number })._idleTimeout, 120_000);
    d.close();
  });
});
