// The live attempt stream under hostile clients: clients that stop reading are held to a
// bounded buffer and then closed with a `close` event (others keep every attempt), and a
// stream ends once the API key it was opened with is revoked.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { App } from '../src/app.ts';
import { apiKeyRecord, generateApiKey } from '../src/auth/api-keys.ts';
import { MAX_BUFFERED_BYTES } from '../src/api/event-stream.ts';
import { call } from './support/api.ts';
import { scrape, value } from './support/metrics.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { parseEvent, openStream, type StreamEvent } from './support/sse.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = { allowNetworks: ['127.0.0.0/8', '::1/128'] };
/** The longest event type there is, so that each streamed attempt is as large as it gets. */
const LONG_EVENT_TYPE = `order.${'x'.repeat(94)}`;
/** The feed passes on at most 2,000 attempts at once; a stream may hold one such batch beyond its bound. */
const FEED_BATCH_BYTES = 2000 * 500;

/**
 * A client that sends its request and then never reads: once the kernel's socket buffers
 * are full, everything hookd writes to it stays in hookd's memory unless hookd stops.
 */
function stalledClient(url: string, headers: Record<string, string> = {}) {
  const { hostname, port, pathname, search } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.pause();
  const lines = [`GET ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Accept: text/event-stream',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  return {
    /** Reads everything until the server ends the connection; resolves with the bytes received. */
    readToEnd(): Promise<Buffer> {
      const chunks: Buffer[] = [];
      return new Promise((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('end', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
        socket.resume();
      });
    },
    destroy: () => socket.destroy(),
  };
}

/** The events of a raw HTTP/1.1 text/event-stream response (chunked transfer encoding). */
function eventsOf(response: Buffer): StreamEvent[] {
  let at = response.indexOf('\r\n\r\n') + 4;
  const body: Buffer[] = [];
  for (;;) {
    const lineEnd = response.indexOf('\r\n', at);
    const size = Number.parseInt(response.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    body.push(response.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(body).toString('utf8').split('\n\n').map(parseEvent).filter((e): e is StreamEvent => e !== undefined);
}

for (const name of STORE_NAMES) {
  describe(`live attempt stream (${name})`, () => {
    const targets: StoreTarget[] = [];
    const apps: App[] = [];
    let receiver: Receiver;

    async function app(config: Parameters<typeof startTestApp>[1] = {}): Promise<App> {
      const target = newTarget(name);
      targets.push(target);
      const started = await startTestApp(target, { ...config, config: { ...LOOPBACK, ...config.config } });
      apps.push(started);
      return started;
    }

    before(async () => {
      receiver = await startReceiver();
    });

    after(async () => {
      for (const started of apps) await started.close();
      for (const target of targets) await target.cleanup();
      await receiver.close();
    });

    // 15,000 attempts: a client that stops reading falls behind only once the kernel's socket
    // buffers (about 4 MB on loopback) are full.
    it('closes streams whose clients stopped reading, with bounded memory, while the others get every attempt', { timeout: 300_000 }, async () => {
      const hookd = await app({ config: { workerConcurrency: 128 } });
      const subscriptions = 30;
      const events = 500;
      for (let i = 0; i < subscriptions; i++) {
        assert.equal((await call(hookd, 'POST', '/subscriptions', { target_url: receiver.url })).status, 201);
      }
      const streamUrl = `${hookd.url}/api/v1/attempts/stream`;
      const reader = await openStream(streamUrl);
      const stalled = Array.from({ length: 5 }, () => stalledClient(streamUrl));
      let watching = true;
      try {
        // What the streams hold while attempts pour in, from a scrape every quarter second
        // (scraping more often would slow the deliveries down).
        let samples = await scrape(hookd);
        let mostBuffered = 0;
        const watcher = (async () => {
          while (watching) {
            samples = await scrape(hookd);
            mostBuffered = Math.max(mostBuffered, value(samples, 'hookd_live_stream_buffered_bytes'));
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        })();
        const metric = (name: string, labels: Record<string, string> = {}) => value(samples, name, labels);
        await eventually(() => (metric('hookd_live_streams') === 1 + stalled.length ? true : undefined), 10_000, 'every stream to open');

        const deliveryIds = new Set<string>();
        let next = 0;
        const flood = Promise.all(Array.from({ length: 8 }, async () => {
          while (next < events) {
            next++;
            const answer = await call(hookd, 'POST', '/events', { event_type: LONG_EVENT_TYPE, data: { n: next } });
            assert.equal(answer.status, 202);
            for (const id of answer.body.delivery_ids) deliveryIds.add(id);
          }
        }));
        flood.catch(() => {}); // awaited below, once the stalled clients have been read

        // The stalled clients' streams were closed for lagging.
        await eventually(() => (metric('hookd_live_streams_closed_total', { reason: 'lagging' }) === stalled.length ? true : undefined), 90_000, 'the stalled streams to be closed');

        // Reading at last, a stalled client gets what was sent before it fell behind, then a
        // close event saying why, then the end of the stream.
        let lastSeen = '';
        for (const got of (await Promise.all(stalled.map((client) => client.readToEnd()))).map(eventsOf)) {
          const last = got.at(-1)!;
          assert.equal(last.event, 'close');
          assert.equal(last.data.reason, 'lagging');
          assert.match(last.data.message, /Last-Event-ID/);
          const attempts = got.filter((e) => e.event === 'attempt');
          assert.ok(attempts.length > 0 && attempts.length < deliveryIds.size, `a stalled client got ${attempts.length} of ${deliveryIds.size} attempts`);
          lastSeen = attempts.at(-1)!.id;
        }

        // The client that reads got every attempt, each once, and its stream stays open.
        await flood;
        assert.equal(deliveryIds.size, subscriptions * events);
        // (A delivery may have had a second attempt, on a machine loaded enough for one to fail.)
        await eventually(() => (new Set(reader.events.map((e) => e.data.delivery_id)).size >= deliveryIds.size ? true : undefined), 90_000, 'the reading client to get every attempt');
        assert.ok(reader.events.every((e) => e.event === 'attempt' && deliveryIds.has(e.data.delivery_id)));
        const attemptIds = reader.events.map((e) => e.id);
        assert.equal(new Set(attemptIds).size, attemptIds.length, 'each attempt is streamed once');
        assert.ok(!reader.ended, 'the reading client\'s stream stays open');
        await eventually(() => (metric('hookd_live_streams') === 1 ? true : undefined), 10_000, 'the closed streams to be gone');
        watching = false;
        await watcher;
        const bound = (1 + stalled.length) * (MAX_BUFFERED_BYTES + FEED_BATCH_BYTES);
        assert.ok(mostBuffered <= bound, `the streams held ${mostBuffered} bytes at most (bound ${bound})`);

        // Reconnecting with the last id it got, it resumes after it.
        const resumed = await openStream(streamUrl, { 'last-event-id': lastSeen });
        try {
          await eventually(() => (resumed.events.some((e) => e.event === 'attempt') ? true : undefined), 10_000, 'the resumed stream');
          assert.ok(resumed.events.every((e) => e.id > lastSeen), 'only attempts after the last one seen');
        } finally {
          await resumed.close();
        }
      } finally {
        watching = false;
        await reader.close();
        for (const client of stalled) client.destroy();
      }
    });

    it('ends a stream once its API key is revoked, and a keyless one once a key exists', async () => {
      const hookd = await app();
      const keyless = await openStream(`${hookd.url}/api/v1/attempts/stream`);
      assert.equal(keyless.response.status, 200);
      const kept = generateApiKey();
      const revoked = generateApiKey();
      const keptRecord = apiKeyRecord(kept, 'kept', Date.now());
      const revokedRecord = apiKeyRecord(revoked, 'revoked', Date.now());
      await hookd.store.apiKeys.create(keptRecord);
      await hookd.store.apiKeys.create(revokedRecord);
      await eventually(() => (keyless.ended ? true : undefined), 10_000, 'the keyless stream to end');
      assert.equal(keyless.events.at(-1)?.data.reason, 'key_required');

      const keptStream = await openStream(`${hookd.url}/api/v1/attempts/stream`, { authorization: `Bearer ${kept}` });
      const revokedStream = await openStream(`${hookd.url}/api/v1/attempts/stream`, { authorization: `Bearer ${revoked}` });
      try {
        assert.equal(keptStream.response.status, 200);
        assert.equal(revokedStream.response.status, 200);
        // As `hookd keys revoke` does, in the database.
        assert.ok(await hookd.store.apiKeys.revoke(revokedRecord.id, Date.now()));
        await eventually(() => (revokedStream.ended ? true : undefined), 5000, 'the stream of the revoked key to end');
        const last = revokedStream.events.at(-1)!;
        assert.equal(last.event, 'close');
        assert.equal(last.data.reason, 'key_revoked');
        assert.equal(value(await scrape(hookd, { authorization: `Bearer ${kept}` }), 'hookd_live_streams_closed_total', { reason: 'key_revoked' }), 1);

        // The other key's stream still flows.
        const sub = await call(hookd, 'POST', '/subscriptions', { target_url: receiver.url }, { authorization: `Bearer ${kept}` });
        const sent = await call(hookd, 'POST', `/ingest/${sub.body.id}`, { event_type: 'order.created', data: {} }, { authorization: `Bearer ${kept}` });
        await eventually(() => keptStream.events.find((e) => e.data.delivery_id === sent.body.delivery_id), 10_000, 'the attempt on the kept stream');
        assert.ok(!keptStream.ended);
      } finally {
        await keptStream.close();
        await revokedStream.close();
      }
    });
  });
}
