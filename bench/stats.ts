// Percentiles through Node's built-in HdrHistogram (perf_hooks.createHistogram), recorded
// in microseconds, reported in milliseconds.
import { createHistogram } from 'node:perf_hooks';

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentiles(valuesMs: Iterable<number>): Percentiles {
  const histogram = createHistogram();
  for (const ms of valuesMs) histogram.record(Math.max(1, Math.round(ms * 1000)));
  if (histogram.count === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const ms = (us: number) => Math.round(us / 10) / 100;
  return { count: histogram.count, p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
}

export function perSecond(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}
