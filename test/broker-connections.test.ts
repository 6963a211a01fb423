// Broker connections, with the sender alone (no store): a client is loaded only when a
// destination of its kind is first sent to; attempts to one destination URL share one
// connection; it is closed when it has been idle a while, opened again when needed, and
// closed on shutdown. The proxy in front of each broker counts the connections.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { Sender } from '../src/delivery/sender.ts';
import { NetworkPolicy } from '../src/delivery/ssrf/network-policy.ts';
import type { BrokerDestination } from '../src/domain/index.ts';
import { eventually } from './support/receiver.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const CLIENT_MODULES = { rabbitmq: 'amqplib', nats: '@nats-io/transport-node', redis: '@redis/client' } as const;
const PORTS = { rabbitmq: 5672, nats: 4222, redis: 6379 } as const;

/** Whether a client package has been loaded into this process (they are CommonJS). */
function loadedPackage(name: string): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes(`/node_modules/${name}/`));
}

// Places that need no setup: a message to them is refused (no queue, no stream) or, for
// Redis, stored in a stream this test deletes; the connection is what is counted here.
function destinationAt(kind: keyof typeof PORTS, port: number): BrokerDestination {
  if (kind === 'rabbitmq') return { type: 'rabbitmq', url: `amqp://guest:guest@127.0.0.1:${port}`, exchange: '', routingKey: 'hookd-test-no-such-queue' };
  if (kind === 'nats') return { type: 'nats', url: `nats://127.0.0.1:${port}`, subject: 'hookd.test.no.stream' };
  return { type: 'redis', url: `redis://127.0.0.1:${port}`, stream: `hookd-test-connections-${process.pid}`, maxLen: 1 };
}

describe('broker connections', () => {
  for (const kind of ['rabbitmq', 'nats', 'redis'] as const) {
    test(`${kind}: loaded on first use, one pooled connection per URL, closed when idle and on shutdown`, async () => {
      assert.equal(loadedPackage(CLIENT_MODULES[kind]), false, `${CLIENT_MODULES[kind]} is not loaded before a ${kind} destination is used`);
      const proxy = await TcpProxy.start(PORTS[kind]);
      const sender = new Sender({ policy: new NetworkPolicy(['127.0.0.0/8']), connectTimeoutMs: 5000, requestTimeoutMs: 5000, brokerIdleMs: 300 });
      const destination = destinationAt(kind, proxy.port);
      const send = (n: number) => sender.send({
        url: null, destination, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], headers: {}, messageId: `evt-${n}`, deliveryId: `d-${n}`,
        eventType: 'connections', attemptNumber: 1, body: Buffer.from(`{"n":${n}}`),
      });
      try {
        assert.equal(sender.loaded(kind), false);
        const results = await Promise.all([1, 2, 3, 4, 5].map(send));
        for (const result of results) {
          assert.ok(result.outcome === 'success' || result.outcome === 'rejected', `${result.outcome}: ${result.errorDetails}`);
          assert.match(result.errorDetails ?? `${kind}: `, new RegExp(`^${kind}: `));
        }
        assert.ok(sender.loaded(kind) && loadedPackage(CLIENT_MODULES[kind]));
        assert.equal(proxy.connections, 1, 'five attempts, one connection');
        await eventually(() => (proxy.connections === 0 ? true : undefined), 10_000, 'the idle connection to close');
        await send(6);
        assert.equal(proxy.connections, 1, 'opened again when needed');
      } finally {
        await sender.close();
        await eventually(() => (proxy.connections === 0 ? true : undefined), 10_000, 'the connection to close on shutdown');
        await proxy.close();
        if (destination.type === 'redis') {
          const { createClient } = await import('@redis/client');
          const client = createClient({ socket: { host: '127.0.0.1', port: PORTS.redis } });
          await client.connect();
          await client.del(destination.stream);
          await client.close();
        }
      }
    });
  }
});
