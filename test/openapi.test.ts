// The OpenAPI document covers every route, and every example in it is valid against its
// schema; /docs serves the interactive reference from local assets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { STORE_NAMES, newTarget, startTestApp } from './support/stores.ts';
import { readFileSync } from 'node:fs';
import { VECTOR } from './support/signing-vector.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Json = Record<string, any>;

// Fastify announces each new instance on this channel before any plugin runs, so an onRoute
// hook added here sees every route the app registers, hidden ones included.
function recordRoutes(): { routes: RouteOptions[]; stop(): void } {
  const routes: RouteOptions[] = [];
  const channel = diagnostics.channel('fastify.initialization');
  const onInstance = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
      routes.push(route);
    });
  };
  channel.subscribe(onInstance);
  return { routes, stop: () => channel.unsubscribe(onInstance) };
}

interface Example {
  where: string;
  schema: Json;
  value: unknown;
}

/** The examples of a media type object (`example`, or `examples` by name), which are checked against its schema. */
function mediaExamples(media: Json): unknown[] {
  if ('example' in media) return [media.example];
  return Object.values((media.examples ?? {}) as Json).map((example) => example.value);
}

/**
 * Every example in the document with the schema it illustrates: those of media types
 * (where @fastify/swagger moves a response schema's own `examples`) and those of any schema
 * nested deeper.
 */
function examplesIn(node: unknown, where: string, found: Example[] = []): Example[] {
  if (Array.isArray(node)) node.forEach((item, i) => examplesIn(item, `${where}[${i}]`, found));
  else if (node && typeof node === 'object') {
    const object = node as Json;
    if (object.schema && (object.example !== undefined || object.examples)) {
      for (const value of mediaExamples(object)) found.push({ where, schema: object.schema, value });
    } else if (Array.isArray(object.examples)) {
      for (const value of object.examples) found.push({ where, schema: object, value });
    }
    for (const [key, value] of Object.entries(object)) examplesIn(value, `${where}/${key}`, found);
  }
  return found;
}

