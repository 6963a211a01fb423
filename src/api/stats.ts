// The dashboard's figures in one request: deliveries, attempt outcomes and latency over a
// window, the queue, time-bucketed series for the charts, and the subscriptions that need a look.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { ATTEMPT_OUTCOMES } from '../domain/index.ts';
import type { ReadModels, StatsRange } from '../store/contracts.ts';
import { DestinationView, destinationView } from './destinations.ts';
import { ApplicationFilter, Timestamp, errorResponses, iso } from './schemas.ts';

const HOUR_MS = 3_600_000;
const LIST_LIMIT = 10;

/** Each window and the width of its chart buckets: 60 one-minute or 96 fifteen-minute buckets. */
const WINDOWS = {
  '1h': { spanMs: HOUR_MS, bucketMs: 60_000 },
  '24h': { spanMs: 24 * HOUR_MS, bucketMs: 15 * 60_000 },
} as const;
type WindowName = keyof typeof WINDOWS;

const StatsQuery = Type.Object({
  window: Type.Optional(Type.Enum(Object.keys(WINDOWS) as WindowName[], { default: '1h', description: 'The span of the attempt figures and series.' })),
  application: Type.Optional(ApplicationFilter),
}, { additionalProperties: false });
type StatsQuery = Static<typeof StatsQuery>;

const NullableMs = Type.Union([Type.Integer(), Type.Null()]);

const Stats = Type.Object({
  window: Type.Enum(Object.keys(WINDOWS) as WindowName[]),
  from: Timestamp,
  to: Timestamp,
  deliveries: Type.Object({
    last_hour: Type.Integer({ description: 'Deliveries created in the last hour.' }),
    last_24h: Type.Integer({ description: 'Deliveries created in the last 24 hours.' }),
  }),
  attempts: Type.Object({
    total: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer({ description: 'Attempts with any outcome but success.' }),
    by_outcome: Type.Object(Object.fromEntries(ATTEMPT_OUTCOMES.map((o) => [o, Type.Integer()]))),
    success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'Succeeded / total; null without attempts.' }),
    latency_ms: Type.Object({ p50: NullableMs, p95: NullableMs }, { description: 'Nearest-rank percentiles of attempt duration.' }),
  }, { description: 'Attempts made from `from` to `to`.' }),
  queue: Type.Object({
    depth: Type.Integer({ description: 'Deliveries queued or being delivered.' }),
    due_now: Type.Integer(),
    in_flight: Type.Integer(),
    oldest_due_age_seconds: Type.Number({ description: 'How long the oldest due delivery has waited.' }),
  }),
  series: Type.Object({
    start: Timestamp,
    bucket_seconds: Type.Integer(),
    attempts: Type.Array(Type.Integer()),
    failures: Type.Array(Type.Integer()),
    p95_ms: Type.Array(NullableMs),
  }, { description: 'Per bucket from `start`, oldest first; the last bucket is the current, partial one.' }),
  subscriptions: Type.Object({
    failing: Type.Array(Type.Object({
      id: Type.String(),
      target_url: Type.Union([Type.String(), Type.Null()]),
      destination: DestinationView,
      failures: Type.Integer({ description: 'Failed attempts in the window.' }),
      last_failure_at: Timestamp,
    }), { description: `Up to ${LIST_LIMIT} subscriptions with failed attempts in the window, most failures first.` }),
    inactive: Type.Array(Type.Object({
      id: Type.String(),
      target_url: Type.Union([Type.String(), Type.Null()]),
      destination: DestinationView,
      updated_at: Timestamp,
      disabled_reason: Type.Union([Type.String(), Type.Null()], { description: 'Why hookd disabled it; null when an operator did.' }),
    }), { description: `Up to ${LIST_LIMIT} inactive subscriptions, most recently changed first.` }),
    inactive_total: Type.Integer(),
  }),
}, { examples: [statsExample()] });

