// Calling a running hookd's API over real HTTP (a started test app or a hookd process), and
// waiting for deliveries to finish.
import assert from 'node:assert/strict';
import { WAIT_MS, eventually } from './receiver.ts';

/** Anything serving hookd's API: a started App, or a HookdProcess. */
export interface ApiTarget {
  readonly url: string | null;
}

export interface Answer {
  status: number;
  // Tests read answers loosely; their assertions are the type check.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
  at: number;
}

export async function call(target: ApiTarget, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  if (target.url === null) throw new Error('this hookd serves no API');
  const response = await fetch(`${target.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, at: Date.now() };
}

export async function subscribe(target: ApiTarget, targetUrl: string, settings: Record<string, unknown> = {}): Promise<string> {
  const created = await call(target, 'POST', '/subscriptions', { target_url: targetUrl, ...settings });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

/** Ingests one event for one subscription and expects 202. */
export async function ingest(target: ApiTarget, subscriptionId: string, event: Record<string, unknown>): Promise<{ delivery_id: string; event_id: string; status: string }> {
  const answer = await call(target, 'POST', `/ingest/${subscriptionId}`, event);
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return answer.body;
}

/** The delivery with its logs once it has succeeded, failed or been cancelled. */
export async function finished(target: ApiTarget, deliveryId: string, timeoutMs = WAIT_MS) {
  return eventually(async () => {
    const { body } = await call(target, 'GET', `/deliveries/${deliveryId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
  }, timeoutMs, `delivery ${deliveryId} to finish`);
}
