// Tracing off (the default) costs nothing: no OpenTelemetry SDK module is loaded, seen by a
// module resolution hook registered before anything of hookd's is imported. And the trace
// context hookd carries then is only the producer's own: a valid incoming traceparent (with
// its tracestate) is passed on unchanged, none is invented, a malformed one is dropped.
import assert from 'node:assert/strict';
import { registerHooks } from 'node:module';
import { after, before, describe, test } from 'node:test';

/** Every module resolved in this process from here on: what was asked for, by whom, and what it became. */
const resolved: { specifier: string; parent: string; url: string }[] = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    resolved.push({ specifier, parent: context.parentURL ?? '', url: result.url });
    return result;
  },
});

// Imported only now, so that the hook sees everything hookd loads (ESM imports and CJS requires alike).
const { call, finished, subscribe } = await import('./support/api.ts');
const { eventually, startReceiver } = await import('./support/receiver.ts');
const { STORE_NAMES, newTarget, startTestApp } = await import('./support/stores.ts');
type App = Awaited<ReturnType<typeof startTestApp>>;
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

for (const name of STORE_NAMES) {
  describe(`tracing off (${name})`, () => {
    let target: ReturnType<typeof newTarget>;
    let app: App;
    let receiver: Receiver;
    let subscriptionId: string;

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { config: { allowNetworks: LOOPBACK, pollIntervalMs: 50 } });
      assert.equal(app.store.kind, name);
      receiver = await startReceiver();
      subscriptionId = await subscribe(app, receiver.url);
    });
    const deliveredFor = (eventId: string) => eventually(() => receiver.requests.find((r) => r.headers['webhook-id'] === eventId), undefined, `event ${eventId} at the receiver`);
    after(async () => {
      await app.close();
      await receiver.close();
      await target.cleanup();
    });

    test('a valid incoming traceparent and tracestate are stored and passed on unchanged', async () => {
      const answer = await call(app, 'POST', `/ingest/${subscriptionId}`, { event_type: 'a.b' }, { traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
      assert.equal(answer.status, 202);
      const delivered = await deliveredFor(answer.body.event_id);
      assert.equal(delivered.headers.traceparent, TRACEPARENT);
      assert.equal(delivered.headers.tracestate, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
      // What the attempt log shows as sent.
      const delivery = await finished(app, answer.body.delivery_id);
      assert.equal(delivery.logs[0].request_headers.traceparent, TRACEPARENT);
    });

    test('no traceparent in, none out; a malformed one is dropped', async () => {
      const cases: Record<string, string>[] = [{}, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01', tracestate: 'a=b' }, { traceparent: `${TRACEPARENT}-00` }, { traceparent: TRACEPARENT.toUpperCase() }];
      for (const headers of cases) {
        const answer = await call(app, 'POST', '/events', { event_type: 'c.d' }, headers);
        assert.equal(answer.status, 202);
        const delivered = await deliveredFor(answer.body.event_id);
        assert.equal(delivered.headers.traceparent, undefined, JSON.stringify(headers));
        assert.equal(delivered.headers.tracestate, undefined);
      }
    });
  });
}

test('no OpenTelemetry SDK module was loaded; the API package only by prom-client, as before tracing existed', () => {
  // The hook sees both kinds of loading: fastify by import, prom-client's own requires.
  assert.ok(resolved.some((r) => r.url.includes('/node_modules/fastify/')), 'the hook saw hookd load');
  const otel = resolved.filter((r) => r.url.includes('/node_modules/@opentelemetry/') || r.specifier.startsWith('@opentelemetry/'));
  const sdk = otel.filter((r) => !r.url.includes('/node_modules/@opentelemetry/api/'));
  assert.deepEqual(sdk.map((r) => r.url), [], 'no SDK, exporter, resources or semantic-conventions module');
  assert.deepEqual(resolved.filter((r) => r.url.includes('/src/tracing/otel-tracing.ts')), []);
  // prom-client requires @opentelemetry/api for exemplars (a dependency of its own, loaded
  // with tracing on or off); nothing of hookd's asks for it.
  const apiImporters = new Set(otel.filter((r) => r.specifier.startsWith('@opentelemetry/')).map((r) => r.parent.replace(/.*\/node_modules\/([^/]+)\/.*/, '$1')));
  for (const importer of apiImporters) assert.ok(importer === 'prom-client' || importer.includes('/node_modules/@opentelemetry/api/'), `@opentelemetry loaded by ${importer}`);
});
