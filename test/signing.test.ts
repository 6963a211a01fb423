import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  hubSignature,
  secretKey,
  signatureHeaders,
  signStandardWebhook,
  verifyHubSignature,
} from '../src/signing/standard-webhooks.ts';
import { verify } from '../src/signing/verify.ts';
import { VECTOR, vectorHeaders } from './support/signing-vector.ts';

const enc = new TextEncoder();

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

describe('secretKey', () => {
  test('whsec_ secrets are base64-decoded', () => {
    assert.deepEqual(secretKey(VECTOR.secret), Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
  });
  test('other secrets are UTF-8 bytes', () => {
    assert.deepEqual(secretKey('héllo'), Buffer.from('héllo', 'utf8'));
  });
  test('empty or invalid secrets throw', () => {
    assert.throws(() => secretKey(''), TypeError);
    assert.throws(() => secretKey('whsec_'), TypeError);
    assert.throws(() => secretKey('whsec_not base64!'), TypeError);
  });
});

describe('signStandardWebhook', () => {
  test('matches the Standard Webhooks test vector', () => {
    assert.equal(
      signStandardWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, enc.encode(VECTOR.body)),
      VECTOR.signature,
    );
  });

  test('matches the standardwebhooks package for the vector', () => {
    const wh = new Webhook(VECTOR.secret);
    assert.equal(wh.sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body), VECTOR.signature);
  });

  test('standardwebhooks verifies what hookd signs (whsec_ secret)', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const body = '{"type":"order.created","data":{"id":42,"name":"ünïcødé"}}';
    const ts = nowSeconds();
    const headers = signatureHeaders([secret], 'msg_1', ts, enc.encode(body));
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  });

  test('standardwebhooks verifies what hookd signs (raw secret)', () => {
    const secret = 'my-raw-subscription-secret';
    const body = '{"hello":"world"}';
    const headers = signatureHeaders([secret], 'msg_raw', nowSeconds(), enc.encode(body));
    assert.deepEqual(new Webhook(secret, { format: 'raw' }).verify(body, headers), { hello: 'world' });
    // The raw secret is NOT base64-decoded by hookd, so the default (base64) interpretation fails.
    assert.throws(() => new Webhook('bXlzZWNyZXQ=').verify(body, headers));
  });

  test('raw secret signature equals an independently computed HMAC', () => {
    const secret = 'plain secret';
    const body = enc.encode('payload');
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update('id1.1700000000.payload').digest('base64');
    assert.equal(signStandardWebhook(secret, 'id1', 1700000000, body), `v1,${expected}`);
  });

  test('signs body bytes exactly (non-UTF-8 bytes)', () => {
    const body = new Uint8Array([0xff, 0x00, 0xfe]);
    const expected = createHmac('sha256', secretKey(VECTOR.secret))
      .update(Buffer.concat([Buffer.from('i.1.'), Buffer.from(body)]))
      .digest('base64');
    assert.equal(signStandardWebhook(VECTOR.secret, 'i', 1, body), `v1,${expected}`);
  });

  test('rejects non-integer timestamps', () => {
    assert.throws(() => signStandardWebhook(VECTOR.secret, 'i', 1.5, enc.encode('')), TypeError);
    assert.throws(() => signStandardWebhook(VECTOR.secret, 'i', -1, enc.encode('')), TypeError);
  });
});