for (const storeName of STORE_NAMES) {
  test(`OpenAPI document and /docs (${storeName})`, async (t) => {
    const target = newTarget(storeName);
    const recorder = recordRoutes();
    const app = await startTestApp(target).finally(() => recorder.stop());
    t.after(async () => {
      await app.close();
      await target.cleanup();
    });

    const response = await fetch(`${app.url}/api/v1/openapi.json`);
    assert.equal(response.status, 200);
    const doc = (await response.json()) as Json;
    assert.equal(doc.openapi, '3.1.0');

    await t.test('every registered route is documented, with tags and a summary', () => {
      const documented = new Set<string>();
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const method of METHODS) if (item[method]) documented.add(`${method.toUpperCase()} ${path}`);
      }
      const routes = recorder.routes.flatMap((route) => [route.method].flat().map((method) => ({ method, route })));
      const hidden = routes.filter(({ route }) => route.schema?.hide);
      // The web UI and these reference pages may stay out of the document; no API route may.
      const hiddenApi = hidden.filter(({ route }) => (route.url.startsWith('/api/') && route.url !== '/api/v1/openapi.json') || route.url === '/metrics');
      assert.deepEqual(hiddenApi.map(({ method, route }) => `${method} ${route.url}`), []);
      const expected = routes
        .filter(({ method, route }) => method !== 'HEAD' && !route.schema?.hide)
        .map(({ method, route }) => `${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
      assert.ok(expected.length >= 14, `only ${expected.length} routes were seen`);
      for (const route of expected) assert.ok(documented.has(route), `${route} is not in the OpenAPI document`);
      for (const route of documented) assert.ok(expected.includes(route), `${route} is documented but not served`);

      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const method of METHODS.filter((m) => item[m])) {
          const operation = item[method] as Json;
          assert.ok(operation.summary, `${method} ${path} has no summary`);
          assert.ok(operation.tags?.length > 0, `${method} ${path} has no tags`);
        }
      }
    });

    await t.test('every successful response has an example, and every example matches its schema', () => {
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const method of METHODS.filter((m) => item[m])) {
          for (const [status, answer] of Object.entries(item[method].responses as Json)) {
            if (!status.startsWith('2') || !answer.content) continue;
            for (const [type, media] of Object.entries(answer.content as Json)) {
              const examples = [...mediaExamples(media as Json), ...((media as Json).schema?.examples ?? [])];
              assert.ok(examples.length > 0, `${method} ${path} ${status} ${type} has no example`);
            }
          }
        }
      }
      const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
      const found = examplesIn(doc.paths, '#/paths');
      assert.ok(found.length >= 15, `only ${found.length} examples were found`);
      for (const { where, schema, value } of found) {
        const validate = ajv.compile(schema);
        assert.ok(validate(value), `an example at ${where} does not match its schema: ${ajv.errorsText(validate.errors)}`);
      }
    });

    await t.test('the document is as strict as the server', () => {
      const operation = (path: string, method: string) => (doc.paths as Json)[path][method] as Json;
      const body = (path: string, method: string) => operation(path, method).requestBody.content['application/json'].schema as Json;
      const parameter = (path: string, method: string, name: string) => (operation(path, method).parameters as Json[]).find((p) => p.name === name)!.schema as Json;

      const targetUrl = body('/api/v1/subscriptions', 'post').properties.target_url;
      assert.equal(targetUrl.format, 'uri');
      const urlPattern = new RegExp(targetUrl.pattern);
      for (const good of ['https://example.com/hook', 'http://10.0.0.1:8080/x?y=1']) assert.ok(urlPattern.test(good), good);
      for (const bad of ['0', 'ftp://example.com/', 'https://user:pass@example.com/', '//example.com']) assert.ok(!urlPattern.test(bad), bad);

      assert.equal(parameter('/api/v1/deliveries', 'get', 'cursor').format, 'uuid');
      assert.equal(parameter('/api/v1/subscriptions', 'get', 'cursor').format, 'uuid');
      assert.equal(parameter('/api/v1/subscriptions/{id}', 'get', 'id').format, 'uuid');
      const key = parameter('/api/v1/events', 'post', 'idempotency-key');
      assert.ok(!new RegExp(key.pattern).test(''), 'an empty Idempotency-Key is outside the document, as it is refused');

      // The filter is the grammar, not "any object": a $ref to nested level schemas.
      const filter = body('/api/v1/subscriptions', 'post').properties.filter;
      const ref = (filter.anyOf as Json[]).find((branch) => branch.$ref)?.$ref as string;
      assert.match(ref, /^#\/components\/schemas\//);
      const top = (doc.components as Json).schemas[ref.split('/').pop()!] as Json;
      assert.ok(top.propertyNames && top.additionalProperties?.$ref, JSON.stringify(top).slice(0, 300));

      // Every route that needs a key documents 401; every route its edge answers.
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const method of METHODS.filter((m) => item[m])) {
          const statuses = Object.keys(item[method].responses);
          const open = Array.isArray(item[method].security) && item[method].security.length === 0;
          if (!open) assert.ok(statuses.includes('401'), `${method} ${path} does not document 401`);
          for (const status of ['400', '408', '421', '429', '431', '500', '503']) assert.ok(statuses.includes(status), `${method} ${path} does not document ${status}`);
        }
      }
      assert.ok(Object.keys(operation('/metrics', 'get').responses).includes('401'));
    });

    await t.test('without keys the document requires none; with a key it requires one', async () => {
      assert.equal(doc.security, undefined, 'a hookd without keys needs none');
      const keyedTarget = newTarget(storeName);
      const keyed = await startTestApp(keyedTarget, { config: { apiKey: `hk_${'d'.repeat(43)}` } });
      try {
        const keyedDoc = (await (await fetch(`${keyed.url}/api/v1/openapi.json`)).json()) as Json;
        assert.deepEqual(keyedDoc.security, [{ apiKey: [] }]);
        assert.deepEqual(keyedDoc.paths['/api/v1/health'].get.security, [], 'health stays open');
      } finally {
        await keyed.close();
        await keyedTarget.cleanup();
      }
    });

    await t.test('/docs serves Swagger UI from local assets, pointed at this document', async () => {
      const page = await fetch(`${app.url}/docs`);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /swagger-ui/);
      const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
      assert.ok(assets.length >= 3, 'the page loads its scripts and styles');
      for (const asset of assets) {
        assert.ok(asset.startsWith('/docs/'), `${asset} is not served by hookd`);
        const served = await fetch(`${app.url}${asset}`);
        assert.equal(served.status, 200, asset);
        assert.ok((await served.arrayBuffer()).byteLength > 0, asset);
      }
      const fromUi = (await (await fetch(`${app.url}/docs/json`)).json()) as Json;
      assert.deepEqual(Object.keys(fromUi.paths), Object.keys(doc.paths));
    });
  });
}

test("the quick start's example secret is its own: not an example of the OpenAPI document, not the public test vector", async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## API'));
  const secrets = new Set(quickStart.match(/whsec_[A-Za-z0-9+/=]+/g));
  assert.equal(secrets.size, 1, 'one secret, used by both the listener and the subscription');
  const examples = JSON.stringify(await import('../src/api/examples.ts'));
  for (const secret of secrets) {
    assert.ok(!examples.includes(secret), `${secret} is also an OpenAPI example`);
    assert.notEqual(secret, VECTOR.secret);
  }
});
