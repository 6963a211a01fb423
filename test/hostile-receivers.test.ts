// Receivers that misbehave on purpose, all on 127.0.0.1: one that never answers, ones that
// trickle their headers or body a byte a second, a 1 GB body, an endless chunked body, a gzip
// bomb, and a self-signed certificate. Each attempt must end within the configured timeout,
// memory must stay flat, and the outcome must be recorded as what happened.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import type { App } from '../src/app.ts';
import { call, finished } from './support/api.ts';
import { startReceiver, type Receiver, type Responder } from './support/receiver.ts';
import { SELF_SIGNED_CERT, SELF_SIGNED_KEY } from './support/self-signed-tls.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const REQUEST_TIMEOUT_MS = 1000;
const CONNECT_TIMEOUT_MS = 500;
/** Time for hookd to notice the end and record it, beyond the timeout itself. */
const SLACK_MS = 1500;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Writes `total` bytes (or forever) as fast as the client reads them, and stops when it goes away. */
function flood(total: number | null, headers: Record<string, string | number>, chunk: Buffer): Responder {
  return (_req, res) => {
    res.writeHead(200, headers);
    let sent = 0;
    const pump = () => {
      while (!res.destroyed && (total === null || sent < total)) {
        const part = total === null ? chunk : chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
}

/** One byte a second after the status line (or instead of it), until the client goes away. */
function trickle(beforeHeaders: boolean): Responder {
  return (_req, res) => {
    const socket = res.socket!;
    if (!beforeHeaders) res.writeHead(200, { 'content-type': 'text/plain' }).write('a');
    else socket.write('HTTP/1.1 2');
    const timer = setInterval(() => (beforeHeaders ? socket.write('0') : res.write('a')), 1000);
    socket.once('close', () => clearInterval(timer));
  };
}

/** 1 GiB of zeros as concatenated gzip members of 1 MiB each (about 1 MB on the wire). */
function gzipBomb(): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(MIB), { level: 9 });
  return Buffer.concat(Array.from({ length: 1024 }, () => member));
}

for (const name of STORE_NAMES) {
  describe(`hostile receivers (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, {
        config: { allowNetworks: ['127.0.0.0/8'], requestTimeoutMs: REQUEST_TIMEOUT_MS, connectTimeoutMs: CONNECT_TIMEOUT_MS, pollIntervalMs: 50 },
      });
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await app.close();
      await target.cleanup();
    });

    /** Sends one event to `url` (one attempt, no retries) and returns that attempt once recorded. */
    async function attempt(url: string) {
      const created = await call(app, 'POST', '/subscriptions', { target_url: url, retry_policy: { max_attempts: 1 } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const started = Date.now();
      const ingested = await call(app, 'POST', `/ingest/${created.body.id}`, { event_type: 'hostile.test' });
      const delivery = await finished(app, ingested.body.delivery_id, REQUEST_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 5000);
      const elapsed = Date.now() - started;
      assert.equal(delivery.logs.length, 1);
      const log = delivery.logs[0];
      assert.ok(log.duration_ms <= REQUEST_TIMEOUT_MS + SLACK_MS, `the attempt took ${log.duration_ms} ms`);
      assert.ok(elapsed <= REQUEST_TIMEOUT_MS + CONNECT_TIMEOUT_MS + 2 * SLACK_MS, `recorded after ${elapsed} ms`);
      return { delivery, log };
    }

    test('a receiver that never answers: timeout', async () => {
      receiver.respond(() => {});
      const { delivery, log } = await attempt(receiver.url);
      assert.equal(log.outcome, 'timeout');
      assert.equal(log.status_code, null);
      assert.equal(delivery.status, 'failed');
    });

    test('headers trickled a byte a second: timeout', async () => {
      receiver.respond(trickle(true));
      assert.equal((await attempt(receiver.url)).log.outcome, 'timeout');
    });

    test('a 200 whose body trickles a byte a second: success, ended by the timeout, keeping what arrived', async () => {
      receiver.respond(trickle(false));
      const { log } = await attempt(receiver.url);
      assert.equal(log.outcome, 'success');
      assert.equal(log.status_code, 200);
      assert.match(log.response_body, /^a+$/);
    });

    test('a 1 GB body, an endless chunked body and a gzip bomb: success, 4 KiB kept, memory flat', async () => {
      const bomb = gzipBomb();
      const cases: [string, Responder][] = [
        ['1 GB', flood(GIB, { 'content-length': GIB, 'content-type': 'text/plain' }, Buffer.alloc(64 * 1024, 'x'))],
        ['endless chunked', flood(null, { 'content-type': 'text/plain' }, Buffer.alloc(64 * 1024, 'y'))],
        ['gzip bomb', (_req, res) => void res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain', 'content-length': bomb.length }).end(bomb)],
      ];
      globalThis.gc?.();
      const rssBefore = process.memoryUsage().rss;
      for (const [what, responder] of cases) {
        receiver.respond(responder);
        const { log } = await attempt(receiver.url);
        assert.equal(log.outcome, 'success', what);
        assert.equal(log.status_code, 200, what);
        assert.ok(log.response_body.length <= 4096 && log.response_body.length > 0, `${what}: ${log.response_body.length} characters kept`);
        assert.ok(!log.response_body.includes('\u0000'), `${what}: no NUL characters stored`);
      }
      const growth = process.memoryUsage().rss - rssBefore;
      assert.ok(growth < 100 * MIB, `memory grew by ${Math.round(growth / MIB)} MiB`);
    });

    test('a self-signed certificate: network_error naming the TLS failure', async () => {
      const server = https.createServer({ key: SELF_SIGNED_KEY, cert: SELF_SIGNED_CERT }, (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { log } = await attempt(`https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
        assert.equal(log.outcome, 'network_error');
        assert.match(log.error_details, /self[- ]signed certificate/i);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
}
