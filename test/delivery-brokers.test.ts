// Deliveries to the brokers on this machine (RabbitMQ, NATS JetStream, Redis Streams), on
// both stores: the message arrives byte for byte with the headers an HTTP receiver gets; a
// broker that goes away mid-load (a proxy in front of it closes) fails attempts, which are
// retried until everything has arrived once it is back; wrong credentials give a clear
// attempt error and open the circuit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { App } from '../src/app.ts';
import { call, finished, ingest } from './support/api.ts';
import { BROKER_NAMES, BROKER_PORTS, brokerPlace, privateNats, type BrokerPlace } from './support/brokers.ts';
import { DELIVERY_CONFIG, FAST_RETRY, useDeliveryApp } from './support/delivery-app.ts';
import { eventually, whileProgressing } from './support/receiver.ts';
import { STORE_NAMES } from './support/stores.ts';
import { TcpProxy } from './support/tcp-proxy.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
// Spacing, key order, escapes and non-ASCII text that a re-encoding would change.
const RAW = '{"type":"order.created",  "data":{"id":7,"note":"caf\\u00e9 \u2603","z":1,"a":[1, 2]}}';

async function subscribeTo(app: App, destination: Record<string, unknown>, settings: Record<string, unknown> = {}): Promise<string> {
  const created = await call(app, 'POST', '/subscriptions', { destination, secret: SECRET, ...settings });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

async function ingestRaw(app: App, subscriptionId: string, raw: string): Promise<{ delivery_id: string; event_id: string }> {
  const answer = await call(app, 'POST', `/ingest/${subscriptionId}`, raw, { 'content-type': 'application/json', 'x-event-type': 'order.created' });
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return answer.body;
}

for (const name of STORE_NAMES) {
  for (const broker of BROKER_NAMES) {
    describe(`delivery to ${broker} (${name})`, () => {
      const hookd = useDeliveryApp(name, { ...DELIVERY_CONFIG, requestTimeoutMs: 5000 });
      let app: App;
      const places: BrokerPlace[] = [];
      const proxies: TcpProxy[] = [];
      const place = async () => {
        const created = await brokerPlace(broker);
        places.push(created);
        return created;
      };
      before(() => {
        app = hookd.app;
      });
      after(async () => {
        await Promise.all(proxies.map((p) => p.close()));
        await Promise.all(places.map((p) => p.cleanup()));
      });

      test(`${broker}: the message arrives byte for byte with the signature headers; the attempt logs the acknowledgement`, async () => {
        const here = await place();
        const sub = await subscribeTo(app, here.destination(), { headers: { 'x-tenant': 'acme' } });
        const { delivery_id: deliveryId, event_id: eventId } = await ingestRaw(app, sub, RAW);
        const delivery = await finished(app, deliveryId);
        assert.equal(delivery.status, 'succeeded', JSON.stringify(delivery.logs));
        const [log] = delivery.logs;
        assert.equal(log.outcome, 'success');
        assert.equal(log.status_code, null);
        assert.ok(log.response_body.length > 0, 'the acknowledgement is logged');
        assert.equal(log.request_headers['x-tenant'], '[redacted]');
        const [message] = await here.awaitCount(1);
        assert.ok(message!.body.equals(Buffer.from(RAW)), `body differs: ${message!.body.toString()}`);
        const headers = message!.headers;
        assert.equal(headers['webhook-id'], eventId);
        assert.equal(headers['x-hookd-event-type'], 'order.created');
        assert.equal(headers['x-hookd-delivery-id'], deliveryId);
        assert.equal(headers['x-tenant'], 'acme');
        assert.deepEqual(new Webhook(SECRET).verify(message!.body.toString('utf8'), headers), JSON.parse(RAW));
        if (broker === 'rabbitmq') {
          assert.deepEqual([headers['amqp-message-id'], headers['amqp-type'], headers['amqp-delivery-mode'], headers['amqp-content-type']], [eventId, 'order.created', '2', 'application/json']);
        }
        // The answer shows where deliveries go, never a password.
        const shown = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
        assert.equal(shown.target_url, null);
        assert.equal(shown.destination.type, broker);
      });

      test(`${broker}: the broker goes away mid-load; attempts fail and are retried, and every event arrives once it is back`, async () => {
        const here = await place();
        const proxy = await TcpProxy.start(BROKER_PORTS[broker]);
        proxies.push(proxy);
        const sub = await subscribeTo(app, here.destination({ port: proxy.port }), { max_in_flight: 4, retry_policy: { ...FAST_RETRY, initial_delay_ms: 50, max_delay_ms: 200, max_attempts: 100 } });
        const count = 40;
        const ids: string[] = [];
        for (let i = 0; i < count / 2; i++) ids.push((await ingest(app, sub, { event_type: 'load', data: { i } })).delivery_id);
        await here.awaitCount(1);
        await proxy.close();
        for (let i = count / 2; i < count; i++) ids.push((await ingest(app, sub, { event_type: 'load', data: { i } })).delivery_id);
        // Attempts fail while it is away (the circuit may open and hold the rest: that is fine).
        const failedAttempt = await eventually(async () => {
          for (const id of ids) {
            const { body } = await call(app, 'GET', `/deliveries/${id}`);
            const failure = (body.logs as { outcome: string; error_details: string }[]).find((l) => l.outcome !== 'success');
            if (failure) return failure;
          }
          return undefined;
        }, 60_000, 'an attempt to fail while the broker is away');
        assert.match(failedAttempt.outcome, /network_error|timeout/);
        assert.match(failedAttempt.error_details, new RegExp(`^${broker}: `));
        await proxy.open();
        const deliveredCount = async () => (await here.arrived()).length;
        await whileProgressing(async () => {
          const statuses = await Promise.all(ids.map(async (id) => (await call(app, 'GET', `/deliveries/${id}`)).body.status));
          return statuses.every((s) => s === 'succeeded') ? statuses : undefined;
        }, deliveredCount, 30_000, 'every delivery to succeed');
        const arrived = await here.arrived();
        const seen = new Set(arrived.map((m) => JSON.parse(m.body.toString()).data.i as number));
        assert.equal(seen.size, count, `every event arrived (at least once): ${[...seen].sort((a, b) => a - b).join(',')}`);
      });

      test(`${broker}: FIFO keeps the ingestion order, and a manual retry of a delivered event publishes it again`, async () => {
        const here = await place();
        const sub = await subscribeTo(app, here.destination(), { ordering: 'fifo' });
        const ids: string[] = [];
        for (let i = 0; i < 12; i++) ids.push((await ingest(app, sub, { event_type: 'fifo', data: { i } })).delivery_id);
        for (const id of ids) assert.equal((await finished(app, id)).status, 'succeeded');
        const arrived = await here.awaitCount(12);
        assert.deepEqual(arrived.map((m) => JSON.parse(m.body.toString()).data.i), [...Array(12).keys()]);
        const retried = await call(app, 'POST', `/deliveries/${ids[0]}/retry`);
        assert.equal(retried.status, 202, JSON.stringify(retried.body));
        const again = await eventually(async () => {
          const { body } = await call(app, 'GET', `/deliveries/${ids[0]}`);
          return body.status === 'succeeded' && body.logs.length === 2 ? body : undefined;
        });
        assert.deepEqual(again.logs.map((l: { trigger: string; outcome: string }) => [l.trigger, l.outcome]), [['scheduled', 'success'], ['manual', 'success']]);
        const all = await here.awaitCount(13);
        assert.equal(JSON.parse(all[12]!.body.toString()).data.i, 0);
        assert.equal(all[12]!.headers['x-hookd-attempt'], '2');
      });

      test(`${broker}: wrong credentials give a clear attempt error, and the circuit opens`, async () => {
        const here = await place();
        let destination: Record<string, unknown>;
        let stop = async () => {};
        if (broker === 'nats') {
          const server = await privateNats('hookd', 'right-password');
          stop = server.stop;
          destination = { ...here.destination(), url: `nats://hookd:wrong-password@127.0.0.1:${server.port}` };
        } else {
          destination = here.destination({ credentials: broker === 'redis' ? 'nobody:wrong-password' : 'guest:wrong-password' });
        }
        try {
          const sub = await subscribeTo(app, destination, { retry_policy: { ...FAST_RETRY, max_attempts: 100 } });
          const shown = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
          assert.ok(!JSON.stringify(shown).includes('wrong-password'), 'the password is never shown');
          assert.match(shown.destination.url, /:\*\*\*\*@/);
          const { delivery_id: deliveryId } = await ingest(app, sub, { event_type: 'auth' });
          const open = await eventually(async () => {
            const s = (await call(app, 'GET', `/subscriptions/${sub}`)).body;
            return s.circuit.state === 'open' ? s : undefined;
          }, 60_000, 'the circuit to open');
          assert.equal(open.circuit.consecutive_failures, 3);
          const { body } = await call(app, 'GET', `/deliveries/${deliveryId}`);
          const log = body.logs[0];
          assert.equal(log.outcome, 'rejected', JSON.stringify(log));
          assert.match(log.error_details, { rabbitmq: /^rabbitmq: .*ACCESS.REFUSED/, nats: /^nats: .*[Aa]uthorization/, redis: /^redis: WRONGPASS/ }[broker]);
          assert.ok(!log.error_details.includes('wrong-password'));
        } finally {
          await stop();
        }
      });
    });
  }
}
