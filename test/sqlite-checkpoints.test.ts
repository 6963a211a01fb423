// SQLite's WAL is checkpointed by a worker thread, not inside hookd's commits: after a burst
// of writes too small for SQLite's own automatic checkpoint, the database file still catches
// up with the WAL within moments, and the WAL is reused rather than growing.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { uuidv7 } from 'uuidv7';
import type { NewEvent } from '../src/store/store.ts';
import { newTarget, openTestStore } from './support/stores.ts';

const MB = 1024 * 1024;

function bigEvents(count: number, bytes: number): NewEvent[] {
  const payload = Buffer.alloc(bytes, 'x');
  return Array.from({ length: count }, () => ({
    event: { id: uuidv7(), eventType: 'bulk.written', payload, createdAt: Date.now() },
    deliveries: [],
  }));
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

describe('SQLite background checkpoints', () => {
  const target = newTarget('sqlite');
  after(() => target.cleanup());

  it('copies the WAL into the database file without a checkpoint on the writing connection', async () => {
    const store = await openTestStore(target);
    const file = target.database.kind === 'sqlite' ? target.database.path : '';
    try {
      const before = statSync(file).size;
      // 2 MB: half of what makes SQLite checkpoint by itself (1,000 pages of 4 KB).
      for (let i = 0; i < 8; i++) await store.insertEvents(bigEvents(64, 4096));
      assert.ok(await waitFor(() => statSync(file).size - before >= 2 * MB, 3000),
        `the database file grew by ${statSync(file).size - before} bytes, not by the 2 MB written to the WAL`);

      // Once checkpointed, the WAL is written from its start again instead of growing.
      const walAfterFirst = statSync(`${file}-wal`).size;
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 8; i++) await store.insertEvents(bigEvents(64, 4096));
        await sleep(200);
      }
      const walAfterMore = statSync(`${file}-wal`).size;
      assert.ok(walAfterMore <= walAfterFirst + 2 * MB, `the WAL grew from ${walAfterFirst} to ${walAfterMore} bytes over 8 MB of further writes`);
    } finally {
      await store.close();
    }
  });
});
