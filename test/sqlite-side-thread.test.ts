// The SQLite side thread: the WAL is checkpointed by a worker thread, not inside hookd's
// commits (after a burst of writes too small for SQLite's own automatic checkpoint, the
// database file still catches up with the WAL within moments, and the WAL is reused rather
// than growing); and the read models' queries run there, so the event loop keeps turning
// while they scan.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { uuidv7 } from 'uuidv7';
import { openRawDb } from './support/raw-db.ts';
import { CLOSED_CIRCUIT, DEFAULT_APPLICATION_ID } from '../src/domain/index.ts';
import type { NewEvent } from '../src/domain/index.ts';
import { newTarget, openTestStore } from './support/stores.ts';

const MB = 1024 * 1024;
/** The side thread checkpoints every 50 ms: 200 times that means it stopped, not that the machine is busy. */
const CHECKPOINT_WAIT_MS = 200 * 50;

function bigEvents(count: number, bytes: number): NewEvent[] {
  const payload = Buffer.alloc(bytes, 'x');
  return Array.from({ length: count }, () => ({
    event: { id: uuidv7(), applicationId: DEFAULT_APPLICATION_ID, eventType: 'bulk.written', payload, createdAt: Date.now() },
    deliveries: [],
  }));
}

/**
 * Whether every frame in the WAL has been copied into the database file, read from the
 * wal-index in the -shm file (https://sqlite.org/walformat.html: mxFrame at byte 16 of the
 * header, nBackfill at byte 96, in the machine's byte order) without touching the database.
 */
function walCheckpointed(file: string): boolean {
  const index = readFileSync(`${file}-shm`).subarray(0, 136);
  const u32 = (offset: number) => (endianness() === 'LE' ? index.readUInt32LE(offset) : index.readUInt32BE(offset));
  return u32(96) >= u32(16);
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

describe('SQLite side thread', () => {
  const target = newTarget('sqlite');
  after(() => target.cleanup());

  it('copies the WAL into the database file without a checkpoint on the writing connection', async () => {
    const store = await openTestStore(target);
    const file = target.database.kind === 'sqlite' ? target.database.path : '';
    try {
      const before = statSync(file).size;
      // 2 MB: half of what makes SQLite checkpoint by itself (1,000 pages of 4 KB).
      for (let i = 0; i < 8; i++) await store.queue.enqueue(bigEvents(64, 4096));
      assert.ok(await waitFor(() => statSync(file).size - before >= 2 * MB, CHECKPOINT_WAIT_MS),
        `the database file grew by ${statSync(file).size - before} bytes, not by the 2 MB written to the WAL`);
      assert.ok(await waitFor(() => walCheckpointed(file), CHECKPOINT_WAIT_MS), 'the first 2 MB were not checkpointed');

      // Once checkpointed, the WAL is written from its start again instead of growing.
      const walAfterFirst = statSync(`${file}-wal`).size;
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 8; i++) await store.queue.enqueue(bigEvents(64, 4096));
        assert.ok(await waitFor(() => walCheckpointed(file), CHECKPOINT_WAIT_MS), `round ${round + 1} was not checkpointed`);
      }
      const walAfterMore = statSync(`${file}-wal`).size;
      // Without checkpoints it would grow by all 8 MB; reused, by at most one round's frames
      // (how much of a round lands before a checkpoint restarts the WAL varies with timing).
      assert.ok(walAfterMore - walAfterFirst < 4 * MB, `the WAL grew from ${walAfterFirst} to ${walAfterMore} bytes over 8 MB of further writes`);
    } finally {
      await store.close();
    }
  });

  it('answers the read models off the event loop, with what was committed', async () => {
    const readsTarget = newTarget('sqlite');
    const store = await openTestStore(readsTarget);
    const db = openRawDb(readsTarget);
    try {
      const now = Date.now();
      const subscriptionId = uuidv7();
      await store.subscriptions.create({
        id: subscriptionId, applicationId: DEFAULT_APPLICATION_ID, targetUrl: 'https://example.com/hook', destination: null, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        eventTypes: null, description: null, active: true, requireSignedIngest: false, retryPolicy: null, headers: {},
        previousSecret: null, previousSecretExpiresAt: null, maxInFlight: 10, rateLimitPerSecond: null, ordering: 'parallel',
        filter: null, disabledReason: null, system: false, circuit: CLOSED_CIRCUIT, createdAt: now, updatedAt: now,
      });
      const [seed] = bigEvents(1, 16);
      await store.queue.enqueue([seed!]);
      // 1,200,000 finished deliveries of one event type: counting them (what a replay does before
      // it starts) takes long enough to see where it runs.
      const rows = 1_200_000;
      await sql`
        with recursive n(i) as (select 1 union all select i + 1 from n where i < ${rows})
        insert into deliveries (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
        select printf('00000000-0000-7000-8000-%012d', i), ${seed!.event.id}, ${subscriptionId}, 'bulk.written',
          case when i % 4 = 0 then 'failed' else 'succeeded' end, 1, ${now}, ${now}, ${now}
        from n`.execute(db);

      // The count on a main-thread connection: the second run, with the pages cached, is the one that counts.
      let onMainThreadMs = 0;
      for (let run = 0; run < 2; run++) {
        const mainStarted = performance.now();
        await sql`select count(*) as n from deliveries where event_type = 'bulk.written'`.execute(db);
        onMainThreadMs = performance.now() - mainStarted;
      }
      assert.ok(onMainThreadMs >= 30, `the count took only ${onMainThreadMs.toFixed(1)} ms on the main thread: too fast to tell where it runs`);

      let longestGapMs = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const at = performance.now();
        longestGapMs = Math.max(longestGapMs, at - last);
        last = at;
      }, 2);
      const counted = await store.deliveryLog.countDeliveries({ eventType: 'bulk.written' });
      clearInterval(ticker);
      longestGapMs = Math.max(longestGapMs, performance.now() - last);

      assert.equal(counted, rows);
      assert.ok(longestGapMs < onMainThreadMs / 2,
        `the event loop stood still for ${longestGapMs.toFixed(1)} ms while counting (the count alone blocks it for ${onMainThreadMs.toFixed(1)} ms)`);
    } finally {
      await store.close();
      await readsTarget.cleanup();
    }
  });
});
