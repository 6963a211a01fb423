// Calling a started test app over real HTTP, and waiting for deliveries to finish.
import assert from 'node:assert/strict';
import type { App } from '../../src/app.ts';
import { eventually } from './receiver.ts';

export interface Answer {
  status: number;
  // Tests read answers loosely; their assertions are the type check.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
  at: number;
}

export async function call(app: App, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${app.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, at: Date.now() };
}

export async function subscribe(app: App, targetUrl: string, settings: Record<string, unknown> = {}): Promise<string> {
  const created = await call(app, 'POST', '/subscriptions', { target_url: targetUrl, ...settings });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

/** The delivery with its logs once it has succeeded, failed or been cancelled. */
export async function finished(app: App, deliveryId: string, timeoutMs = 5000) {
  return eventually(async () => {
    const { body } = await call(app, 'GET', `/deliveries/${deliveryId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
  }, timeoutMs, `delivery ${deliveryId} to finish`);
}
