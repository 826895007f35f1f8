// Outlier detection's arithmetic on its own (no sockets: it only counts), on a clock the test moves:
// the threshold, the cap on ejected replicas, the ejection time (base × backoff, capped at the max
// ejection time) and the backoff lowered at each interval a replica stays healthy, as Envoy's
// DetectorImpl does (source/common/upstream/outlier_detection_impl.cc: ejectHost, checkHostForUneject,
// onIntervalTimer). The socket-level behaviour is in cluster.test.ts and test/mesh/resilience.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../src/dataplane/counters.js';
import {
  ENVOY_DEFAULT_INTERVAL_MS,
  OutlierDetector,
  newOutlierState,
  type OutlierDetectorOptions,
  type OutlierState,
  type OutlierTimers,
} from '../../src/dataplane/outlier-detector.js';

/** Timers that fire only when the test advances the clock, in due order. */
class ManualTimers implements OutlierTimers {
  now = 0;
  #next = 1;
  readonly #due = new Map<number, { at: number; every?: number; fn: () => void }>();
  nowMs(): number {
    return this.now;
  }
  setTimeout(fn: (s: OutlierState) => void, ms: number, state: OutlierState): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.now + ms, fn: () => fn(state) });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#due.delete(h as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.now + ms, every: ms, fn });
    return id;
  }
  clearInterval(h: unknown): void {
    this.#due.delete(h as number);
  }
  get pending(): number {
    return this.#due.size;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      let first: [number, { at: number; every?: number; fn: () => void }] | undefined;
      for (const e of this.#due) if (e[1].at <= end && (!first || e[1].at < first[1].at)) first = e;
      if (!first) break;
      const [id, t] = first;
      this.now = t.at;
      if (t.every) t.at += t.every;
      else this.#due.delete(id);
      t.fn();
    }
    this.now = end;
  }
}

function detector(n: number, maxEjectionPercent: number, consecutiveErrors = 2, opts: OutlierDetectorOptions = {}) {
  const stats = new Counters();
  const timers = new ManualTimers();
  const d = new OutlierDetector({ consecutiveErrors, baseEjectionTimeMs: 60_000, maxEjectionPercent }, { sink: stats, active: 'active', enforced: 'enforced' }, { timers, ...opts });
  const states = Array.from({ length: n }, newOutlierState);
  for (const s of states) d.add(s);
  const eject = (s: OutlierState) => {
    for (let i = 0; i < consecutiveErrors; i++) d.error(s);
    assert.ok(s.ejected, 'ejected');
  };
  return { d, states, stats, timers, eject };
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

  it('brings a replica back after exactly base × backoff, and keeps it out longer when it is ejected again before an interval passes', () => {
    const { d, states, timers, eject, stats } = detector(2, 50, 1);
    const s = states[0];
    eject(s);
    timers.advance(59_999);
    assert.ok(s.ejected, 'still out 1 ms before the base ejection time');
    timers.advance(1);
    assert.equal(s.ejected, false);
    assert.equal(stats.get('active'), 0);
    eject(s);
    assert.deepEqual([s.timesEjected, s.ejectTimeBackoff, d.ejectionTimeMs(s)], [2, 2, 120_000]);
    timers.advance(119_999);
    assert.ok(s.ejected);
    timers.advance(1);
    assert.equal(s.ejected, false);
    d.close();
  });

  it('caps an ejection at the max ejection time (Envoy: 300 s by default) and stops raising the backoff past it', () => {
    const { d, states, eject } = detector(2, 50, 1);
    const s = states[0];
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      eject(s);
      times.push(d.ejectionTimeMs(s));
      d.close(); // back in at once: no interval passes, so nothing is forgiven
    }
    assert.deepEqual(times, [60_000, 120_000, 180_000, 240_000, 300_000, 300_000, 300_000, 300_000]);
    // Envoy raises the backoff only while backoff × base < max + base: it stops at 6, not at 8.
    assert.equal(s.ejectTimeBackoff, 6);
    assert.equal(s.timesEjected, 8);
  });

  it('takes a longer base ejection time as the cap when no max is set, and honours a max that is given', () => {
    const stats = new Counters();
    const timers = new ManualTimers();
    const long = new OutlierDetector({ consecutiveErrors: 1, baseEjectionTimeMs: 400_000, maxEjectionPercent: 50 }, { sink: stats, active: 'a', enforced: 'e' }, { timers });
    const capped = new OutlierDetector({ consecutiveErrors: 1, baseEjectionTimeMs: 1_000, maxEjectionPercent: 50 }, { sink: stats, active: 'a', enforced: 'e' }, { timers, maxEjectionTimeMs: 2_500 });
    const [a, b, c, e] = [newOutlierState(), newOutlierState(), newOutlierState(), newOutlierState()];
    long.add(a);
    long.add(b);
    capped.add(c);
    capped.add(e);
    long.error(a);
    assert.equal(long.ejectionTimeMs(a), 400_000);
    for (let i = 0; i < 4; i++) {
      capped.error(c);
      capped.close();
    }
    assert.equal(capped.ejectionTimeMs(c), 2_500);
    long.close();
  });

  it('lowers the backoff by one for each interval (Envoy default 10 s) the replica stays in after coming back', () => {
    const { d, states, timers, eject } = detector(2, 50, 1);
    const s = states[0];
    eject(s);
    timers.advance(60_000);
    eject(s);
    timers.advance(120_000);
    assert.equal(s.ejected, false);
    assert.equal(s.ejectTimeBackoff, 2, 'not forgiven while it was out');
    // Back at t = 180 s, on a sweep (every 10 s from the start) that still saw it out; the next
    // sweep, a whole interval later, lowers the backoff, and each later one again, down to zero.
    assert.equal(timers.now, 180_000);
    timers.advance(ENVOY_DEFAULT_INTERVAL_MS - 1);
    assert.equal(s.ejectTimeBackoff, 2);
    timers.advance(1);
    assert.equal(s.ejectTimeBackoff, 1);
    timers.advance(ENVOY_DEFAULT_INTERVAL_MS);
    assert.equal(s.ejectTimeBackoff, 0);
    timers.advance(ENVOY_DEFAULT_INTERVAL_MS);
    assert.equal(s.ejectTimeBackoff, 0, 'never below zero');
    eject(s);
    assert.equal(d.ejectionTimeMs(s), 60_000, 'a forgiven replica is ejected for the base time again');
    assert.equal(s.timesEjected, 3, 'the record of ejections is kept');
    d.close();
  });

  it('does not lower the backoff of a replica that is ejected, nor of one back for less than an interval', () => {
    const { d, states, timers, eject } = detector(2, 50, 1, { intervalMs: 1_000 });
    const s = states[0];
    eject(s);
    timers.advance(59_000);
    assert.equal(s.ejectTimeBackoff, 1, 'sweeps while ejected leave it alone');
    timers.advance(1_000);
    assert.equal(s.ejected, false);
    // Back at t = 60 000, exactly on a sweep: that sweep sees it back for 0 ms.
    assert.equal(s.ejectTimeBackoff, 1);
    timers.advance(999);
    assert.equal(s.ejectTimeBackoff, 1);
    timers.advance(1);
    assert.equal(s.ejectTimeBackoff, 0);
    d.close();
  });

  it('stops its timers when closed', () => {
    const { d, states, timers, eject } = detector(2, 50, 1);
    eject(states[0]);
    assert.equal(timers.pending, 2, 'the sweep and the ejection');
    d.close();
    assert.equal(timers.pending, 0);
  });
});
