// Resident memory of the processes under test, read from /proc/<pid>/status: VmRSS now,
// VmHWM the peak the kernel saw over the process's life.
import { readFileSync } from 'node:fs';

const SAMPLE_MS = 250;

export function memoryOf(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** The largest VmRSS of each process while it runs (a phase's peak, which VmHWM cannot give). */
export class MemorySampler {
  readonly #pids: number[];
  readonly #peaks: number[];
  readonly #timer: NodeJS.Timeout;

  constructor(pids: number[]) {
    this.#pids = pids;
    this.#peaks = pids.map(() => 0);
    this.sample();
    this.#timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  sample(): void {
    this.#pids.forEach((pid, i) => {
      const rss = memoryOf(pid)?.rssMb ?? 0;
      if (rss > this.#peaks[i]!) this.#peaks[i] = rss;
    });
  }

  /** Peak RSS in MB, of the largest process. */
  get peakMb(): number {
    return Math.round(Math.max(...this.#peaks));
  }

  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peakMb;
  }
}
