// The brokers on this machine (RabbitMQ on 5672 as guest/guest, NATS with JetStream on 4222,
// Redis on 6379; .ci/run starts any that is down), as the delivery tests use them: a place of
// a unique name in each (an exchange bound to a queue, a stream capturing a subject, a Redis
// stream), a destination for it, and what arrived there, body and headers.
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { RESP_TYPES, createClient } from '@redis/client';
import { eventually } from './receiver.ts';

export const BROKER_PORTS = { rabbitmq: 5672, nats: 4222, redis: 6379 } as const;
export type BrokerName = keyof typeof BROKER_PORTS;
export const BROKER_NAMES = Object.keys(BROKER_PORTS) as BrokerName[];

export interface Arrived {
  body: Buffer;
  headers: Record<string, string>;
}

export interface BrokerPlace {
  /** The `destination` of a subscription delivering here, through `port` (a proxy's) when given. */
  destination(options?: { port?: number; credentials?: string }): Record<string, unknown>;
  /** Every message stored here so far, oldest first. */
  arrived(): Promise<Arrived[]>;
  /** Waits until at least `count` messages are here. */
  awaitCount(count: number): Promise<Arrived[]>;
  cleanup(): Promise<void>;
}

const unique = (prefix: string) => `${prefix}${randomBytes(6).toString('hex')}`;

function waiter(place: Omit<BrokerPlace, 'awaitCount'>): BrokerPlace {
  return {
    ...place,
    awaitCount: (count) => eventually(async () => {
      const all = await place.arrived();
      return all.length >= count ? all : undefined;
    }, 60_000, `${count} messages at the broker`),
  };
}

function stringHeaders(headers: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, Buffer.isBuffer(value) ? value.toString('utf8') : String(value)]));
}

async function rabbitPlace(): Promise<BrokerPlace> {
  const exchange = unique('hookd.test.');
  const queue = unique('hookd-test-');
  const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'direct', { durable: false, autoDelete: false });
  await channel.assertQueue(queue, { durable: true, autoDelete: false });
  await channel.bindQueue(queue, exchange, 'events');
  const seen: Arrived[] = [];
  await channel.consume(queue, (message) => {
    if (!message) return;
    seen.push({ body: message.content, headers: { ...stringHeaders(message.properties.headers), 'amqp-message-id': String(message.properties.messageId), 'amqp-type': String(message.properties.type), 'amqp-delivery-mode': String(message.properties.deliveryMode), 'amqp-content-type': String(message.properties.contentType) } });
    channel.ack(message);
  });
  return waiter({
    destination: ({ port = 5672, credentials = 'guest:guest' } = {}) => ({ type: 'rabbitmq', url: `amqp://${credentials}@127.0.0.1:${port}`, exchange, routing_key: 'events' }),
    arrived: async () => [...seen],
    async cleanup() {
      await channel.deleteQueue(queue);
      await channel.deleteExchange(exchange);
      await connection.close();
    },
  });
}

async function natsPlace(): Promise<BrokerPlace> {
  const stream = unique('HOOKD_TEST_');
  const subject = `${stream.toLowerCase()}.events`;
  const nc = await natsConnect({ servers: '127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject] });
  return waiter({
    destination: ({ port = 4222, credentials } = {}) => ({ type: 'nats', url: `nats://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}`, subject }),
    async arrived() {
      const info = await jsm.streams.info(stream);
      const all: Arrived[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const message = await jsm.streams.getMessage(stream, { seq });
        if (!message) continue;
        const headers: Record<string, string> = {};
        for (const name of message.header?.keys() ?? []) headers[name.toLowerCase()] = message.header!.get(name);
        all.push({ body: Buffer.from(message.data), headers });
      }
      return all;
    },
    async cleanup() {
      await jsm.streams.delete(stream);
      await nc.close();
    },
  });
}

async function redisPlace(): Promise<BrokerPlace> {
  const stream = unique('hookd-test-');
  const client = createClient({ socket: { host: '127.0.0.1', port: 6379 } });
  await client.connect();
  return waiter({
    destination: ({ port = 6379, credentials } = {}) => ({ type: 'redis', url: `redis://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}`, stream, max_len: 10_000 }),
    async arrived() {
      const entries = await client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).sendCommand<[Buffer, Buffer[]][]>(['XRANGE', stream, '-', '+']);
      return entries.map(([, fields]) => {
        const headers: Record<string, string> = {};
        let body: Buffer = Buffer.alloc(0);
        for (let i = 0; i < fields.length; i += 2) {
          const name = fields[i]!.toString('utf8');
          if (name === 'payload') body = fields[i + 1]!;
          else headers[name] = fields[i + 1]!.toString('utf8');
        }
        return { body, headers };
      });
    },
    async cleanup() {
      await client.del(stream);
      await client.close();
    },
  });
}

export function brokerPlace(name: BrokerName): Promise<BrokerPlace> {
  return { rabbitmq: rabbitPlace, nats: natsPlace, redis: redisPlace }[name]();
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A NATS server of the test's own, with JetStream and a user and password (the shared one
 * asks for no credentials, so wrong ones cannot be refused there).
 */
export async function privateNats(user: string, password: string): Promise<{ port: number; stop(): Promise<void>; connection(): Promise<NatsConnection> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hookd-nats-'));
  const port = await freePort();
  const child: ChildProcess = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '--user', user, '--pass', password], { stdio: 'ignore' });
  const connection = () => natsConnect({ servers: `127.0.0.1:${port}`, user, pass: password });
  await eventually(async () => {
    try {
      await (await connection()).close();
      return true;
    } catch {
      return undefined;
    }
  }, 30_000, 'the private NATS server to accept connections');
  return {
    port,
    connection,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
