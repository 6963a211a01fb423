// The receiving end of every benchmark: a keep-alive HTTP server on loopback that answers
// 200 at once and notes when each request arrived, by its `webhook-id`. Runs in its own
// process (forked by the benchmark) so its work is not counted against the sender, and
// reports to the parent over IPC: a running count, and the arrivals when asked.
import { createServer } from 'node:http';
import { wallClockMs } from './clock.ts';

export type ReceiverCommand =
  /** Forget what arrived; `keepArrivals: false` counts only (for runs of a million). */
  | { type: 'reset'; keepArrivals: boolean }
  | { type: 'collect' };

export type ReceiverReport =
  | { type: 'ready'; port: number }
  | { type: 'count'; count: number }
  | { type: 'arrivals'; ids: string[]; times: Float64Array };

const COUNT_REPORT_MS = 200;
const INITIAL_CAPACITY = 1 << 16;

let keepArrivals = true;
let count = 0;
let ids: string[] = [];
let times = new Float64Array(INITIAL_CAPACITY);

function note(id: string, at: number): void {
  if (keepArrivals) {
    if (ids.length === times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[ids.length] = at;
    ids.push(id);
  }
  count++;
}

const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (request, response) => {
  const at = wallClockMs();
  const id = request.headers['webhook-id'];
  if (typeof id === 'string') note(id, at);
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-length': '0' });
    response.end();
  });
});

function send(report: ReceiverReport): void {
  process.send?.(report);
}

process.on('message', (command: ReceiverCommand) => {
  if (command.type === 'reset') {
    keepArrivals = command.keepArrivals;
    count = 0;
    ids = [];
    times = new Float64Array(INITIAL_CAPACITY);
    send({ type: 'count', count });
  } else if (command.type === 'collect') {
    send({ type: 'arrivals', ids, times: times.slice(0, ids.length) });
  }
});

let reported = -1;
setInterval(() => {
  if (count === reported) return;
  reported = count;
  send({ type: 'count', count });
}, COUNT_REPORT_MS).unref();

// The parent going away (even by SIGKILL) closes the channel: stop with it.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') send({ type: 'ready', port: address.port });
});
