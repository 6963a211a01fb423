// A new event wakes an idle dispatcher at once (in-process on SQLite, LISTEN/NOTIFY on
// PostgreSQL) instead of waiting for its next poll, which here is a minute away. Real
// receivers on loopback, both stores.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { finished, ingest, subscribe } from './support/api.ts';
import { DELIVERY_CONFIG, useDeliveryApp } from './support/delivery-app.ts';
import { eventually } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';

const POLL_INTERVAL_MS = 60_000;

for (const name of STORE_NAMES) {
  describe(`an idle dispatcher is woken by new events (${name})`, () => {
    const hookd = useDeliveryApp(name, { ...DELIVERY_CONFIG, pollIntervalMs: POLL_INTERVAL_MS });
    let app: App;
    before(() => {
      app = hookd.app;
    });

    test('each event is delivered long before the next poll would have found it', async (t) => {
      const r = await hookd.receiver();
      const sub = await subscribe(app, r.url);
      const latencies: number[] = [];
      for (let n = 0; n < 3; n++) {
        // Each time the queue is empty and the dispatcher asleep until its next poll.
        const ingested = await ingest(app, sub, { event_type: 'wake.up', data: { n } });
        const acceptedAt = Date.now();
        await eventually(() => (r.requests.length > n ? true : undefined), POLL_INTERVAL_MS / 2, `event ${n} to be delivered before a poll`);
        latencies.push(r.requests[n]!.at - acceptedAt);
        assert.equal((await finished(app, ingested.delivery_id)).status, 'succeeded');
      }
      t.diagnostic(`wake-up (${name}): delivered ${latencies.join(', ')} ms after the 202 (poll interval ${POLL_INTERVAL_MS / 1000} s)`);
    });
  });
}
