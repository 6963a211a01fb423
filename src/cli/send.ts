// `hookd send`: ingests a test event through a running hookd's HTTP API, then follows each
// delivery it created to the end, printing every attempt. Exit 0 when all succeeded.
import { TERMINAL_STATUSES } from '../domain/index.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, integerOption, type Command } from './command.ts';
import { printable } from './terminal-text.ts';

const DEFAULT_URL = 'http://127.0.0.1:8000';
const DEFAULT_EVENT_TYPE = 'hookd.test';
const DEFAULT_DATA = '{"message":"Hello from hookd send"}';
const DEFAULT_WAIT_SECONDS = 120;
const POLL_INTERVAL_MS = 250;

interface Attempt {
  attempt_number: number;
  outcome: string;
  status_code: number | null;
  error_details: string | null;
  duration_ms: number;
}

interface DeliveryWithLogs {
  id: string;
  subscription_id: string;
  status: string;
  next_attempt_at: string | null;
  logs: Attempt[];
}

class HookdClient {
  readonly #base: string;
  readonly #apiKey: string | undefined;

  constructor(base: string, apiKey: string | undefined) {
    this.#base = base.replace(/\/+$/, '');
    this.#apiKey = apiKey;
  }

  async call<T>(method: string, path: string, body?: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, { method, headers, ...(body !== undefined && { body }) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach hookd at ${this.#base}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let reason = text.slice(0, 300);
      try {
        const { error } = JSON.parse(text) as { error: { code: string; message: string } };
        reason = `${error.code}: ${error.message}`;
      } catch {
        // Not hookd's error shape: show the start of the body as it is.
      }
      throw new Error(`${method} ${path} answered ${response.status} (${printable(reason)})`);
    }
    return JSON.parse(text) as T;
  }
}

function parseData(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new UsageError(`--data must be JSON: ${(error as Error).message}`);
  }
}

function describeAttempt(delivery: DeliveryWithLogs, attempt: Attempt): string {
  const status = attempt.status_code === null ? '' : ` ${attempt.status_code}`;
  const error = attempt.error_details && attempt.outcome !== 'success' ? ` (${printable(attempt.error_details)})` : '';
  return `  delivery ${delivery.id} attempt ${attempt.attempt_number}: ${attempt.outcome}${status} in ${attempt.duration_ms} ms${error}`;
}

/** Polls one delivery, printing each new attempt, until it is finished or the deadline passes. */
async function follow(client: HookdClient, deliveryId: string, deadline: number): Promise<DeliveryWithLogs> {
  let printed = 0;
  for (;;) {
    const delivery = await client.call<DeliveryWithLogs>('GET', `/api/v1/deliveries/${deliveryId}`);
    for (const attempt of delivery.logs.slice(printed)) process.stdout.write(`${describeAttempt(delivery, attempt)}\n`);
    printed = delivery.logs.length;
    const finished = (TERMINAL_STATUSES as readonly string[]).includes(delivery.status);
    if (finished || Date.now() >= deadline) return delivery;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function verdict(delivery: DeliveryWithLogs): string {
  const attempts = `${delivery.logs.length} attempt${delivery.logs.length === 1 ? '' : 's'}`;
  switch (delivery.status) {
    case 'succeeded': return `✓ delivery ${delivery.id} succeeded after ${attempts}`;
    case 'failed': return `✗ delivery ${delivery.id} failed after ${attempts}`;
    case 'filtered': return `✗ delivery ${delivery.id} was filtered: the subscription does not take this event type; nothing was sent`;
    case 'cancelled': return `✗ delivery ${delivery.id} was cancelled: its subscription was deleted`;
    default: return `✗ delivery ${delivery.id} is still ${delivery.status} after ${attempts}`
      + (delivery.next_attempt_at ? `; next attempt at ${delivery.next_attempt_at}` : '') + ' (stopped waiting; see --wait)';
  }
}

export const command: Command = {
  name: 'send',
  summary: 'Ingest a test event through a running hookd and follow its delivery to the end, printing each attempt.',
  usage: 'hookd send <subscription-id> | --event-type TYPE  [--data JSON] [--url http://127.0.0.1:8000] [--api-key KEY]',
  positionals: '<subscription-id>',
  options: {
    'event-type': {
      type: 'string', value: 'TYPE',
      description: `Event type. Without a subscription id the event goes to every subscription that takes it (POST /events); with one, to that subscription only (default ${DEFAULT_EVENT_TYPE}).`,
    },
    data: { type: 'string', value: 'JSON', description: `The event's data (default ${DEFAULT_DATA}).` },
    url: { type: 'string', value: 'URL', description: `Where hookd's API is (default ${DEFAULT_URL}).` },
    'api-key': { type: 'string', value: 'KEY', description: 'API key sent as a bearer token (default: the HOOKD_API_KEY environment variable).' },
    wait: { type: 'string', value: 'SECONDS', description: `Longest time to follow the deliveries (default ${DEFAULT_WAIT_SECONDS}); retries may take longer.` },
  },
  async run({ values, positionals }) {
    if (positionals.length > 1) throw new UsageError(`expected at most one subscription id, got ${positionals.length} arguments`);
    const subscriptionId = positionals[0];
    const eventType = values['event-type'] as string | undefined;
    if (subscriptionId === undefined && eventType === undefined) {
      throw new UsageError('give a subscription id, or --event-type TYPE to send to every subscription that takes it');
    }
    const data = parseData((values.data as string | undefined) ?? DEFAULT_DATA);
    const waitSeconds = values.wait === undefined ? DEFAULT_WAIT_SECONDS : integerOption('wait', values.wait as string, 0, 86_400);
    const base = (values.url as string | undefined) ?? DEFAULT_URL;
    if (!/^https?:\/\/[^/]/.test(base)) throw new UsageError(`--url must be an http:// or https:// URL, got "${base}"`);
    const client = new HookdClient(base, (values['api-key'] as string | undefined) ?? process.env.HOOKD_API_KEY);
    const body = JSON.stringify({ event_type: eventType ?? DEFAULT_EVENT_TYPE, data });

    let deliveryIds: string[];
    if (subscriptionId !== undefined) {
      const ingested = await client.call<{ event_id: string; delivery_id: string }>('POST', `/api/v1/ingest/${encodeURIComponent(subscriptionId)}`, body);
      process.stdout.write(`event ${ingested.event_id} accepted for subscription ${subscriptionId}\n`);
      deliveryIds = [ingested.delivery_id];
    } else {
      const fannedOut = await client.call<{ event_id: string; delivery_ids: string[] }>('POST', '/api/v1/events', body);
      process.stdout.write(`event ${fannedOut.event_id} accepted: ${fannedOut.delivery_ids.length} deliver${fannedOut.delivery_ids.length === 1 ? 'y' : 'ies'}\n`);
      deliveryIds = fannedOut.delivery_ids;
      if (deliveryIds.length === 0) {
        process.stdout.write(`✗ no active subscription takes event type ${eventType}; nothing was sent\n`);
        return EXIT_FAILURE;
      }
    }
    const deadline = Date.now() + waitSeconds * 1000;
    const finished = await Promise.all(deliveryIds.map((id) => follow(client, id, deadline)));
    for (const delivery of finished) process.stdout.write(`${verdict(delivery)}\n`);
    return finished.every((d) => d.status === 'succeeded') ? EXIT_OK : EXIT_FAILURE;
  },
};
