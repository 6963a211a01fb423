// What a settled attempt result writes besides its queue row: the attempt, and when the
// delivery finished, its row in the delivery log (built from its queue row as it was).
import type { Delivery } from '../../domain/index.ts';
import type { AttemptResult } from '../contracts.ts';
import type { QueueRecord } from '../dialect.ts';
import { finishedRow, fromAttempt, fromQueueRow } from '../rows.ts';

export function settledRows(result: AttemptResult, row: QueueRecord) {
  const { attempt } = result;
  const at = attempt.createdAt;
  const attemptRow = fromAttempt(attempt, row.subscription_id as string, row.event_type as string);
  if (result.status !== 'succeeded' && result.status !== 'failed') return { attemptRow, finished: null };
  const delivery: Delivery = { ...fromQueueRow(row, false), status: result.status, attempts: Number(row.attempts) + 1, lastAttemptAt: at, updatedAt: at };
  return { attemptRow, finished: finishedRow(delivery) };
}
