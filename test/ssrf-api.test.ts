// The SSRF guard at the API: a target_url whose host is an IP literal in a blocked range
// (after WHATWG URL normalisation) is refused on create and on update, with the reason.
// Runs with HOOKD_ALLOW_NETWORKS unset, except where it checks the allowlist itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { call, subscribe } from './support/api.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

/** URL → what the reason must say. */
const BLOCKED: [string, RegExp][] = [
  ['http://127.0.0.1/hook', /loopback/],
  ['http://2130706433/', /127\.0\.0\.1.*loopback/],
  ['http://0x7f.1/', /127\.0\.0\.1.*loopback/],
  ['http://0/', /0\.0\.0\.0/],
  ['http://[::ffff:7f00:1]/', /127\.0\.0\.1/],
  ['http://[::1]:8080/', /loopback/],
  ['https://169.254.169.254/latest/meta-data/', /link-local/],
  ['http://10.1.2.3/', /private/],
  ['http://192.168.0.10/', /private/],
  ['http://100.64.0.1/', /shared|CGNAT/i],
  ['http://[fd00:ec2::254]/', /fd00:ec2::254/],
  ['http://[fe80::1]/', /link-local/],
  ['http://[64:ff9b::a00:1]/', /10\.0\.0\.1/],
];

for (const name of STORE_NAMES) {
  describe(`SSRF guard at the API (${name})`, () => {
    const targets: StoreTarget[] = [];
    let app: App;
    let allowing: App;

    before(async () => {
      targets.push(newTarget(name), newTarget(name));
      app = await startTestApp(targets[0]!);
      allowing = await startTestApp(targets[1]!, { config: { allowNetworks: ['127.0.0.0/8'] } });
    });
    after(async () => {
      await app.close();
      await allowing.close();
      for (const target of targets) await target.cleanup();
    });

    test('create refuses IP literals in blocked ranges with 422 target_url_blocked and the reason', async () => {
      for (const [url, reason] of BLOCKED) {
        const answer = await call(app, 'POST', '/subscriptions', { target_url: url });
        assert.equal(answer.status, 422, `${url}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'target_url_blocked', url);
        assert.match(answer.body.error.message, /^target_url: deliveries may not go there: /);
        assert.match(answer.body.error.message, reason, url);
        assert.equal(answer.body.error.details[0].field, 'target_url');
      }
      assert.deepEqual((await call(app, 'GET', '/subscriptions')).body.items, [], 'nothing was created');
    });

    test('PUT and PATCH refuse them too and leave the subscription unchanged', async () => {
      const id = await subscribe(app, 'https://93.184.215.14/hook');
      for (const method of ['PUT', 'PATCH']) {
        const answer = await call(app, method, `/subscriptions/${id}`, { target_url: 'http://2130706433/' });
        assert.equal(answer.body.error.code, 'target_url_blocked', method);
      }
      assert.equal((await call(app, 'GET', `/subscriptions/${id}`)).body.target_url, 'https://93.184.215.14/hook');
    });

    test('public literals and host names are accepted: names are checked when connecting', async () => {
      for (const url of ['https://93.184.215.14/', 'http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/', 'https://localhost/', 'https://internal.example/']) {
        assert.equal((await call(app, 'POST', '/subscriptions', { target_url: url })).status, 201, url);
      }
    });

    test('HOOKD_ALLOW_NETWORKS opens exactly the listed ranges', async () => {
      assert.equal((await call(allowing, 'POST', '/subscriptions', { target_url: 'http://127.0.0.1:9/hook' })).status, 201);
      assert.equal((await call(allowing, 'POST', '/subscriptions', { target_url: 'http://2130706433/' })).status, 201);
      assert.equal((await call(allowing, 'POST', '/subscriptions', { target_url: 'http://10.0.0.1/' })).body.error.code, 'target_url_blocked');
    });
  });
}
