// OpenTelemetry tracing end to end: hookd exports to an OTLP/HTTP receiver started here, and
// a webhook receiver shows what the attempts carried. The ingest span and each attempt span
// are linked, carry their attributes, and the receiver continues the producer's trace.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_APPLICATION_ID } from '../src/domain/index.ts';
import type { App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { call, finished, subscribe } from './support/api.ts';
import { SPAN_KIND, STATUS_ERROR, startOtlpReceiver, type ExportedSpan, type OtlpReceiver } from './support/otlp-receiver.ts';
import { eventually, sequence, startReceiver, status, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const FAST_RETRY = { initial_delay_ms: 20, backoff_factor: 1, max_delay_ms: 20, jitter: 0 };
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function tracingFrom(env: Record<string, string>) {
  return loadConfig({ env: { OTEL_BSP_SCHEDULE_DELAY: '20', ...env } }).tracing;
}

async function spansWhere(otlp: OtlpReceiver, what: string, match: (spans: ExportedSpan[]) => boolean): Promise<ExportedSpan[]> {
  return eventually(() => {
    const spans = otlp.spans();
    return match(spans) ? spans : undefined;
  }, undefined, what);
}

for (const name of STORE_NAMES) {
  describe(`tracing (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let otlp: OtlpReceiver;
    let receiver: Receiver;

    before(async () => {
      otlp = await startOtlpReceiver();
      target = newTarget(name);
      const tracing = tracingFrom({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'hookd-under-test' });
      assert.ok(tracing, 'an endpoint turns tracing on');
      app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50, tracing } });
    });
    after(async () => {
      await app.close();
      await otlp.close();
      await target.cleanup();
    });
    test.beforeEach(async () => {
      receiver = await startReceiver();
    });
    test.afterEach(async () => {
      await receiver.close();
    });

    test('the ingest span and the attempt span are linked, with their attributes, and the receiver continues the producer\'s trace', async () => {
      const subscriptionId = await subscribe(app, receiver.url, { event_types: ['order.*'] });
      const [traceId, producerSpanId] = [hex(16), hex(8)];
      const ingested = await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'order.created', data: { n: 1 } }, {
        traceparent: `00-${traceId}-${producerSpanId}-01`, tracestate: 'vendor=abc, other=x y',
      });
      assert.equal(ingested.status, 202);
      const [delivered] = await receiver.waitFor(1);
      const carried = TRACEPARENT.exec(String(delivered!.headers.traceparent));
      assert.ok(carried, `a valid traceparent reaches the receiver: ${delivered!.headers.traceparent}`);
      assert.equal(carried[1], traceId, "the producer's trace id");
      assert.notEqual(carried[2], producerSpanId, "the attempt's own span is the parent");
      assert.equal(carried[3], '01', 'sampled, as the producer asked');
      assert.equal(delivered!.headers.tracestate, 'vendor=abc,other=x y', "the producer's tracestate, passed on");

      const spans = await spansWhere(otlp, 'the ingest and attempt spans', (all) => all.some((s) => s.spanId === carried[2]) && all.some((s) => s.name === 'ingest order.created'));
      const ingest = spans.find((s) => s.name === 'ingest order.created')!;
      const attempt = spans.find((s) => s.spanId === carried[2])!;
      assert.equal(ingest.kind, SPAN_KIND.PRODUCER);
      assert.equal(ingest.traceId, traceId);
      assert.equal(ingest.parentSpanId, producerSpanId, "the ingest span is the producer's span's child");
      assert.equal(ingest.attributes['hookd.subscription.id'], subscriptionId);
      assert.equal(ingest.attributes['hookd.event.type'], 'order.created');
      assert.equal(ingest.attributes['messaging.message.id'], ingested.body.event_id);
      assert.equal(ingest.attributes['http.route'], '/api/v1/ingest/:subscription_id');
      assert.equal(ingest.attributes['http.response.status_code'], 202);
      assert.equal(ingest.resource['service.name'], 'hookd-under-test');

      assert.equal(attempt.name, 'deliver order.created');
      assert.equal(attempt.kind, SPAN_KIND.CLIENT);
      assert.equal(attempt.traceId, traceId);
      assert.equal(attempt.parentSpanId, ingest.spanId);
      assert.deepEqual(attempt.links, [{ traceId, spanId: ingest.spanId }], 'the attempt is linked to the ingest span');
      assert.equal(attempt.attributes['hookd.subscription.id'], subscriptionId);
      assert.equal(attempt.attributes['hookd.event.type'], 'order.created');
      assert.equal(attempt.attributes['hookd.delivery.id'], ingested.body.delivery_id);
      assert.equal(attempt.attributes['hookd.attempt.number'], 1);
      assert.equal(attempt.attributes['hookd.attempt.outcome'], 'success');
      assert.equal(attempt.attributes['hookd.delivery.status'], 'succeeded');
      assert.equal(attempt.attributes['http.response.status_code'], 200);
      assert.equal(attempt.attributes['server.address'], '127.0.0.1');
      assert.notEqual(attempt.status.code, STATUS_ERROR);
      assert.equal(attempt.attributes['hookd.application.id'], DEFAULT_APPLICATION_ID, 'a subscription of the flat API is the default application\'s');
    });

    test('every retry is a span of its own in the same trace, failures marked as errors; the context survives in the database', async () => {
      receiver.respond(sequence(status(500), status(200)));
      const subscriptionId = await subscribe(app, receiver.url, { event_types: ['order.paid'], retry_policy: FAST_RETRY });
      const traceId = hex(16);
      const ingested = await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'order.paid' }, { traceparent: `00-${traceId}-${hex(8)}-01` });
      assert.equal(ingested.status, 202);
      const delivery = await finished(app, ingested.body.delivery_id);
      assert.equal(delivery.status, 'succeeded');
      const requests = await receiver.waitFor(2);
      const parents = requests.map((r) => TRACEPARENT.exec(String(r.headers.traceparent)));
      assert.deepEqual(parents.map((p) => p?.[1]), [traceId, traceId]);
      assert.notEqual(parents[0]![2], parents[1]![2], 'each attempt is its own parent span');
      const spans = await spansWhere(otlp, 'both attempt spans', (all) => parents.every((p) => all.some((s) => s.spanId === p![2])));
      const [failed, succeeded] = parents.map((p) => spans.find((s) => s.spanId === p![2])!);
      const ingest = spans.find((s) => s.traceId === traceId && s.kind === SPAN_KIND.PRODUCER)!;
      assert.equal(failed!.status.code, STATUS_ERROR);
      assert.equal(failed!.attributes['hookd.attempt.outcome'], 'http_error');
      assert.equal(failed!.attributes['http.response.status_code'], 500);
      assert.equal(failed!.attributes['error.type'], '500');
      assert.equal(failed!.attributes['hookd.delivery.status'], 'queued');
      assert.equal(succeeded!.attributes['hookd.attempt.number'], 2);
      for (const span of [failed!, succeeded!]) assert.deepEqual(span.links, [{ traceId, spanId: ingest.spanId }]);
    });

    test('fan-out: one ingest span for POST /events, each delivery its attempt span, linked to it', async () => {
      const type = `fan.${hex(4)}`;
      const other = await startReceiver();
      try {
        await subscribe(app, receiver.url, { event_types: [type] });
        await subscribe(app, other.url, { event_types: [type] });
        const traceId = hex(16);
        const answer = await call(app, 'POST', '/events', { event_type: type }, { traceparent: `00-${traceId}-${hex(8)}-01` });
        assert.equal(answer.status, 202);
        assert.equal(answer.body.deliveries, 2);
        const [a] = await receiver.waitFor(1);
        const [b] = await other.waitFor(1);
        const ids = [a!, b!].map((r) => TRACEPARENT.exec(String(r.headers.traceparent))!);
        assert.deepEqual(ids.map((m) => m[1]), [traceId, traceId]);
        const spans = await spansWhere(otlp, 'the fan-out spans', (all) => ids.every((m) => all.some((s) => s.spanId === m[2])));
        const ingest = spans.find((s) => s.traceId === traceId && s.kind === SPAN_KIND.PRODUCER)!;
        assert.equal(ingest.attributes['http.route'], '/api/v1/events');
        assert.equal(ingest.attributes['hookd.deliveries'], 2);
        for (const m of ids) assert.deepEqual(spans.find((s) => s.spanId === m[2])!.links, [{ traceId, spanId: ingest.spanId }]);
      } finally {
        await other.close();
      }
    });

    test('without a valid traceparent the ingest span starts a trace of its own, which the receiver continues', async () => {
      const subscriptionId = await subscribe(app, receiver.url, { event_types: ['user.created'] });
      const bogus = `00-${'A'.repeat(32)}-${hex(8)}-01`;
      const ingested = await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'user.created' }, { traceparent: bogus, tracestate: 'vendor=abc' });
      assert.equal(ingested.status, 202);
      const [delivered] = await receiver.waitFor(1);
      const carried = TRACEPARENT.exec(String(delivered!.headers.traceparent))!;
      assert.ok(carried);
      assert.notEqual(carried[1], 'a'.repeat(32));
      assert.equal(delivered!.headers.tracestate, undefined, 'a tracestate without its traceparent is dropped');
      const spans = await spansWhere(otlp, 'the new trace', (all) => all.some((s) => s.spanId === carried[2]));
      const ingest = spans.find((s) => s.traceId === carried[1] && s.kind === SPAN_KIND.PRODUCER)!;
      assert.equal(ingest.parentSpanId ?? '', '', 'a root span');
      assert.equal(spans.find((s) => s.spanId === carried[2])!.parentSpanId, ingest.spanId);
    });

    test("a producer's unsampled trace stays unsampled: the receiver gets flags 00 and no span of it is exported", async () => {
      const subscriptionId = await subscribe(app, receiver.url, { event_types: ['quiet.*'] });
      const [quiet, loud] = [hex(16), hex(16)];
      assert.equal((await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'quiet.a' }, { traceparent: `00-${quiet}-${hex(8)}-00` })).status, 202);
      const [first] = await receiver.waitFor(1);
      const carried = TRACEPARENT.exec(String(first!.headers.traceparent))!;
      assert.deepEqual([carried[1], carried[3]], [quiet, '00']);
      assert.equal((await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'quiet.b' }, { traceparent: `00-${loud}-${hex(8)}-01` })).status, 202);
      const [, second] = await receiver.waitFor(2);
      const loudAttempt = TRACEPARENT.exec(String(second!.headers.traceparent))![2];
      // Spans are exported in the order they end: once the later attempt's span is in, the earlier one would be too.
      const spans = await spansWhere(otlp, 'the sampled attempt span', (all) => all.some((s) => s.spanId === loudAttempt));
      assert.deepEqual(spans.filter((s) => s.traceId === quiet), []);
    });

    test('a refused ingest request has its span too, marked as an error with the API code', async () => {
      const traceId = hex(16);
      const answer = await call(app, 'POST', '/ingest/00000000-0000-7000-8000-00000000dead', { event_type: 'x.y' }, { traceparent: `00-${traceId}-${hex(8)}-01` });
      assert.equal(answer.status, 404);
      const spans = await spansWhere(otlp, 'the refused ingest span', (all) => all.some((s) => s.traceId === traceId));
      const span = spans.find((s) => s.traceId === traceId)!;
      assert.equal(span.status.code, STATUS_ERROR);
      assert.equal(span.attributes['http.response.status_code'], 404);
      assert.equal(span.attributes['error.type'], 'subscription_not_found');
    });
  });
}

describe('tracing over http/protobuf (the default protocol)', () => {
  test('spans reach the endpoint as protobuf, the trace id inside', async () => {
    const otlp = await startOtlpReceiver();
    const target = newTarget('sqlite');
    const receiver = await startReceiver();
    const app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, tracing: tracingFrom({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/custom/traces` }) } });
    try {
      const subscriptionId = await subscribe(app, receiver.url);
      const traceId = hex(16);
      assert.equal((await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'a.b' }, { traceparent: `00-${traceId}-${hex(8)}-01` })).status, 202);
      await receiver.waitFor(1);
      const sent = await eventually(() => otlp.exports.find((e) => e.body.includes(Buffer.from(traceId, 'hex'))), undefined, 'a protobuf export with the trace id');
      assert.equal(sent.path, '/custom/traces', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as it is');
      assert.equal(sent.contentType, 'application/x-protobuf');
    } finally {
      await app.close();
      await receiver.close();
      await otlp.close();
      await target.cleanup();
    }
  });
});
