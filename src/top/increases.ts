/**
 * Counter increases between two scrapes of the same target: the part of Prometheus' increase()
 * that two points allow. A counter lower than before was reset (the process restarted), so the
 * whole new value is the increase; a series the earlier scrape of that target lacked was born in
 * the window (Envoy and meshgw's emitters create a series at its first request), so it counts from 0.
 */
import type { Sample, Scrape } from '../metrics/contract.js';

/** A sample's increase over the window, with the scrape interval it spans. */
export interface SeriesIncrease {
  name: string;
  labels: Record<string, string>;
  pod: string;
  increase: number;
  windowSeconds: number;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}\u0000${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000')}`;
}

function targetKey(s: Scrape): string {
  return `${s.target.namespace}/${s.target.pod}\u0000${s.target.url}`;
}

/**
 * Increases of every sample whose name passes `wanted`, for targets scraped in both rounds. A target
 * seen only now has no baseline yet and contributes from the next round on.
 */
export function counterIncreases(before: Scrape[], after: Scrape[], wanted: (name: string) => boolean): SeriesIncrease[] {
  const previous = new Map(before.map((s) => [targetKey(s), s]));
  const out: SeriesIncrease[] = [];
  for (const now of after) {
    const prev = previous.get(targetKey(now));
    if (!prev || now.at <= prev.at) continue;
    const baseline = new Map<string, number>();
    for (const s of prev.samples) if (wanted(s.name)) baseline.set(seriesKey(s.name, s.labels), s.value);
    const windowSeconds = (now.at - prev.at) / 1000;
    for (const s of now.samples) {
      if (!wanted(s.name) || !Number.isFinite(s.value)) continue;
      const was = baseline.get(seriesKey(s.name, s.labels)) ?? 0;
      const increase = s.value >= was ? s.value - was : s.value;
      out.push({ name: s.name, labels: s.labels, pod: now.target.pod, increase, windowSeconds });
    }
  }
  return out;
}

/** Every sample of the latest round with its target's pod (for labels that hold whatever the value). */
export function latestSamples(after: Scrape[], wanted: (name: string) => boolean): (Sample & { pod: string })[] {
  return after.flatMap((s) => s.samples.filter((x) => wanted(x.name)).map((x) => ({ ...x, pod: s.target.pod })));
}
