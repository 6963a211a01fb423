// CPU time used by processes, read from /proc (Linux only): what each part of a benchmark run
// costs per delivery. On a machine where every process shares two cores, this is steadier
// than throughput, which moves with whatever else the scheduler runs.
import { readFileSync, readdirSync } from 'node:fs';

/** /proc reports CPU time in clock ticks of USER_HZ, which Linux fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of one process, or 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the
    // 14th field of the line and stime the 15th.
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = line.slice(line.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process named `postgres` (the server and its backends), per pid. */
function postgresProcesses(): Map<number, number> {
  const found = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    found.set(Number(entry), cpuSeconds(Number(entry)));
  }
  return found;
}

export interface CpuUse {
  /** The processes under test (hookd or the bare relay). */
  system: number;
  /** PostgreSQL's processes, whoever they served (idle during SQLite and relay runs). */
  database: number;
  receiver: number;
  /** The benchmark's own process: the load generator. */
  loadGenerator: number;
}

/** CPU seconds from now until `stop()`, per part of the run. */
export class CpuMeter {
  readonly #pids: readonly number[];
  readonly #receiverPid: number;
  readonly #start: { system: number; database: Map<number, number>; receiver: number; loadGenerator: number };

  constructor(pids: readonly number[], receiverPid: number) {
    this.#pids = pids;
    this.#receiverPid = receiverPid;
    this.#start = this.#read();
  }

  #read() {
    const own = process.cpuUsage();
    return {
      system: this.#pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
      database: postgresProcesses(),
      receiver: cpuSeconds(this.#receiverPid),
      loadGenerator: (own.user + own.system) / 1e6,
    };
  }

  stop(): CpuUse {
    const end = this.#read();
    let database = 0;
    // Backends that started meanwhile count from zero; those that ended are lost (a few ticks).
    for (const [pid, seconds] of end.database) database += seconds - (this.#start.database.get(pid) ?? 0);
    return {
      system: end.system - this.#start.system,
      database,
      receiver: end.receiver - this.#start.receiver,
      loadGenerator: end.loadGenerator - this.#start.loadGenerator,
    };
  }
}

/** CPU microseconds per delivery, rounded. */
export function perDelivery(use: CpuUse, deliveries: number): CpuUse {
  const us = (seconds: number) => (deliveries > 0 ? Math.round((seconds * 1e6) / deliveries) : 0);
  return { system: us(use.system), database: us(use.database), receiver: us(use.receiver), loadGenerator: us(use.loadGenerator) };
}
