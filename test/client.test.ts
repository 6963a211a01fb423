// hookd/client: the committed types are those of the current OpenAPI document; the package
// export is compiled JavaScript whose types refuse a wrong body; and it drives a real hookd:
// a subscription, an event delivered to a loopback receiver, the delivery read back.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { App } from '../src/app.ts';
import type { createHookdClient as CreateHookdClient } from '../src/client/client.ts';
import { CLIENT_TYPES_PATH, clientTypes, currentOpenApiDocument } from '../scripts/client-types.ts';
import { eventually, startReceiver, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const API_KEY = `hk_${'c'.repeat(40)}`;

test('the committed client types are those of the current OpenAPI document (else run npm run gen:client)', async () => {
  const expected = await clientTypes(await currentOpenApiDocument());
  assert.ok(readFileSync(CLIENT_TYPES_PATH, 'utf8') === expected, 'src/client/api-types.ts is stale: run `npm run gen:client` and commit it');
});

describe('package export hookd/client (compiled JavaScript)', () => {
  before(() => {
    // Rebuild so the test never runs against a stale dist/ (same command as `npm run build:client`).
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.client.json'], { cwd: root, stdio: 'pipe' });
  });

  test('resolves to dist/client/client.js, and its types refuse a wrong body', () => {
    assert.equal(import.meta.resolve('hookd/client'), new URL('../dist/client/client.js', import.meta.url).href);
    mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(path.join(root, 'test-artifacts', 'client-types-'));
    try {
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [], lib: ['es2022', 'dom'] },
        files: ['use.ts'],
      }));
      const use = (body: string) => writeFileSync(path.join(dir, 'use.ts'), `import { createHookdClient } from 'hookd/client';
const hookd = createHookdClient({ baseUrl: 'http://127.0.0.1:8000' });
export const sent = hookd.POST('/api/v1/subscriptions', { body: ${body} }).then(({ data }) => data?.secret);
`);
      const check = () => execFileSync(process.execPath, [tsc, '-p', dir], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
      use(`{ target_url: 'https://example.com/hook', event_types: ['order.*'] }`);
      check();
      use(`{ target_url: 42 }`);
      assert.throws(check, (error: { stdout: string }) => /use\.ts\(3,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/.test(error.stdout));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const name of STORE_NAMES) {
  describe(`hookd/client against a real hookd (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;
    before(async () => {
      target = newTarget(name);
      receiver = await startReceiver();
      app = await startTestApp(target, { config: { apiKey: API_KEY, allowNetworks: ['127.0.0.0/8'], pollIntervalMs: 50 } });
    });
    after(async () => {
      await app.close();
      await receiver.close();
      await target.cleanup();
    });

    test('create a subscription, send an event, read its delivery and the catalog', async () => {
      const { createHookdClient } = (await import('hookd/client' as string)) as { createHookdClient: typeof CreateHookdClient };
      const hookd = createHookdClient({ baseUrl: `${app.url}/`, apiKey: API_KEY });

      const refused = await createHookdClient({ baseUrl: app.url! }).GET('/api/v1/subscriptions');
      assert.equal(refused.response.status, 401);
      assert.equal(refused.error?.error.code, 'unauthorized');

      const created = await hookd.POST('/api/v1/subscriptions', { body: { target_url: receiver.url, event_types: ['order.*'] } });
      assert.equal(created.response.status, 201, JSON.stringify(created.error));
      const subscription = created.data!;
      assert.match(subscription.secret, /^whsec_/);

      const type = await hookd.POST('/api/v1/event-types', { body: { name: 'order.created', schema: { type: 'object', required: ['order_id'] }, validate: true } });
      assert.equal(type.response.status, 201, JSON.stringify(type.error));
      const invalid = await hookd.POST('/api/v1/events', { body: { event_type: 'order.created', data: { total: 1 } } });
      assert.equal(invalid.response.status, 422);
      assert.equal(invalid.error?.error.code, 'event_data_invalid');

      const sent = await hookd.POST('/api/v1/events', { body: { event_type: 'order.created', data: { order_id: 'ORD-1' } } });
      assert.equal(sent.response.status, 202, JSON.stringify(sent.error));
      assert.equal(sent.data!.deliveries, 1);
      const [received] = await receiver.waitFor(1);
      assert.deepEqual(JSON.parse(received!.body.toString()), { event_type: 'order.created', data: { order_id: 'ORD-1' } });

      const delivery = await eventually(async () => {
        const { data } = await hookd.GET('/api/v1/deliveries/{id}', { params: { path: { id: sent.data!.delivery_ids[0]! } } });
        return data?.status === 'succeeded' ? data : undefined;
      }, undefined, 'the delivery to succeed');
      assert.equal(delivery.subscription_id, subscription.id);
      assert.equal(delivery.logs[0]?.status_code, 200);
      const listed = await hookd.GET('/api/v1/deliveries', { params: { query: { subscription_id: subscription.id, status: 'succeeded' } } });
      assert.deepEqual(listed.data?.items.map((d) => d.id), [delivery.id]);
      const catalog = await hookd.GET('/api/v1/event-types', { params: { query: { limit: 10 } } });
      assert.deepEqual(catalog.data?.items.map((t) => [t.name, t.validate]), [['order.created', true]]);
    });
  });
}
