// One time base for every benchmark process: wall-clock milliseconds with sub-millisecond
// resolution. The receiver's arrival times and the load generator's response times are
// compared across processes, so they must come from the same machine clock.
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}
