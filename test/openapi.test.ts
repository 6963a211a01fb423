// The OpenAPI document covers every route, and every example in it is valid against its
// schema; /docs serves the interactive reference from local assets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { STORE_NAMES, newTarget, startTestApp } from './support/stores.ts';

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