function statsExample() {
  const buckets = 60;
  const attempts = Array.from({ length: buckets }, (_, i) => (i < 55 ? 0 : 4));
  return {
    window: '1h',
    from: '2025-06-01T11:01:00.000Z',
    to: '2025-06-01T12:00:30.000Z',
    deliveries: { last_hour: 20, last_24h: 310 },
    attempts: {
      total: 20, succeeded: 18, failed: 2,
      by_outcome: { success: 18, http_error: 1, timeout: 1, network_error: 0, blocked: 0, rejected: 0 },
      success_rate: 0.9,
      latency_ms: { p50: 42, p95: 180 },
    },
    queue: { depth: 3, due_now: 0, in_flight: 1, oldest_due_age_seconds: 0 },
    series: {
      start: '2025-06-01T11:01:00.000Z',
      bucket_seconds: 60,
      attempts,
      failures: attempts.map((n, i) => (i === 58 && n > 0 ? 2 : 0)),
      p95_ms: attempts.map((n) => (n > 0 ? 180 : null)),
    },
    subscriptions: {
      failing: [{ id: '0197a3c2-5f10-7c3e-8a41-2b9d6e0f4a11', target_url: 'https://example.com/webhooks/hookd', destination: null, failures: 2, last_failure_at: '2025-06-01T11:58:10.000Z' }],
      inactive: [],
      inactive_total: 0,
    },
  };
}

/** Whole buckets ending with the one that holds `now`, covering at least the window. */
function statsRange(window: WindowName, now: number): StatsRange {
  const { spanMs, bucketMs } = WINDOWS[window];
  const end = now - (now % bucketMs) + bucketMs;
  return { from: end - spanMs, to: end, bucketMs };
}

export const statsRoutes = ({ readModels, clock }: { readModels: ReadModels; clock: () => number }): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get('/stats', {
    schema: {
      tags: ['health'], summary: 'Dashboard figures: deliveries, attempt outcomes and latency, queue, series, subscriptions to look at',
      querystring: StatsQuery,
      response: { 200: Stats, ...errorResponses },
    },
  }, async (request) => {
    const window = (request.query as StatsQuery).window ?? '1h';
    const now = clock();
    const range = statsRange(window, now);
    // One application's figures (?application=, or an application's key): counted from its rows.
    const app = request.scope.visible ?? undefined;
    const [lastHour, lastDay, attempts, queue, failing, inactive] = await Promise.all([
      readModels.countDeliveriesSince(now - HOUR_MS, app),
      readModels.countDeliveriesSince(now - 24 * HOUR_MS, app),
      readModels.attemptStats(range, app),
      app === undefined ? readModels.queueFigures(now) : readModels.applicationQueueFigures(app, now),
      readModels.failingSubscriptions(range.from, range.to, LIST_LIMIT, app),
      readModels.inactiveSubscriptions(LIST_LIMIT, app),
    ]);
    const total = Object.values(attempts.byOutcome).reduce((sum, n) => sum + n, 0);
    const succeeded = attempts.byOutcome.success;
    const count = (range.to - range.from) / range.bucketMs;
    const series = { attempts: new Array<number>(count).fill(0), failures: new Array<number>(count).fill(0), p95_ms: new Array<number | null>(count).fill(null) };
    for (const bucket of attempts.buckets) {
      const i = (bucket.start - range.from) / range.bucketMs;
      series.attempts[i] = bucket.attempts;
      series.failures[i] = bucket.failures;
      series.p95_ms[i] = bucket.p95Ms;
    }
    return {
      window,
      from: iso(range.from),
      to: iso(Math.min(now, range.to)),
      deliveries: { last_hour: lastHour, last_24h: lastDay },
      attempts: {
        total,
        succeeded,
        failed: total - succeeded,
        by_outcome: attempts.byOutcome,
        success_rate: total === 0 ? null : succeeded / total,
        latency_ms: { p50: attempts.p50Ms, p95: attempts.p95Ms },
      },
      queue: {
        depth: queue.depth,
        due_now: queue.dueNow,
        in_flight: queue.inFlight,
        oldest_due_age_seconds: queue.oldestDueAgeMs / 1000,
      },
      series: { start: iso(range.from), bucket_seconds: range.bucketMs / 1000, ...series },
      subscriptions: {
        failing: failing.map((s) => ({ id: s.id, target_url: s.targetUrl, destination: destinationView(s.destination), failures: s.failures, last_failure_at: iso(s.lastFailureAt) })),
        inactive: inactive.items.map((s) => ({ id: s.id, target_url: s.targetUrl, destination: destinationView(s.destination), updated_at: iso(s.updatedAt), disabled_reason: s.disabledReason })),
        inactive_total: inactive.total,
      },
    };
  });
};