describe('hubSignature / verifyHubSignature', () => {
  test('known value (GitHub documentation example)', () => {
    assert.equal(
      hubSignature("It's a Secret to Everybody", enc.encode('Hello, World!')),
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  test('is keyed with the secret string as the user sees it, whsec_ prefix included, as GitHub documents', () => {
    // GitHub's documented check: crypto.createHmac('sha256', secret).update(payload).digest('hex'),
    // with the secret as the string it was configured with.
    const body = enc.encode(VECTOR.body);
    for (const secret of [VECTOR.secret, 'raw-secret-of-some-length']) {
      const github = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      assert.equal(hubSignature(secret, body), github, secret);
      assert.equal(verifyHubSignature(secret, body, github), true, secret);
      assert.equal(signatureHeaders([secret], 'id', 1, body)['x-hub-signature-256'], github, secret);
    }
    const decodedKey = createHmac('sha256', Buffer.from(VECTOR.secret.slice('whsec_'.length), 'base64')).update(body).digest('hex');
    assert.equal(verifyHubSignature(VECTOR.secret, body, `sha256=${decodedKey}`), false, 'not the base64-decoded key');
  });

  test('verifyHubSignature accepts the right header (also uppercase hex, surrounding spaces)', () => {
    const body = enc.encode('{"a":1}');
    const header = hubSignature('s3cret', body);
    assert.equal(verifyHubSignature('s3cret', body, header), true);
    assert.equal(verifyHubSignature('s3cret', body, `sha256=${header.slice(7).toUpperCase()}`), true);
    assert.equal(verifyHubSignature('s3cret', body, ` ${header} `), true);
  });

  test('verifyHubSignature rejects wrong, malformed and empty headers without throwing', () => {
    const body = enc.encode('{"a":1}');
    const header = hubSignature('s3cret', body);
    const bad: unknown[] = [
      '',
      'sha256=',
      'sha256',
      header.slice(7), // no prefix
      `sha1=${header.slice(7)}`,
      header.slice(0, -1), // too short
      `${header}00`, // too long
      `${header.slice(0, -1)}g`, // not hex
      `${header.slice(0, -1)}${header.endsWith('0') ? '1' : '0'}`, // one nibble off
      hubSignature('other', body),
      undefined,
      null,
      42,
      {},
    ];
    for (const h of bad) {
      assert.equal(verifyHubSignature('s3cret', body, h as string), false, String(h));
    }
    assert.equal(verifyHubSignature('s3cret', enc.encode('{"a":2}'), header), false);
    assert.equal(verifyHubSignature('', body, header), false);
    assert.equal(verifyHubSignature('whsec_!!', body, header), false);
    assert.equal(verifyHubSignature('s3cret', 'not bytes' as unknown as Uint8Array, header), false);
  });
});

describe('signatureHeaders', () => {
  test('builds all headers; one v1 signature per secret; hub signature from the first secret', () => {
    const body = enc.encode(VECTOR.body);
    const other = 'rotated-raw-secret';
    const headers = signatureHeaders([VECTOR.secret, other], VECTOR.id, VECTOR.timestamp, body);
    assert.deepEqual(Object.keys(headers).sort(), [
      'webhook-id',
      'webhook-signature',
      'webhook-timestamp',
      'x-hub-signature-256',
    ]);
    assert.equal(headers['webhook-id'], VECTOR.id);
    assert.equal(headers['webhook-timestamp'], '1614265330');
    assert.equal(
      headers['webhook-signature'],
      `${VECTOR.signature} ${signStandardWebhook(other, VECTOR.id, VECTOR.timestamp, body)}`,
    );
    assert.equal(headers['x-hub-signature-256'], hubSignature(VECTOR.secret, body));
  });

  test('receivers holding either secret accept a rotation delivery', () => {
    const oldSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const newSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const body = '{"rotating":true}';
    const headers = signatureHeaders([newSecret, oldSecret], 'msg_rot', nowSeconds(), enc.encode(body));
    assert.doesNotThrow(() => new Webhook(oldSecret).verify(body, headers));
    assert.doesNotThrow(() => new Webhook(newSecret).verify(body, headers));
    assert.equal(verify({ secret: oldSecret, payload: body, headers }).valid, true);
    assert.equal(verify({ secret: newSecret, payload: body, headers }).valid, true);
  });

  test('requires at least one secret', () => {
    assert.throws(() => signatureHeaders([], 'id', 1, enc.encode('')), TypeError);
  });
});

describe('verify', () => {
  test('accepts the test vector', () => {
    assert.deepEqual(
      verify({ secret: VECTOR.secret, payload: VECTOR.body, headers: vectorHeaders(), now: VECTOR.timestamp }),
      { valid: true, id: VECTOR.id, timestamp: VECTOR.timestamp },
    );
  });

  test('accepts what standardwebhooks Webhook.sign produces', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const wh = new Webhook(secret);
    const ts = nowSeconds();
    const body = '{"from":"standardwebhooks"}';
    const signature = wh.sign('msg_sw', new Date(ts * 1000), body);
    const result = verify({
      secret,
      payload: body,
      headers: { 'webhook-id': 'msg_sw', 'webhook-timestamp': String(ts), 'webhook-signature': signature },
    });
    assert.deepEqual(result, { valid: true, id: 'msg_sw', timestamp: ts });
  });

  test('accepts standardwebhooks raw-format signatures with a raw secret', () => {
    const secret = 'raw-secret-no-prefix';
    const ts = nowSeconds();
    const signature = new Webhook(secret, { format: 'raw' }).sign('msg_r', new Date(ts * 1000), 'x');
    const headers = { 'webhook-id': 'msg_r', 'webhook-timestamp': String(ts), 'webhook-signature': signature };
    assert.equal(verify({ secret, payload: 'x', headers }).valid, true);
  });

  test('timestamp tolerance: too old and too new are rejected, edges accepted', () => {
    const base = { secret: VECTOR.secret, payload: VECTOR.body, headers: vectorHeaders() };
    const t = VECTOR.timestamp;
    assert.equal(verify({ ...base, now: t + 300 }).valid, true);
    assert.equal(verify({ ...base, now: t - 300 }).valid, true);
    assert.deepEqual(verify({ ...base, now: t + 301 }), { valid: false, reason: 'timestamp outside tolerance' });
    assert.deepEqual(verify({ ...base, now: t - 301 }), { valid: false, reason: 'timestamp outside tolerance' });
    assert.equal(verify({ ...base, now: t + 1000, toleranceSeconds: 1000 }).valid, true);
    assert.equal(verify({ ...base, now: t + 1, toleranceSeconds: 0 }).valid, false);
    // Default `now` is the system clock: a 2021 timestamp is far outside.
    assert.deepEqual(verify(base), { valid: false, reason: 'timestamp outside tolerance' });
  });

  test('several signatures: any one valid v1 is enough', () => {
    const wrong = `v1,${Buffer.alloc(32, 1).toString('base64')}`;
    const sig = [wrong, 'v2,whatever', 'garbage', VECTOR.signature].join(' ');
    const result = verify({ secret: VECTOR.secret, payload: VECTOR.body, headers: vectorHeaders(sig), now: VECTOR.timestamp });
    assert.equal(result.valid, true);
    // Only invalid ones → rejected; a right digest under another version tag is not accepted.
    const onlyWrong = [wrong, `v2,${VECTOR.signature.slice(3)}`].join(' ');
    assert.deepEqual(
      verify({ secret: VECTOR.secret, payload: VECTOR.body, headers: vectorHeaders(onlyWrong), now: VECTOR.timestamp }),
      { valid: false, reason: 'no matching signature' },
    );
  });

  test('wrong secret, tampered body, id or timestamp → no matching signature', () => {
    const now = VECTOR.timestamp;
    const fails = [
      verify({ secret: `whsec_${randomBytes(24).toString('base64')}`, payload: VECTOR.body, headers: vectorHeaders(), now }),
      verify({ secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', payload: VECTOR.body, headers: vectorHeaders(), now }),
      verify({ secret: VECTOR.secret, payload: '{"test": 2432232315}', headers: vectorHeaders(), now }),
      verify({ secret: VECTOR.secret, payload: VECTOR.body, headers: { ...vectorHeaders(), 'webhook-id': 'msg_other' }, now }),
      verify({ secret: VECTOR.secret, payload: VECTOR.body, headers: { ...vectorHeaders(), 'webhook-timestamp': String(now + 1) }, now }),
    ];
    for (const r of fails) assert.deepEqual(r, { valid: false, reason: 'no matching signature' });
  });

  test('missing headers', () => {
    const base = { secret: VECTOR.secret, payload: VECTOR.body, now: VECTOR.timestamp };
    const h = vectorHeaders();
    assert.deepEqual(verify({ ...base, headers: {} }), {
      valid: false,
      reason: 'missing webhook-signature or x-hub-signature-256 header',
    });
    assert.deepEqual(verify({ ...base, headers: { ...h, 'webhook-signature': '' } }), {
      valid: false,
      reason: 'missing webhook-signature or x-hub-signature-256 header',
    });
    assert.deepEqual(verify({ ...base, headers: { ...h, 'webhook-id': undefined } }), {
      valid: false,
      reason: 'missing webhook-id header',
    });
    assert.deepEqual(verify({ ...base, headers: { ...h, 'webhook-timestamp': undefined } }), {
      valid: false,
      reason: 'missing webhook-timestamp header',
    });
    for (const ts of ['abc', '1614265330.5', '-1614265330', '1e9', '0x10']) {
      assert.deepEqual(verify({ ...base, headers: { ...h, 'webhook-timestamp': ts } }), {
        valid: false,
        reason: 'invalid webhook-timestamp header',
      });
    }
  });

  test('Headers object (case-insensitive by nature)', () => {
    const headers = new Headers({
      'Webhook-Id': VECTOR.id,
      'WEBHOOK-TIMESTAMP': String(VECTOR.timestamp),
      'webhook-Signature': VECTOR.signature,
      'Content-Type': 'application/json',
    });
    assert.deepEqual(verify({ secret: VECTOR.secret, payload: VECTOR.body, headers, now: VECTOR.timestamp }), {
      valid: true,
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
    });
  });

  test('Headers object with a repeated webhook-signature header (comma-joined)', () => {
    const headers = new Headers();
    headers.append('webhook-id', VECTOR.id);
    headers.append('webhook-timestamp', String(VECTOR.timestamp));
    headers.append('webhook-signature', `v1,${Buffer.alloc(32).toString('base64')}`);
    headers.append('webhook-signature', VECTOR.signature);
    assert.equal(verify({ secret: VECTOR.secret, payload: VECTOR.body, headers, now: VECTOR.timestamp }).valid, true);
  });

  test('plain object with mixed-case names and array values', () => {
    const wrong = `v1,${Buffer.alloc(32, 7).toString('base64')}`;
    const headers = {
      'WeBhOoK-iD': [VECTOR.id],
      'Webhook-Timestamp': [String(VECTOR.timestamp)],
      'WEBHOOK-SIGNATURE': [wrong, VECTOR.signature],
      'x-other': undefined,
    };
    assert.deepEqual(verify({ secret: VECTOR.secret, payload: VECTOR.body, headers, now: VECTOR.timestamp }), {
      valid: true,
      id: VECTOR.id,
      timestamp: VECTOR.timestamp,
    });
  });

  test('Uint8Array and Buffer payloads', () => {
    const base = { secret: VECTOR.secret, headers: vectorHeaders(), now: VECTOR.timestamp };
    assert.equal(verify({ ...base, payload: enc.encode(VECTOR.body) }).valid, true);
    assert.equal(verify({ ...base, payload: Buffer.from(VECTOR.body) }).valid, true);
    const bytes = enc.encode(`xx${VECTOR.body}`).subarray(2); // view with offset
    assert.equal(verify({ ...base, payload: bytes }).valid, true);
  });

  test('falls back to X-Hub-Signature-256 when there is no webhook-signature header', () => {
    const secret = 'hub-secret';
    const body = '{"hub":true}';
    const hub = hubSignature(secret, enc.encode(body));
    assert.deepEqual(verify({ secret, payload: body, headers: { 'X-Hub-Signature-256': hub } }), {
      valid: true,
      id: '',
      timestamp: 0,
    });
    // id / timestamp are reported from the headers when present; timestamp is not checked against the tolerance.
    assert.deepEqual(
      verify({
        secret,
        payload: body,
        headers: new Headers({ 'x-hub-signature-256': hub, 'webhook-id': 'msg_h', 'webhook-timestamp': '1000' }),
      }),
      { valid: true, id: 'msg_h', timestamp: 1000 },
    );
    assert.deepEqual(verify({ secret: 'other', payload: body, headers: { 'x-hub-signature-256': hub } }), {
      valid: false,
      reason: 'no matching signature',
    });
    assert.deepEqual(verify({ secret, payload: `${body} `, headers: { 'x-hub-signature-256': hub } }), {
      valid: false,
      reason: 'no matching signature',
    });
    // hookd's own headers: the fallback works with whsec_ secrets too.
    const full = signatureHeaders([VECTOR.secret], 'msg_f', 5, enc.encode(body));
    const { 'webhook-signature': _dropped, ...withoutStandard } = full;
    assert.deepEqual(verify({ secret: VECTOR.secret, payload: body, headers: withoutStandard }), {
      valid: true,
      id: 'msg_f',
      timestamp: 5,
    });
  });

  test('no downgrade: a failing webhook-signature is not rescued by a valid x-hub-signature-256', () => {
    const body = enc.encode(VECTOR.body);
    const headers = {
      ...vectorHeaders(`v1,${Buffer.alloc(32).toString('base64')}`),
      'x-hub-signature-256': hubSignature(VECTOR.secret, body),
    };
    assert.deepEqual(verify({ secret: VECTOR.secret, payload: body, headers, now: VECTOR.timestamp }), {
      valid: false,
      reason: 'no matching signature',
    });
  });

  test('garbage inputs never throw', () => {
    const garbage: unknown[] = [
      undefined,
      null,
      42,
      'string',
      [],
      {},
      { secret: 1, payload: 'x', headers: {} },
      { secret: '', payload: 'x', headers: {} },
      { secret: 'whsec_', payload: 'x', headers: {} },
      { secret: 'whsec_***', payload: 'x', headers: {} },
      { secret: 's', payload: 42, headers: {} },
      { secret: 's', payload: { length: 3 }, headers: {} },
      { secret: 's', payload: 'x' },
      { secret: 's', payload: 'x', headers: null },
      { secret: 's', payload: 'x', headers: 'webhook-id: 1' },
      { secret: 's', payload: 'x', headers: [['webhook-id', '1']] },
      { secret: 's', payload: 'x', headers: { 'webhook-signature': 42, 'webhook-id': {}, 'webhook-timestamp': [1] } },
      { secret: 's', payload: 'x', headers: { 'webhook-signature': ',,, v1, v1,,, ,', 'webhook-id': 'a', 'webhook-timestamp': '1' }, now: 1 },
      { secret: 's', payload: 'x', headers: { 'webhook-signature': 'v1,' + 'A'.repeat(10000), 'webhook-id': 'a', 'webhook-timestamp': '1' }, now: 1 },
      { secret: 's', payload: 'x', headers: { 'webhook-signature': 'v1,x', 'webhook-id': 'a', 'webhook-timestamp': '9'.repeat(400) } },
      { secret: 's', payload: 'x', headers: { 'x-hub-signature-256': ['', 'sha256=zz'] } },
      { secret: 's', payload: 'x', headers: vectorHeaders(), toleranceSeconds: -1 },
      { secret: 's', payload: 'x', headers: vectorHeaders(), toleranceSeconds: Number.NaN },
      { secret: 's', payload: 'x', headers: vectorHeaders(), now: 'now' },
      { secret: 's', payload: 'x', headers: { get() { throw new Error('boom'); }, forEach() { throw new Error('boom'); } } },
      { secret: 's', payload: 'x', headers: Object.create(null) },
    ];
    for (const input of garbage) {
      let result: ReturnType<typeof verify> | undefined;
      assert.doesNotThrow(() => {
        result = verify(input as Parameters<typeof verify>[0]);
      }, `input: ${JSON.stringify(input)}`);
      assert.equal(result?.valid, false, `input: ${JSON.stringify(input)}`);
      assert.equal(typeof (result as { reason: unknown }).reason, 'string');
    }
    // A throwing getter on options is caught too.
    const hostile = {
      get secret(): string {
        throw new Error('boom');
      },
    };
    assert.deepEqual(verify(hostile as unknown as Parameters<typeof verify>[0]), { valid: false, reason: 'invalid input' });
  });
});
