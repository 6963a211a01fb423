// The batcher behind group commit: what arrives together is flushed together, each submitter
// gets its own result, and with a linger an idle batcher waits for company before flushing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Batcher } from '../src/batcher.ts';

/** A flush that records its batches and answers each item with its double, after `ms`. */
function recorder(ms = 0) {
  const batches: number[][] = [];
  const flush = async (items: number[]) => {
    batches.push([...items]);
    if (ms > 0) await sleep(ms);
    return items.map((n) => n * 2);
  };
  return { batches, flush };
}

describe('Batcher', () => {
  it('flushes what is submitted in one turn together, and each submitter gets its own result', async () => {
    const { batches, flush } = recorder();
    const batcher = new Batcher(flush, { maxBatch: 10 });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    assert.deepEqual(results, [2, 4, 6]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it('collects what arrives during a flush into the next one, at most maxBatch at a time', async () => {
    const { batches, flush } = recorder(30);
    const batcher = new Batcher(flush, { maxBatch: 2 });
    const first = batcher.submit(1);
    await sleep(5); // the first flush is running now
    const rest = [2, 3, 4].map((n) => batcher.submit(n));
    await Promise.all([first, ...rest]);
    assert.deepEqual(batches, [[1], [2, 3], [4]]);
  });

  it('rejects every item of a batch whose flush failed, and goes on with the next', async () => {
    let calls = 0;
    const batcher = new Batcher(async (items: number[]) => {
      calls++;
      if (calls === 1) throw new Error('database gone');
      return items;
    }, { maxBatch: 10 });
    const failed = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(await batcher.submit(3), 3);
  });

  it('with a linger, waits that long on an idle batcher so that items trickling in share a flush', async () => {
    const { batches, flush } = recorder();
    const batcher = new Batcher(flush, { maxBatch: 10, lingerMs: 60 });
    const started = performance.now();
    const first = batcher.submit(1);
    await sleep(20);
    const second = batcher.submit(2);
    await Promise.all([first, second]);
    assert.deepEqual(batches, [[1, 2]]);
    assert.ok(performance.now() - started >= 55, 'the flush waited for the linger');
  });

  it('with a linger, flushes a full batch at once', async () => {
    const { batches, flush } = recorder();
    const batcher = new Batcher(flush, { maxBatch: 3, lingerMs: 10_000 });
    const started = performance.now();
    await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    assert.deepEqual(batches, [[1, 2, 3]]);
    assert.ok(performance.now() - started < 1000, 'a full batch does not wait for the linger');
  });
});
