// The ceiling hookd is measured against: the least a Node webhook relay can do. It takes a
// request, answers 202 at once, and forwards the body from memory to the receiver over
// keep-alive connections: two HTTP hops, with no storage, no signing and no retries. It
// serves hookd's two ingest paths so the same load generator drives both: one forward per
// /ingest request, `fanOut` forwards per /events request.
//
// Usage (forked by the benchmark): bare-relay.ts <receiver-url> <fan-out> <connections>
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [receiverUrl, fanOutArg, connectionsArg] = process.argv.slice(2);
if (!receiverUrl || !fanOutArg || !connectionsArg) throw new Error('usage: bare-relay.ts <receiver-url> <fan-out> <connections>');
const target = new URL(receiverUrl);
const fanOut = Number(fanOutArg);
const pool = new Pool(target.origin, { connections: Number(connectionsArg), pipelining: 1, keepAliveTimeout: 30_000 });
let failed = 0;

function forward(id: string, body: Buffer): void {
  pool.request({
    path: target.pathname, method: 'POST', body,
    headers: { 'content-type': 'application/json', 'webhook-id': id },
  }).then((response) => response.body.dump(), () => {
    failed++;
  });
}

const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const id = randomUUID();
    const body = Buffer.concat(chunks);
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end(`{"event_id":"${id}"}`);
    const copies = request.url?.startsWith('/api/v1/events') ? fanOut : 1;
    for (let i = 0; i < copies; i++) forward(id, body);
  });
});

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  if (failed > 0) process.stderr.write(`bare relay: ${failed} forwards failed\n`);
  process.exit(0);
});
process.on('SIGINT', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.send?.({ type: 'ready', port: address.port });
});
