// The hookd/verify package export: src/signing/verify.ts compiled by tsc over tsconfig.verify.json
// (what `npm run build:verify` and `prepare` run) into plain JavaScript in dist/.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { signatureHeaders } from '../src/signing/standard-webhooks.ts';
import { VECTOR, vectorHeaders } from './support/signing-vector.ts';

describe('package export hookd/verify (compiled JavaScript)', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));

  before(() => {
    // Rebuild so the test never runs against a stale dist/ (same command as `npm run build:verify`).
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.verify.json'], { cwd: root, stdio: 'pipe' });
  });

  test('self-reference import resolves to dist/verify.js and verifies signatures', async () => {
    // Specifier in a variable so type checking does not depend on dist/ existing.
    const specifier = 'hookd/verify';
    assert.equal(import.meta.resolve(specifier), new URL('../dist/verify.js', import.meta.url).href);
    const mod = (await import(specifier)) as typeof import('../src/signing/verify.ts');
    assert.deepEqual(Object.keys(mod), ['verify']);
    assert.deepEqual(
      mod.verify({ secret: VECTOR.secret, payload: VECTOR.body, headers: vectorHeaders(), now: VECTOR.timestamp }),
      { valid: true, id: VECTOR.id, timestamp: VECTOR.timestamp },
    );
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const body = '{"built":true}';
    const headers = signatureHeaders([secret], 'msg_dist', Math.floor(Date.now() / 1000), new TextEncoder().encode(body));
    assert.equal(mod.verify({ secret, payload: body, headers }).valid, true);
    assert.deepEqual(mod.verify({ secret: 'wrong', payload: body, headers }), { valid: false, reason: 'no matching signature' });
  });

  test('the compiled files are plain JavaScript importing .js siblings', async () => {
    const js = await readFile(new URL('../dist/verify.js', import.meta.url), 'utf8');
    assert.match(js, /from "\.\/standard-webhooks\.js"/);
    assert.doesNotMatch(js, /\.ts["']/);
    const dts = await readFile(new URL('../dist/verify.d.ts', import.meta.url), 'utf8');
    assert.match(dts, /export declare function verify\(options: VerifyOptions\): VerifyResult;/);
  });
});
