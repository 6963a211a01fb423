// The batcher behind group commit: what arrives together is flushed together, each submitter
// gets its own result, and with a linger an idle batcher waits for company before flushing.
// The linger is a schedule, so those tests run it on mocked timers; the others order events
// with promises the test resolves, never with sleeps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../src/batcher.ts';

/** A flush that records its batches and answers each item with its double. */
function recorder() {
  const batches: number[][] = [];
  const flush = async (items: number[]) => {
    batches.push([...items]);
    return items.map((n) => n * 2);
  };
  return { batches, flush };
}

/** A flush that records its batches and finishes only when the test releases it. */
function gatedRecorder() {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  const waiting: { count: number; resolve(): void }[] = [];
  const flush = async (items: number[]) => {
    batches.push([...items]);
    for (const waiter of waiting.filter((w) => batches.length >= w.count)) waiter.resolve();
    await new Promise<void>((resolve) => releases.push(resolve));
    return items.map((n) => n * 2);
  };
  return {
    batches,
    flush,
    /** Resolves once `count` flushes have begun. */
    begun(count: number): Promise<void> {
      if (batches.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiting.push({ count, resolve }));
    },
    /** Lets every flush begun so far finish. */
    release(): void {
      releases.splice(0).forEach((release) => release());
    },
  };
}

/** One turn of the event loop: what was scheduled with setImmediate before has run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('flushes what is submitted in one turn together, and each submitter gets its own result', async () => {
    const { batches, flush } = recorder();
    const batcher = new Batcher(flush, { maxBatch: 10 });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    assert.deepEqual(results, [2, 4, 6]);
    assert.deepEqual(batches, [[1, 2, 3]]);
  });

  it('collects what arrives during a flush into the next one, at most maxBatch at a time', async () => {
    const gate = gatedRecorder();
    const batcher = new Batcher(gate.flush, { maxBatch: 2 });
    const first = batcher.submit(1);
    await gate.begun(1);
    const rest = [2, 3, 4].map((n) => batcher.submit(n));
    await nextTurn();
    assert.deepEqual(gate.batches, [[1]], 'nothing else is flushed while a flush runs');
    gate.release();
    await gate.begun(2);
    assert.deepEqual(gate.batches, [[1], [2, 3]]);
    gate.release();
    await gate.begun(3);
    gate.release();
    assert.deepEqual(await Promise.all([first, ...rest]), [2, 4, 6, 8]);
    assert.deepEqual(gate.batches, [[1], [2, 3], [4]]);
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

  describe('with a linger', () => {
    it('waits that long on an idle batcher so that items trickling in share a flush', async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      const { batches, flush } = recorder();
      const batcher = new Batcher(flush, { maxBatch: 10, lingerMs: 60 });
      const first = batcher.submit(1);
      await nextTurn();
      t.mock.timers.tick(20);
      const second = batcher.submit(2);
      await nextTurn();
      t.mock.timers.tick(39);
      await nextTurn();
      assert.deepEqual(batches, [], 'no flush before the linger is over');
      t.mock.timers.tick(1);
      assert.deepEqual(await Promise.all([first, second]), [2, 4]);
      assert.deepEqual(batches, [[1, 2]]);
    });

    it('flushes a full batch at once', async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      const { batches, flush } = recorder();
      const batcher = new Batcher(flush, { maxBatch: 3, lingerMs: 10_000 });
      const results = [1, 2, 3].map((n) => batcher.submit(n));
      // No timer moves: only a flush that does not wait for the linger can have run.
      await nextTurn();
      assert.deepEqual(batches, [[1, 2, 3]]);
      assert.deepEqual(await Promise.all(results), [2, 4, 6]);
    });
  });
});
