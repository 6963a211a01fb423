// Property-based fuzzing of every API route, generated from the routes' own schemas (the
// OpenAPI document hookd serves): well-formed requests, then mutated ones (wrong types,
// missing and unknown fields, huge and unicode strings, deep nesting, broken JSON, invalid
// UTF-8, wrong content types, odd ids and query strings). No answer may be a 5xx, every
// error must have the documented shape, and the store must be consistent afterwards.
// The app runs in the `api` role: fuzzed target URLs are stored, never called.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { App } from '../src/app.ts';
import { openRawDb } from './support/raw-db.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const RUNS_PER_STORE = 10_000;
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Operation {
  method: string;
  path: string;
  parameters: { in: string; name: string; schema: Schema; required?: boolean }[];
  body: Schema | undefined;
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer | undefined;
}

const URLS = ['https://93.184.215.14/hook', 'https://receiver.example/hook?x=1', 'http://127.0.0.1/', 'http://2130706433/', 'ftp://x/', 'https://user:pw@host/', 'not a url', 'https://[::1]/'];
const EVENT_TYPES = ['order.created', 'order.*', '*', 'a', '', '..', 'x'.repeat(101), 'order.created*'];

const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
const hugeString = fc.integer({ min: 5_000, max: 200_000 }).chain((n) => fc.constantFrom('a', 'é', '😀', '\u0000', '"', '\\').map((c) => c.repeat(n)));
const anyString = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 2, arbitrary: unicode }, { weight: 1, arbitrary: hugeString });
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), anyString, fc.constant([]), fc.constant({}),
  fc.jsonValue({ maxDepth: 3 }), fc.constant(-1), fc.constant(1e308), fc.constant('true'), fc.constant('__proto__'),
);

/** Values for a schema: mostly within it (examples and known-good values first), sometimes not. */
function arbitraryFor(schema: Schema | undefined, key = ''): fc.Arbitrary<unknown> {
  if (!schema) return fc.jsonValue({ maxDepth: 3 });
  const variants: fc.Arbitrary<unknown>[] = [];
  if (Array.isArray(schema.examples) && schema.examples.length > 0) variants.push(fc.constantFrom(...schema.examples));
  if (key === 'target_url') variants.push(fc.constantFrom(...URLS));
  if (key === 'event_type' || key === 'x-event-type') variants.push(fc.constantFrom(...EVENT_TYPES));
  if (schema.enum) variants.push(fc.constantFrom(...schema.enum));
  else if (schema.const !== undefined) variants.push(fc.constant(schema.const));
  else if (schema.anyOf || schema.oneOf) variants.push(...(schema.anyOf ?? schema.oneOf).map((s: Schema) => arbitraryFor(s, key)));
  else variants.push(arbitraryForType(schema, key));
  return fc.oneof(...variants);
}

function arbitraryForType(schema: Schema, key: string): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'string':
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.oneof(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) }), unicode);
    case 'integer':
      return fc.integer({ min: Math.max(schema.minimum ?? -1e6, -1e9), max: Math.min(schema.maximum ?? 1e6, 1e9) });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryFor(schema.items, key), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object': {
      const properties: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries<Schema>(schema.properties ?? {})) properties[name] = arbitraryFor(property, name);
      // The required fields and a few optional ones, so that well-formed bodies often pass validation whole.
      const required: string[] = schema.required ?? [];
      const optional = Object.keys(properties).filter((name) => !required.includes(name));
      const known = fc.subarray(optional, { maxLength: Math.min(3, optional.length) }).chain((chosen) =>
        fc.record(Object.fromEntries([...required, ...chosen].map((name) => [name, properties[name]!]))));
      if (!schema.additionalProperties || schema.additionalProperties === true) return known;
      const extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), arbitraryFor(schema.additionalProperties), { maxKeys: 4 });
      return fc.tuple(known, extra).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

