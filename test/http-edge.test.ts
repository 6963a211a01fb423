// The HTTP server's edge: what Node's parser refuses (headers over 16 KiB, a malformed header
// line, Content-Length with Transfer-Encoding) is answered in the one error shape on the raw
// socket; a request that arrives too slowly gets 408 and its connection is closed; an idle
// keep-alive connection is closed. Real sockets, with the timeouts configured short.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { App } from '../src/app.ts';
import { parseWire, sendRaw, type WireAnswer } from './support/raw-http.ts';
import { newTarget, startTestApp, type StoreTarget } from './support/stores.ts';

const HEADERS_TIMEOUT_MS = 400;
const REQUEST_TIMEOUT_MS = 1200;
const KEEP_ALIVE_TIMEOUT_MS = 300;

function assertErrorShape(answer: WireAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(answer.headers.connection, 'close');
  assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(JSON.stringify(answer.body)));
  assert.deepEqual(Object.keys(answer.body), ['error']);
  assert.equal(answer.body.error.code, code);
  assert.equal(typeof answer.body.error.message, 'string');
}

/**
 * Sends `head`, then one byte of body every `everyMs` until the server closes the connection;
 * resolves with what it answered and how long after the first byte it closed.
 */
function dribble(url: string, head: string, everyMs: number, deadlineMs = 15_000): Promise<{ answer: WireAnswer; elapsedMs: number }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setInterval(() => {
      if (socket.writable) socket.write('x');
    }, everyMs);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the connection was still open after ${deadlineMs} ms`));
    }, deadlineMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve({ answer: parseWire(Buffer.concat(chunks).toString('utf8')), elapsedMs: Date.now() - started });
    });
    socket.write(head);
  });
}

describe('the HTTP edge', () => {
  let target: StoreTarget;
  let app: App;

  before(async () => {
    target = newTarget('sqlite');
    app = await startTestApp(target, {
      config: { http: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS } },
    });
  });
  after(async () => {
    await app.close();
    await target.cleanup();
  });

  test('headers over 16 KiB get 431 headers_too_large in the error shape', async () => {
    const answer = await sendRaw(app.url!, `GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Filler: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    assertErrorShape(answer, 431, 'headers_too_large');
    assert.match(answer.body.error.message, /16 KiB/);
  });

  test('a malformed header line gets 400 malformed_request', async () => {
    const answer = await sendRaw(app.url!, 'GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n');
    assertErrorShape(answer, 400, 'malformed_request');
    assert.match(answer.body.error.message, /header line is malformed/);
  });

  test('Content-Length together with Transfer-Encoding gets 400 malformed_request', async () => {
    const answer = await sendRaw(app.url!, 'POST /api/v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    assertErrorShape(answer, 400, 'malformed_request');
    assert.match(answer.body.error.message, /Content-Length and Transfer-Encoding/);
  });

  test('a body dribbled byte by byte gets 408 request_timeout and the connection is closed', async () => {
    const head = 'POST /api/v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{';
    const { answer, elapsedMs } = await dribble(app.url!, head, 100);
    assertErrorShape(answer, 408, 'request_timeout');
    assert.match(answer.body.error.message, new RegExp(`within ${REQUEST_TIMEOUT_MS} ms`));
    assert.ok(elapsedMs >= REQUEST_TIMEOUT_MS - 50, `closed after ${elapsedMs} ms, before the timeout`);
  });

  test('headers dribbled line by line get 408 request_timeout', async () => {
    const { answer, elapsedMs } = await dribble(app.url!, 'GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', 50);
    assertErrorShape(answer, 408, 'request_timeout');
    assert.ok(elapsedMs >= HEADERS_TIMEOUT_MS - 50, `closed after ${elapsedMs} ms`);
  });

  test('an idle keep-alive connection is closed', async () => {
    const { port } = new URL(app.url!);
    const socket = net.connect(Number(port), '127.0.0.1');
    let received = '';
    const closed = new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('the idle connection was still open after 10 s')), 10_000);
      socket.on('close', () => {
        clearTimeout(deadline);
        resolve();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.write('GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await closed;
    assert.match(received, /^HTTP\/1\.1 200 /);
    assert.match(received, /keep-alive/i, 'the connection was kept alive after the answer, then closed when idle');
  });
});
