// The live tail: every newly recorded attempt as a Server-Sent Event, whichever hookd process
// made it. A reconnecting client sends Last-Event-ID and gets what it missed first. A stream
// holds a bounded number of bytes for a slow client (event-stream.ts), and is closed once the
// key it was opened with is revoked (stream-access.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { Metrics } from '../metrics.ts';
import type { AttemptSummary } from '../store/contracts.ts';
import { AttemptFeed, type AttemptSource } from './attempt-feed.ts';
import type { RequestAuth } from './auth.ts';
import { ApiError } from './errors.ts';
import { EventStream } from './event-stream.ts';
import { StreamAccessCheck } from './stream-access.ts';
import { ApplicationFilter, ErrorSchema, errorResponses, iso, isUuid } from './schemas.ts';

const HEARTBEAT_MS = 15_000;
const RECONNECT_MS = 2000;
const READY_WAIT_MS = 2000;
/** On shutdown, how long a stream's last bytes may take before its connection is cut. */
const SHUTDOWN_GRACE_MS = 1000;
/** Most attempts replayed to a client that reconnects with Last-Event-ID. */
const RESUME_LIMIT = 500;

const StreamQuery = Type.Object({
  backlog: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 0, description: 'Send this many of the most recent attempts first.' })),
  application: Type.Optional(ApplicationFilter),
}, { additionalProperties: false });
type StreamQuery = Static<typeof StreamQuery>;

const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ description: 'The id of the last event received: the attempts after it are sent first.' })),
});

const AttemptEvent = Type.Object({
  id: Type.String(),
  delivery_id: Type.String(),
  subscription_id: Type.String(),
  event_type: Type.String(),
  attempt_number: Type.Integer(),
  outcome: Type.String(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Integer(),
  trigger: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
}, {
  description: 'The data of each `attempt` event, as JSON; the event id is the attempt id.',
  examples: [{
    id: '0197a3c2-8a10-7f01-b2c4-9d3e5f6a7b8c',
    delivery_id: '0197a3c2-7d42-7e19-9c55-5a7c3e91b0f2',
    subscription_id: '0197a3c2-5f10-7c3e-8a41-2b9d6e0f4a11',
    event_type: 'order.created',
    attempt_number: 1,
    outcome: 'success',
    status_code: 200,
    duration_ms: 42,
    trigger: 'scheduled',
    created_at: '2025-06-01T12:00:01.000Z',
  }],
});

function attemptEvent(a: AttemptSummary): string {
  const data = {
    id: a.id,
    delivery_id: a.deliveryId,
    subscription_id: a.subscriptionId,
    event_type: a.eventType,
    attempt_number: a.attemptNumber,
    outcome: a.outcome,
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    trigger: a.trigger,
    created_at: iso(a.createdAt),
  };
  return `id: ${a.id}\nevent: attempt\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface LiveDeps {
  attempts: AttemptSource;
  metrics: Pick<Metrics, 'observeLiveStreams' | 'liveStreamClosed'>;
  /** Open streams are closed when the key that opened them is revoked. */
  keys: KeyVerifier;
}

export const liveRoutes = ({ attempts, metrics, keys }: LiveDeps): FastifyPluginAsync => async (app) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const feed = new AttemptFeed(attempts, app.log);
  const open = new Map<EventStream, RequestAuth | undefined>();
  const access = new StreamAccessCheck(keys, open, app.log);
  metrics.observeLiveStreams(() => {
    let bufferedBytes = 0;
    for (const stream of open.keys()) bufferedBytes += stream.bufferedBytes;
    return { open: open.size, bufferedBytes };
  });

  let closing = false;

  // Open streams would hold graceful shutdown forever: end them first.
  app.addHook('preClose', async () => {
    closing = true;
    access.stop();
    for (const stream of open.keys()) stream.close('shutting_down', 'hookd is shutting down; reconnect shortly.', SHUTDOWN_GRACE_MS);
    await feed.close();
  });

  api.get('/attempts/stream', {
    schema: {
      tags: ['deliveries'], summary: 'New attempts as they are recorded (Server-Sent Events)',
      description: 'Each new attempt is an `attempt` event whose id is the attempt id. When hookd ends the stream it sends a last '
        + '`close` event, `{"reason", "message"}`: `lagging` (the client fell more than 512 KiB behind: reconnect with Last-Event-ID), '
        + '`key_revoked` (the API key was revoked), `key_required` (opened without a key, and a key now exists) or `shutting_down`.',
      querystring: StreamQuery,
      headers: StreamHeaders,
      response: {
        200: { description: 'An event stream: one `attempt` event per attempt.', content: { 'text/event-stream': { schema: AttemptEvent } } },
        ...errorResponses,
        403: ErrorSchema,
      },
    },
    // Streams outlive the request; a portal session's revocation must end everything at once.
    config: { noPortal: true },
  }, async (request, reply) => {
    const resumeAfter = request.headers['last-event-id'];
    const backlog = (request.query as StreamQuery).backlog ?? 0;
    // An application's stream carries its attempts only.
    const applicationId = request.scope.visible ?? undefined;
    const res = reply.raw;
    const stream = new EventStream(res, (reason) => metrics.liveStreamClosed(reason));
    // Listen before answering and before reading what came earlier, so that nothing falls
    // between them: attempts arriving meanwhile wait until the earlier ones are written, and
    // the feed may yet report one of those earlier ones, so their ids are kept to skip it.
    const earlier = new Set<string>();
    let waiting: AttemptSummary[] | null = [];
    const send = (attempts: AttemptSummary[]) => {
      stream.send(attempts
        .filter((attempt) => !earlier.has(attempt.id) && (applicationId === undefined || attempt.applicationId === applicationId))
        .map(attemptEvent).join(''));
    };
    const feedSubscription = feed.subscribe((attempts) => {
      if (waiting) waiting.push(...attempts);
      else send(attempts);
    });
    let heartbeat: NodeJS.Timeout | undefined;
    res.on('close', () => {
      open.delete(stream);
      feedSubscription.stop();
      clearInterval(heartbeat);
    });
    // Once answered, every attempt recorded from then on is streamed (if the database is
    // slow to say where the feed starts, the stream opens anyway).
    await Promise.race([feedSubscription.ready, new Promise((resolve) => setTimeout(resolve, READY_WAIT_MS).unref())]);
    if (closing) {
      feedSubscription.stop();
      throw new ApiError(503, 'shutting_down', 'hookd is shutting down; reconnect shortly.');
    }
    if (res.destroyed) return;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    stream.send(`retry: ${RECONNECT_MS}\n\n`);
    open.set(stream, request.auth);
    access.start();
    heartbeat = setInterval(() => stream.send(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();

    let replay: AttemptSummary[] = [];
    try {
      if (typeof resumeAfter === 'string' && isUuid(resumeAfter)) replay = await attempts.attemptsAfter(resumeAfter.toLowerCase(), RESUME_LIMIT, applicationId);
      else if (backlog > 0) replay = await attempts.latestAttempts(backlog, applicationId);
    } catch (error) {
      request.log.warn({ err: error }, 'reading earlier attempts for the live stream failed');
    }
    if (res.destroyed) return;
    send(replay);
    for (const attempt of replay) earlier.add(attempt.id);
    const arrived: AttemptSummary[] = waiting;
    waiting = null;
    send(arrived);
  });
};
