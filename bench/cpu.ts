// CPU time used by processes, read from /proc (Linux only): what each part of a benchmark run
// costs per delivery. On a machine where every process shares two cores, this is steadier
// than throughput, which moves with whatever else the scheduler runs.
import { readFileSync, readdirSync } from 'node:fs';

/** /proc reports CPU time in clock ticks of USER_HZ, which Linux fixes at 100 per second. */
const TICKS_PER_SECOND = 100;
/** How often PostgreSQL's processes are looked up again: backends come and go during a phase. */
const POSTGRES_SAMPLE_MS = 250;

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces, hence the last ')'). */
function statFields(pid: number): string[] | null {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return line.slice(line.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return null;
  }
}

/** User + system CPU seconds of one process (all its threads), or 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime is the 14th field of the line and stime the 15th: the 12th and 13th after the name.
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : 0;
}

function processTitle(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return null;
  }
}

/** A PostgreSQL server running on this machine, and the database a scenario uses on it. */
export interface PostgresServer {
  postmasterPid: number;
  database: string;
}

/**
 * The server whose backend is `backendPid` (from `pg_backend_pid()`), if it runs on this
 * machine: the backend's parent, checked to be a postgres process whose backend names
 * `database` in its title. null for a server elsewhere (or in another pid namespace).
 */
export function localPostgresServer(backendPid: number, database: string): PostgresServer | null {
  const postmasterPid = Number(statFields(backendPid)?.[1]);
  if (!postmasterPid || !servesDatabase(processTitle(backendPid), database)) return null;
  return processTitle(postmasterPid)?.includes('postgres') ? { postmasterPid, database } : null;
}

/**
 * A backend's title is "postgres: [cluster: ]user database host(port) activity" (an
 * autovacuum worker's "autovacuum worker database"): one word is the database's name,
 * unique to the run (hookd_bench_<random>).
 */
function servesDatabase(title: string | null, database: string): boolean {
  return title !== null && title.startsWith('postgres:') && title.split(/\s+/).includes(database);
}

/** The server's own processes that write out what every database's backends wrote. */
const SHARED_WRITERS = /^postgres: (?:[^:]+: )?(?:checkpointer|background writer|walwriter)$/;

/** Direct children of a process (the postmaster forks every backend and background process). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // Kernels without CONFIG_PROC_CHILDREN: find them by their parent instead.
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
      .filter((child) => Number(statFields(child)?.[1]) === pid);
  }
}

/**
 * CPU seconds of the PostgreSQL processes working for one database: its backends (found by
 * their process title, sampled every POSTGRES_SAMPLE_MS so backends that start during the
 * phase count from zero and those that end keep what they used up to their last sample),
 * plus the postmaster, checkpointer, background writer and WAL writer, which the server
 * shares between its databases. Backends of other databases (other people's tests on a
 * shared server) are left out.
 */
class PostgresCpu {
  readonly #server: PostgresServer;
  /** pid → CPU seconds when first and last seen during the measurement. */
  readonly #seen = new Map<number, { first: number; last: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(server: PostgresServer) {
    this.#server = server;
    // The processes present at the start count from their CPU then; later ones from zero.
    for (const pid of this.#processes()) this.#seen.set(pid, { first: cpuSeconds(pid), last: cpuSeconds(pid) });
    this.#timer = setInterval(() => this.#sample(), POSTGRES_SAMPLE_MS);
    this.#timer.unref();
  }

  #processes(): number[] {
    const { postmasterPid, database } = this.#server;
    return [postmasterPid, ...childrenOf(postmasterPid).filter((pid) => {
      const title = processTitle(pid);
      return title !== null && (SHARED_WRITERS.test(title) || servesDatabase(title, database));
    })];
  }

  #sample(): void {
    for (const pid of this.#processes()) {
      const seconds = cpuSeconds(pid);
      const seen = this.#seen.get(pid);
      // A process gone between listing and reading reads 0: keep its last figure.
      if (seen) seen.last = Math.max(seen.last, seconds);
      else this.#seen.set(pid, { first: 0, last: seconds });
    }
  }

  stop(): number {
    clearInterval(this.#timer);
    this.#sample();
    let total = 0;
    for (const { first, last } of this.#seen.values()) total += last - first;
    return total;
  }
}

export interface CpuUse {
  /** The processes under test (hookd or the bare relay). */
  system: number;
  /** PostgreSQL's processes working for the scenario's database (0 without one). */
  database: number;
  /** The receiver's own process; 0 when it runs in the benchmark's process (then in loadGenerator). */
  receiver: number;
  /** The benchmark's own process: the load generator (and the receiver, when it runs there). */
  loadGenerator: number;
}

export interface CpuMeterOptions {
  /** The processes under test. */
  pids: readonly number[];
  receiverPid: number;
  /** Where the scenario's database lives, when it is PostgreSQL on this machine. */
  postgres?: PostgresServer | undefined;
}

/** CPU seconds from now until `stop()`, per part of the run. */
export class CpuMeter {
  readonly #pids: readonly number[];
  /** null: the receiver runs in this process, whose CPU is read as the load generator's. */
  readonly #receiverPid: number | null;
  readonly #postgres: PostgresCpu | null;
  readonly #start: { system: number; receiver: number; loadGenerator: number };
  #result: CpuUse | null = null;

  constructor(options: CpuMeterOptions) {
    this.#pids = options.pids;
    this.#receiverPid = options.receiverPid === process.pid ? null : options.receiverPid;
    this.#postgres = options.postgres ? new PostgresCpu(options.postgres) : null;
    this.#start = this.#read();
  }

  #read() {
    const own = process.cpuUsage();
    return {
      system: this.#pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
      receiver: this.#receiverPid === null ? 0 : cpuSeconds(this.#receiverPid),
      loadGenerator: (own.user + own.system) / 1e6,
    };
  }

  /** The CPU used since the meter started; later calls return the first call's figures. */
  stop(): CpuUse {
    if (this.#result) return this.#result;
    const end = this.#read();
    this.#result = {
      system: end.system - this.#start.system,
      database: this.#postgres?.stop() ?? 0,
      receiver: end.receiver - this.#start.receiver,
      loadGenerator: end.loadGenerator - this.#start.loadGenerator,
    };
    return this.#result;
  }
}

/** CPU microseconds per delivery, rounded. */
export function perDelivery(use: CpuUse, deliveries: number): CpuUse {
  const us = (seconds: number) => (deliveries > 0 ? Math.round((seconds * 1e6) / deliveries) : 0);
  return { system: us(use.system), database: us(use.database), receiver: us(use.receiver), loadGenerator: us(use.loadGenerator) };
}
