// Receivers check hookd's deliveries with the libraries they already use: npm standardwebhooks,
// svix's Webhook and hookd/verify, for whsec_ secrets and for raw ones (which the Standard
// Webhooks libraries must load with { format: "raw" }, as the create answer warns), and
// X-Hub-Signature-256 as GitHub documents it. Real deliveries to a real loopback receiver.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import type { App } from '../src/app.ts';
import { call, finished, subscribe } from './support/api.ts';
import { startReceiver, type Received, type Receiver } from './support/receiver.ts';
import { STORE_NAMES, newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const SECRETS = { whsec: 'whsec_loPqGAYB7np015ZTgydM7sKVj7pYB4Lj', raw: 'your-long-secret-key' };

type Verifier = (secret: string, received: Received) => unknown;

/** Each library as a receiver would call it: it throws (or says invalid) unless the signature verifies. */
function verifiers(verifyPackage: typeof import('../src/signing/verify.ts').verify): Record<string, Verifier> {
  const headers = (received: Received) => received.headers as Record<string, string>;
  const body = (received: Received) => received.body.toString('utf8');
  const options = (secret: string) => (secret.startsWith('whsec_') ? undefined : { format: 'raw' as const });
  return {
    standardwebhooks: (secret, received) => new StandardWebhook(secret, options(secret)).verify(body(received), headers(received)),
    svix: (secret, received) => new SvixWebhook(secret, options(secret)).verify(body(received), headers(received)),
    'hookd/verify': (secret, received) => {
      const result = verifyPackage({ secret, payload: received.body, headers: received.headers });
      if (!result.valid) throw new Error(result.reason);
      return result;
    },
    'X-Hub-Signature-256 as GitHub documents it': (secret, received) => {
      const expected = `sha256=${createHmac('sha256', secret).update(received.body).digest('hex')}`;
      if (received.headers['x-hub-signature-256'] !== expected) throw new Error('no match');
      return true;
    },
  };
}

for (const name of STORE_NAMES) {
  describe(`receivers verify with standard libraries (${name})`, () => {
    let target: StoreTarget;
    let app: App;
    let receiver: Receiver;
    let checks: Record<string, Verifier>;

    before(async () => {
      const root = fileURLToPath(new URL('..', import.meta.url));
      execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.verify.json'], { cwd: root, stdio: 'pipe' });
      const specifier = 'hookd/verify';
      checks = verifiers(((await import(specifier)) as typeof import('../src/signing/verify.ts')).verify);
      target = newTarget(name);
      receiver = await startReceiver();
      app = await startTestApp(target, { config: { allowNetworks: ['127.0.0.0/8', '::1/128'], pollIntervalMs: 50 } });
    });
    after(async () => {
      await app.close();
      await receiver.close();
      await target.cleanup();
    });

    for (const [kind, secret] of Object.entries(SECRETS)) {
      test(`a ${kind} secret: every library accepts the delivery, and none accepts it with another secret`, async () => {
        const id = await subscribe(app, receiver.url, { secret });
        const ingested = await call(app, 'POST', `/ingest/${id}`, { event_type: 'order.created', data: { kind, amount: 12.5 } });
        assert.equal(ingested.status, 202);
        assert.equal((await finished(app, ingested.body.delivery_id)).status, 'succeeded');
        const received = receiver.requests.find((r) => r.headers['webhook-id'] === ingested.body.event_id)!;
        for (const [library, check] of Object.entries(checks)) {
          assert.doesNotThrow(() => check(secret, received), library);
          const other = kind === 'whsec' ? 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' : 'another-long-secret-key';
          assert.throws(() => check(other, received), `${library} refuses another secret`);
        }
      });
    }

    test('a raw secret loaded without { format: "raw" } is what the libraries refuse (hence the warning)', async () => {
      const created = await call(app, 'POST', '/subscriptions', { target_url: receiver.url, secret: SECRETS.raw });
      assert.equal(created.body.warnings[0].code, 'raw_secret');
      assert.throws(() => new StandardWebhook(SECRETS.raw), /Base64Coder/);
      assert.throws(() => new SvixWebhook(SECRETS.raw), /Base64Coder/);
    });
  });
}
