// The queue: due deliveries, leased to workers in fair batches, and the attempts' outcomes
// written back under the lease (fenced: a worker whose lease expired and was taken over
// cannot overwrite the newer result). How leases are taken and held differs by database
// (Dialect.leases: in memory on SQLite, in the rows on PostgreSQL); what an outcome writes
// is the same on both: a finished delivery leaves the queue for the delivery log, with its
// attempt, its subscription's circuit and the counters, in one transaction.
import type { CircuitPolicy, NewEvent } from '../../domain/index.ts';
import type { AttemptResult, ClaimRequest, ClaimedDelivery, Lease, Queue, RecordedAttempt } from '../contracts.ts';
import { CounterChanges, counterName, latencyBucket } from '../counters.ts';
import type { SqlContext } from '../sql-context.ts';
import { moveCircuits } from './circuits.ts';
import { insertNotice, queuesWork } from './outbox.ts';

export class SqlQueue implements Queue {
  readonly #ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.#ctx = ctx;
  }

  #due(): void {
    this.#ctx.dialect.notifier.publish('deliveries-due', '');
  }

  onDue(listener: () => void): () => void {
    return this.#ctx.dialect.notifier.subscribe('deliveries-due', () => listener());
  }

  async enqueue(items: readonly NewEvent[]): Promise<void> {
    if (items.length === 0) return;
    const { db, dialect } = this.#ctx;
    await dialect.appendEvents(db, items);
    if (queuesWork(items)) this.#due();
  }

  claimDue(request: ClaimRequest): Promise<ClaimedDelivery[]> {
    return this.#ctx.dialect.leases.claim(request);
  }

  async recordAttempts(results: readonly AttemptResult[], circuit: CircuitPolicy): Promise<RecordedAttempt[]> {
    if (results.length === 0) return [];
    const { db, dialect } = this.#ctx;
    let recorded: RecordedAttempt[];
    try {
      recorded = await dialect.relaxedTransaction(db, async (trx) => {
        const taken = await dialect.leases.record(trx, results);
        if (taken.size === 0) return results.map(() => ({ written: false, failingSince: null }));
        const changes = new CounterChanges();
        const written = [...taken.keys()].map((index) => results[index]!);
        countOutcomes(written, changes);
        for (const result of written) if (result.notice) await insertNotice(trx, result.notice, changes);
        const failingSince = await moveCircuits(trx, written, circuit);
        await dialect.addToCounters(trx, changes.rows);
        return results.map((r, i) => ({
          written: taken.has(i),
          failingSince: taken.has(i) && r.attempt.outcome !== 'success' ? failingSince.get(r.subscriptionId) ?? null : null,
        }));
      });
    } finally {
      dialect.leases.ended(results);
    }
    if (results.some((r, i) => recorded[i]!.written && (r.status === 'queued' || r.notice?.delivery))) this.#due();
    return recorded;
  }

  async releaseLeases(leases: readonly Lease[], now: number): Promise<number> {
    const released = await this.#ctx.dialect.leases.release(leases, now);
    if (released > 0) this.#due();
    return released;
  }

  join(): Promise<void> {
    return this.#ctx.dialect.leases.join();
  }

  nextDueAt(now: number): Promise<number | null> {
    return this.#ctx.dialect.leases.nextDueAt(now);
  }
}

/** What recorded attempts change in the counters. */
function countOutcomes(written: readonly AttemptResult[], changes: CounterChanges): void {
  for (const result of written) {
    const { attempt } = result;
    const at = attempt.createdAt;
    changes.timed(counterName.attempts(attempt.outcome), at);
    changes.timed(counterName.latency(latencyBucket(attempt.durationMs)), at);
    if (attempt.outcome !== 'success') changes.timed(counterName.failures(result.subscriptionId), at, 1, true);
    if (result.status === 'succeeded' || result.status === 'failed') {
      changes.moved('queued', result.status);
      changes.timed(counterName.finished(result.status), at);
    }
  }
}