/** A well-formed body, then perhaps broken: a field dropped, retyped or added, or the whole body replaced. */
function bodyFor(schema: Schema | undefined): fc.Arbitrary<string | Buffer | undefined> {
  const valid = arbitraryFor(schema);
  const mutated = fc.tuple(valid, fc.string({ maxLength: 12 }), wrongValue, fc.nat(3)).map(([value, field, wrong, how]) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrong;
    const keys = Object.keys(value);
    const target = keys.length > 0 && how < 2 ? keys[field.length % keys.length]! : field;
    const copy: Record<string, unknown> = { ...value };
    if (how === 0) delete copy[target];
    else copy[target] = wrong;
    return copy;
  });
  const deep = fc.integer({ min: 30, max: 3000 }).map((depth) => `{"event_type":"a.b","data":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  return fc.oneof(
    { weight: 5, arbitrary: valid.map((v) => JSON.stringify(v)) },
    { weight: 4, arbitrary: mutated.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: valid.chain((v) => fc.nat().map((n) => { const text = JSON.stringify(v) ?? ''; return text.slice(0, n % (text.length + 1)); })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'null', '[]', '"x"', '{"a":1,"a":2}', '\ufeff{}', '{"__proto__":{"polluted":1}}') },
  );
}

function requestFor(operation: Operation, ids: () => string[]): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof(
    { weight: 6, arbitrary: fc.nat().map((n) => { const known = ids(); return known.length > 0 ? known[n % known.length]! : 'none'; }) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 20 }), unicode, fc.constantFrom('..', '%00', '%2F', 'a'.repeat(300))) },
  );
  const queryParameters = operation.parameters.filter((p) => p.in === 'query');
  const headerParameters = operation.parameters.filter((p) => p.in === 'header');
  const query = fc.record(Object.fromEntries(queryParameters.map((p) => [p.name, arbitraryFor(p.schema, p.name)])), { requiredKeys: [] });
  const strayQuery = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 2 });
  const headers = fc.record(Object.fromEntries(headerParameters.map((p) => [p.name, arbitraryFor(p.schema, p.name).map(String)])), { requiredKeys: [] });
  const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=latin1', 'multipart/form-data', '', 'application/x-www-form-urlencoded') });
  const authorization = fc.option(fc.oneof(fc.constant(`Bearer hk_${'x'.repeat(43)}`), fc.string({ maxLength: 30 })), { freq: 5 });
  return fc.record({
    ids: fc.array(id, { minLength: 2, maxLength: 2 }),
    query, strayQuery, headers, contentType, authorization,
    body: METHODS_WITH_BODY.has(operation.method) ? bodyFor(operation.body) : fc.constant(undefined),
  }).map((r) => {
    let used = 0;
    const path = operation.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(r.ids[used++]!));
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...r.strayQuery, ...r.query })) search.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    const all = { ...r.headers } as Record<string, string>;
    if (r.body !== undefined) all['content-type'] = r.contentType;
    if (r.authorization !== null) all.authorization = r.authorization;
    // Header values must be sendable at all: Node refuses control characters outright.
    for (const [k, v] of Object.entries(all)) all[k] = v.replace(/[^\t\x20-\x7e]/g, '?');
    return { method: operation.method, url: `${path}${search.size > 0 ? `?${search}` : ''}`, headers: all, payload: r.body };
  });
}

function operationsOf(document: Schema): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries<Schema>(document.paths)) {
    for (const [method, operation] of Object.entries<Schema>(methods)) {
      const streams = Object.values<Schema>(operation.responses ?? {}).some((r) => r.content?.['text/event-stream']);
      if (streams) continue;
      operations.push({
        method: method.toUpperCase(), path,
        parameters: operation.parameters ?? [],
        body: operation.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return operations;
}

for (const name of STORE_NAMES) {
  describe(`API fuzzing (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let operations: Operation[];

    before(async () => {
      target = newTarget(name);
      app = await startTestApp(target, { role: 'api', config: { encryptionKey: randomBytes(32), rateLimitPerMinute: 0 } });
      const document = await app.server!.inject({ method: 'GET', url: '/api/v1/openapi.json' });
      // Creating a first API key would turn this keyless hookd into one that needs a key for
      // everything after it; the key routes are tested in scoped-keys.test.ts.
      operations = operationsOf(document.json()).filter((operation) => !operation.path.startsWith('/api/v1/api-keys'));
    });
    after(async () => {
      await app.close();
      await target.cleanup();
    });

    // All the runs, however long a busy machine takes for them: the test's own timeout is a
    // backstop against a hang, longer than npm test's 120 s.
    test(`${RUNS_PER_STORE} generated and mutated requests across every route: no 5xx, errors well-formed, store consistent`, { timeout: 10 * 60_000 }, async () => {
      assert.ok(operations.length >= 15, `${operations.length} operations found in the OpenAPI document`);
      const ids: string[] = [];
      const statuses = new Map<number, number>();
      const inject = app.server!.inject.bind(app.server!);
      // Seed a few rows so that fuzzed ids reach the handlers' deeper paths.
      for (let i = 0; i < 3; i++) {
        const created = await inject({ method: 'POST', url: '/api/v1/subscriptions', payload: { target_url: URLS[0], headers: { 'x-seed': String(i) } } });
        ids.push(created.json().id);
        const ingested = await inject({ method: 'POST', url: `/api/v1/ingest/${created.json().id}`, payload: { event_type: 'order.created' } });
        ids.push(ingested.json().delivery_id, ingested.json().event_id);
      }
      const request = fc.oneof(...operations.map((operation) => requestFor(operation, () => ids)));
      await fc.assert(fc.asyncProperty(request, async (r) => {
        const response = await inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload !== undefined && { payload: r.payload }) });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        assert.ok(response.statusCode < 500, `${r.method} ${r.url} → ${response.statusCode} ${response.body.slice(0, 300)}`);
        if (response.statusCode >= 400) {
          const error = response.json().error;
          assert.equal(typeof error?.code, 'string', `${r.method} ${r.url}: ${response.body.slice(0, 200)}`);
          assert.equal(typeof error.message, 'string');
        }
        if (response.statusCode < 300 && response.headers['content-type']?.includes('json') && response.body) {
          const body = response.json();
          for (const key of ['id', 'delivery_id', 'event_id']) if (typeof body[key] === 'string' && ids.length < 500) ids.push(body[key]);
        }
      }), { numRuns: RUNS_PER_STORE });
      const total = [...statuses.values()].reduce((a, b) => a + b, 0);
      assert.ok(total >= RUNS_PER_STORE, `${total} requests made`);
      const successes = [...statuses].filter(([status]) => status < 300).reduce((a, [, n]) => a + n, 0);
      assert.ok(successes > total / 20, `enough requests got through validation to reach the store: ${JSON.stringify([...statuses])}`);

      // The store is consistent: every delivery names an existing event and subscription, the
      // status counts add up, and every subscription reads back (secrets decrypt, JSON parses).
      const db = openRawDb(target);
      after(() => db.destroy());
      const deliveries = [
        ...await db.selectFrom('queue').select(['id', 'event_id', 'subscription_id']).execute(),
        ...await db.selectFrom('deliveries').select(['id', 'event_id', 'subscription_id']).execute(),
      ];
      const eventIds = new Set((await db.selectFrom('events').select('id').execute()).map((e) => e.id));
      const subscriptionIds = new Set((await db.selectFrom('subscriptions').select('id').execute()).map((s) => s.id));
      for (const d of deliveries) {
        assert.ok(eventIds.has(d.event_id), `delivery ${d.id} has its event`);
        assert.ok(subscriptionIds.has(d.subscription_id), `delivery ${d.id} has its subscription`);
      }
      const status = (await inject({ method: 'GET', url: '/api/v1/status' })).json();
      assert.equal(Object.values<number>(status.deliveries).reduce((a, b) => a + b, 0), deliveries.length);
      let seen = 0;
      for (let cursor: string | null = ''; cursor !== null;) {
        const page: Awaited<ReturnType<typeof inject>> = await inject({ method: 'GET', url: `/api/v1/subscriptions?limit=100${cursor ? `&cursor=${cursor}` : ''}` });
        assert.equal(page.statusCode, 200);
        seen += page.json().items.length;
        cursor = page.json().next_cursor;
      }
      assert.equal(seen, status.subscriptions);
      assert.equal((await inject({ method: 'GET', url: '/api/v1/health' })).statusCode, 200);
    });
  });
}
