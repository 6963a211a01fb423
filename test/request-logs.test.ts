// Log lines carry the ids they concern: the request id on every line of a request, and the
// subscription, delivery and event ids on request lines and on delivery attempt lines.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { startApp } from '../src/app.ts';
import { createLogger } from '../src/logger.ts';
import { call } from './support/api.ts';
import { eventually, startReceiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, testConfig } from './support/stores.ts';

type Line = Record<string, unknown>;

for (const storeName of STORE_NAMES) {
  test(`log lines name the request, subscription, delivery and event they concern (${storeName})`, async (t) => {
    const target = newTarget(storeName);
    const lines: Line[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Line);
        callback();
      },
    });
    const config = testConfig(target, { logLevel: 'debug', allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 50 });
    const app = await startApp({ config, logger: createLogger('debug', { destination }), ...(target.schema && { schema: target.schema }) });
    const receiver = await startReceiver();
    t.after(async () => {
      await app.close();
      await receiver.close();
      await target.cleanup();
    });

    const created = await call(app, 'POST', '/subscriptions', { target_url: receiver.url });
    const ingested = (await call(app, 'POST', `/ingest/${created.body.id}`, { event_type: 'order.created' }, { 'x-request-id': 'req-under-test' })).body;
    await call(app, 'GET', `/deliveries/${ingested.delivery_id}`);

    const attempt = await eventually(() => lines.find((l) => l.msg === 'delivery attempt'), undefined, 'the attempt to be logged');
    assert.equal(attempt.deliveryId, ingested.delivery_id);
    assert.equal(attempt.eventId, ingested.event_id);
    assert.equal(attempt.subscriptionId, created.body.id);

    const ofRequest = lines.filter((l) => l.reqId === 'req-under-test');
    assert.deepEqual(ofRequest.map((l) => l.msg), ['event ingested', 'request'], 'every line of the request carries its id');
    for (const line of ofRequest) assert.equal(line.subscriptionId, created.body.id, String(line.msg));
    assert.equal(ofRequest[0]!.deliveryId, ingested.delivery_id);
    assert.equal(ofRequest[0]!.eventId, ingested.event_id);

    const read = lines.find((l) => l.msg === 'request' && l.url === `/api/v1/deliveries/${ingested.delivery_id}`);
    assert.equal(read?.deliveryId, ingested.delivery_id);
  });
}
