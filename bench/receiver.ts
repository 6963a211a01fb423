// The receiving end of every benchmark: a keep-alive HTTP server on loopback that answers
// 200 at once and notes when each request arrived, by its `webhook-id`. It runs either in a
// process of its own (receiver-process.ts, so its work is not counted against the sender)
// or inside the benchmark's process beside the load generator, as the harness of issue 13's
// shapes does: there one process's event loop both sends the load and takes the deliveries.
import { createServer, type Server } from 'node:http';
import { wallClockMs } from './clock.ts';

const INITIAL_CAPACITY = 1 << 16;

/** Arrivals since the last reset: webhook-id and arrival time (wallClockMs). */
export class ArrivalLog {
  count = 0;
  /** false: count only (for runs of a million). */
  #keep = true;
  #ids: string[] = [];
  #times = new Float64Array(INITIAL_CAPACITY);

  note(id: string, at: number): void {
    if (this.#keep) {
      if (this.#ids.length === this.#times.length) {
        const grown = new Float64Array(this.#times.length * 2);
        grown.set(this.#times);
        this.#times = grown;
      }
      this.#times[this.#ids.length] = at;
      this.#ids.push(id);
    }
    this.count++;
  }

  reset(keepArrivals: boolean): void {
    this.#keep = keepArrivals;
    this.count = 0;
    this.#ids = [];
    this.#times = new Float64Array(INITIAL_CAPACITY);
  }

  arrivals(): { ids: string[]; times: Float64Array } {
    return { ids: this.#ids, times: this.#times.slice(0, this.#ids.length) };
  }
}

/** Starts the receiver's HTTP server on a free loopback port, noting every arrival in `log`. */
export async function listenForWebhooks(log: ArrivalLog): Promise<{ server: Server; port: number }> {
  const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (request, response) => {
    const at = wallClockMs();
    const id = request.headers['webhook-id'];
    if (typeof id === 'string') log.note(id, at);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-length': '0' });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the receiver has no TCP port');
  return { server, port: address.port };
}
