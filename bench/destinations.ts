// Deliveries to each destination kind, next to HTTP: for each (HTTP to the loopback receiver,
// RabbitMQ, NATS JetStream, Redis Streams) a backlog of events is ingested into a fresh
// database with hookd's API alone (no workers), then hookd is started to deliver it, and the
// figure is the rate at which the messages arrive: counted at the receiver for HTTP, and at
// the broker (a queue's depth, a stream's length) for the others, sampled as they come.
// Ingest is kept apart so that the figure is the sending side's. Each broker place has a
// unique name and is deleted afterwards.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { wallClockMs } from './clock.ts';
import { createDatabase, type StoreKind } from './databases.ts';
import { closedLoop, eventBody, loadPool } from './load.ts';
import { every, note, status } from './progress.ts';
import { AUTH_HEADERS, Hookd, type Receiver } from './services.ts';
import { perSecond } from './stats.ts';
import { PAYLOAD_BYTES } from './throughput.ts';

export const DESTINATION_KINDS = ['http', 'rabbitmq', 'nats', 'redis'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

export interface DestinationsPlan {
  /** Events ingested for each kind, each one delivery. */
  events: number;
  /** Ingest requests in flight while the backlog is filled. */
  ingestConcurrency: number;
  /** The subscription's max_in_flight (HOOKD_WORKER_CONCURRENCY is 64 by default). */
  maxInFlight: number;
  /** The delivery stops being waited for after this long. */
  drainMs: number;
}

export interface DestinationFigure {
  kind: DestinationKind;
  events: number;
  /** Messages that arrived (at the receiver or the broker). */
  delivered: number;
  /** From the first arrival to the last. */
  seconds: number;
  perSec: number;
}

const SAMPLE_MS = 50;

/** Where one kind's messages go, and how many are there. */
interface Place {
  subscription: Record<string, unknown>;
  count(): Promise<number>;
  cleanup(): Promise<void>;
}

async function placeFor(kind: DestinationKind, receiver: Receiver): Promise<Place> {
  const name = `hookd-bench-${randomBytes(5).toString('hex')}`;
  if (kind === 'http') {
    receiver.reset(false);
    return { subscription: { target_url: receiver.url }, count: async () => receiver.count, cleanup: async () => {} };
  }
  if (kind === 'rabbitmq') {
    const amqp = await import('amqplib');
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const channel = await connection.createChannel();
    await channel.assertExchange(name, 'direct', { durable: true });
    await channel.assertQueue(name, { durable: true });
    await channel.bindQueue(name, name, 'bench');
    return {
      subscription: { destination: { type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672', exchange: name, routing_key: 'bench' } },
      count: async () => (await channel.checkQueue(name)).messageCount,
      async cleanup() {
        await channel.deleteQueue(name);
        await channel.deleteExchange(name);
        await connection.close();
      },
    };
  }
  if (kind === 'nats') {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: '127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    const stream = name.replace(/-/g, '_').toUpperCase();
    await jsm.streams.add({ name: stream, subjects: [`${name}.events`] });
    return {
      subscription: { destination: { type: 'nats', url: 'nats://127.0.0.1:4222', subject: `${name}.events` } },
      count: async () => (await jsm.streams.info(stream)).state.messages,
      async cleanup() {
        await jsm.streams.delete(stream);
        await nc.close();
      },
    };
  }
  const { createClient } = await import('@redis/client');
  const client = createClient({ socket: { host: '127.0.0.1', port: 6379 } });
  await client.connect();
  return {
    subscription: { destination: { type: 'redis', url: 'redis://127.0.0.1:6379', stream: name } },
    count: async () => client.xLen(name),
    async cleanup() {
      await client.del(name);
      await client.close();
    },
  };
}

/** Deliveries/s to one destination kind on one store. */
export async function measureDestination(store: StoreKind, kind: DestinationKind, receiver: Receiver, plan: DestinationsPlan): Promise<DestinationFigure> {
  const db = await createDatabase(store);
  const place = await placeFor(kind, receiver);
  let hookd: Hookd | null = null;
  try {
    hookd = await Hookd.start({ role: 'api', databaseUrl: db.url, name: `hookd (${store}, api, ${kind} backlog)` });
    const { id } = await hookd.call<{ id: string }>('POST', '/subscriptions', { ...place.subscription, max_in_flight: plan.maxInFlight });
    const { run, done } = closedLoop({
      pool: loadPool(hookd.origin!, plan.ingestConcurrency), path: `/api/v1/ingest/${id}`, body: eventBody('bench.destination', PAYLOAD_BYTES),
      headers: AUTH_HEADERS, maxRequests: plan.events, maxMs: plan.drainMs, concurrency: plan.ingestConcurrency,
    });
    const stopIngestProgress = every(() => status(`destinations on ${store}, ${kind}: ${run.accepted.toLocaleString('en')} ingested`));
    await done.finally(stopIngestProgress);
    await hookd.stop();
    hookd = null;
    if (run.accepted !== plan.events) throw new Error(`only ${run.accepted} of ${plan.events} events were accepted`);

    hookd = await Hookd.start({ role: 'serve', databaseUrl: db.url, name: `hookd (${store}, ${kind} delivery)` });
    const began = wallClockMs();
    let first: { at: number; count: number } | null = null;
    let last = { at: began, count: await place.count() };
    const stopProgress = every(() => status(`destinations on ${store}, ${kind}: ${last.count.toLocaleString('en')} of ${plan.events.toLocaleString('en')} delivered`));
    try {
      while (last.count < plan.events && wallClockMs() - began < plan.drainMs) {
        await sleep(SAMPLE_MS);
        const count = await place.count();
        const at = wallClockMs();
        if (count > last.count) {
          // The first sample that saw arrivals: the rate is counted from here, so the time
          // hookd takes to start is not charged to the destination.
          first ??= { at, count };
          last = { at, count };
        }
      }
    } finally {
      stopProgress();
    }
    const seconds = first === null ? 0 : (last.at - first.at) / 1000;
    const figure: DestinationFigure = {
      kind, events: plan.events, delivered: last.count, seconds: Math.round(seconds * 100) / 100,
      perSec: first === null || last.at === first.at ? 0 : perSecond(last.count - first.count, last.at - first.at),
    };
    note(`destinations on ${store}, ${kind}: ${figure.delivered.toLocaleString('en')} of ${plan.events.toLocaleString('en')} delivered, ${figure.perSec.toLocaleString('en')}/s`);
    return figure;
  } finally {
    await hookd?.stop();
    await place.cleanup();
    await db.drop();
  }
}
