// Retention deletes finished deliveries, their attempts and their events once they are older
// than the retention period, and never touches unfinished ones.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CIRCUIT_DEFAULTS } from '../src/domain/index.ts';
import type { App } from '../src/app.ts';
import { countRows, withRawDb } from './support/raw-db.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const HOUR = 3_600_000;

for (const name of STORE_NAMES) {
  describe(`retention (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let now = Date.parse('2026-03-01T00:00:00Z');

    before(async () => {
      target = newTarget(name);
      // API only: no workers, so the test decides every delivery's fate.
      app = await startTestApp(target, { role: 'api', clock: () => now, config: { retentionHours: 72 } });
    });
    after(async () => {
      await app.close();
      await target.cleanup();
    });

    async function inject(method: 'POST' | 'GET' | 'DELETE', url: string, payload?: object) {
      return app.server!.inject({ method, url: `/api/v1${url}`, ...(payload && { payload }) });
    }

    async function count(table: string): Promise<number> {
      return withRawDb(target, (db) => countRows(db, table));
    }

    test('only terminal deliveries older than the period go, with their attempts and events', async () => {
      const sub = (await inject('POST', '/subscriptions', { target_url: 'https://example.com/hook', event_types: ['keep.*'] })).json().id;
      const doomed = (await inject('POST', '/subscriptions', { target_url: 'https://example.com/other' })).json().id;

      // Old rows, created 80 hours before the pass.
      const oldFiltered = (await inject('POST', `/ingest/${sub}`, { event_type: 'other.thing' })).json();
      const oldQueued = (await inject('POST', `/ingest/${sub}`, { event_type: 'keep.waiting' })).json();
      const oldSucceeded = (await inject('POST', `/ingest/${sub}`, { event_type: 'keep.sent' })).json();
      const oldCancelled = (await inject('POST', `/ingest/${doomed}`, { event_type: 'x' })).json();
      assert.equal((await inject('DELETE', `/subscriptions/${doomed}`)).statusCode, 204);
      const claimed = await app.store.queue.claimDue({ now, limit: 10, leaseToken: 'test', leaseExpiresAt: now + 60_000, circuitCooldownMs: CIRCUIT_DEFAULTS.cooldownMs });
      const sent = claimed.find((c) => c.delivery.id === oldSucceeded.delivery_id)!;
      await app.store.queue.recordAttempts([{
        deliveryId: sent.delivery.id, subscriptionId: sent.delivery.subscriptionId, leaseToken: 'test', status: 'succeeded', nextAttemptAt: null,
        attempt: { id: '01a00000-0000-7000-8000-0000000000aa', deliveryId: sent.delivery.id, attemptNumber: 1, outcome: 'success', statusCode: 200, errorDetails: null, durationMs: 5, responseBody: 'ok', requestHeaders: {}, trigger: 'scheduled', createdAt: now },
      }], CIRCUIT_DEFAULTS);
      // The waiting one goes back to the queue: unfinished, however old.
      const waiting = claimed.find((c) => c.delivery.id === oldQueued.delivery_id)!;
      await app.store.queue.recordAttempts([{
        deliveryId: waiting.delivery.id, subscriptionId: waiting.delivery.subscriptionId, leaseToken: 'test', status: 'queued', nextAttemptAt: now + 1000 * HOUR,
        attempt: { id: '01a00000-0000-7000-8000-0000000000ab', deliveryId: waiting.delivery.id, attemptNumber: 1, outcome: 'http_error', statusCode: 500, errorDetails: 'HTTP 500', durationMs: 5, responseBody: null, requestHeaders: {}, trigger: 'scheduled', createdAt: now },
      }], CIRCUIT_DEFAULTS);

      now += 80 * HOUR;
      const recent = (await inject('POST', `/ingest/${sub}`, { event_type: 'other.recent' })).json();
      const attemptsBefore = await count('attempts');
      assert.equal(attemptsBefore, 2);

      const deleted = await app.retention.runOnce();
      assert.equal(deleted, 3);
      const status = async (id: string) => (await inject('GET', `/deliveries/${id}`)).statusCode;
      assert.equal(await status(oldFiltered.delivery_id), 404);
      assert.equal(await status(oldSucceeded.delivery_id), 404);
      assert.equal(await status(oldCancelled.delivery_id), 404);
      assert.equal(await status(oldQueued.delivery_id), 200);
      assert.equal(await status(recent.delivery_id), 200);
      assert.equal(await count('attempts'), 1, 'the succeeded delivery\'s attempt goes with it');
      assert.equal(await app.store.deliveryLog.getEvent(oldFiltered.event_id), undefined);
      assert.ok(await app.store.deliveryLog.getEvent(oldQueued.event_id), 'the waiting delivery keeps its event');
      assert.ok(await app.store.deliveryLog.getEvent(recent.event_id));
      // The deleted subscription had nothing left to show, so it is purged too.
      assert.equal(await count('subscriptions'), 1);
      assert.equal(await app.retention.runOnce(), 0);
    });
  });
}
