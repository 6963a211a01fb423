// Notifications between hookd processes on PostgreSQL: NOTIFY to publish, one dedicated
// LISTEN connection to hear the others. Wake-ups without payload are coalesced; a lost
// connection is re-established with back-off, and workers poll meanwhile.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { InProcessNotifier, type Listener, type Notifier, type Topic } from '../notifier.ts';

const RECONNECT_DELAY_MS = 1000;
const TOPICS: readonly Topic[] = ['deliveries-due', 'subscription-changed', 'event-type-changed'];

/** Publishes through NOTIFY and relays what other processes publish to local listeners. */
export class PostgresNotifier implements Notifier {
  readonly #local = new InProcessNotifier();
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #channelPrefix: string;
  readonly #origin = randomUUID();
  #client: pg.Client | null = null;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #wakeUpsInFlight = new Set<Topic>();
  readonly #wakeUpsPending = new Set<Topic>();

  constructor(pool: pg.Pool, clientConfig: pg.ClientConfig, schema: string | undefined) {
    this.#pool = pool;
    this.#clientConfig = clientConfig;
    this.#channelPrefix = schema ? `hookd_${schema}_` : 'hookd_';
  }

  #channel(topic: Topic): string {
    return this.#channelPrefix + topic.replace(/-/g, '_');
  }

  async start(): Promise<void> {
    const client = new pg.Client(this.#clientConfig);
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    client.on('notification', (message) => {
      const topic = TOPICS.find((t) => this.#channel(t) === message.channel);
      const [origin, payload = ''] = (message.payload ?? '').split('|', 2) as [string, string?];
      if (topic && origin !== this.#origin) this.#local.publish(topic, payload);
    });
    try {
      await client.connect();
      for (const topic of TOPICS) await client.query(`LISTEN "${this.#channel(topic)}"`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) await client.end().catch(() => {});
    else this.#client = client;
  }

  #reconnect(client: pg.Client): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = null;
    client.end().catch(() => {});
    this.#retryLater();
  }

  /**
   * Until LISTEN is back, workers still poll and caches still expire by TTL. Every failed
   * attempt schedules the next, however long the database stays away; once back, local
   * workers look for due work at once, as notifications sent meanwhile were lost.
   */
  #retryLater(): void {
    this.#retry = setTimeout(() => {
      this.start().then(() => this.#local.publish('deliveries-due', ''), () => this.#retryLater());
    }, RECONNECT_DELAY_MS);
    this.#retry.unref();
  }

  publish(topic: Topic, payload: string): void {
    this.#local.publish(topic, payload);
    if (payload === '') this.#wakeUpOthers(topic);
    else this.#notify(topic, payload);
  }

  /**
   * A wake-up without payload only says "look again": while one is on its way, any number
   * published meanwhile become one more, sent after it. Under load that is one NOTIFY per
   * round trip instead of one per commit.
   */
  #wakeUpOthers(topic: Topic): void {
    if (this.#wakeUpsInFlight.has(topic)) {
      this.#wakeUpsPending.add(topic);
      return;
    }
    this.#wakeUpsInFlight.add(topic);
    this.#notify(topic, '').finally(() => {
      this.#wakeUpsInFlight.delete(topic);
      if (this.#wakeUpsPending.delete(topic) && !this.#closed) this.#wakeUpOthers(topic);
    });
  }

  #notify(topic: Topic, payload: string): Promise<unknown> {
    return this.#pool.query('select pg_notify($1, $2)', [this.#channel(topic), `${this.#origin}|${payload}`]).catch(() => {
      // Best effort: other processes fall back to polling and cache TTLs.
    });
  }

  subscribe(topic: Topic, listener: Listener): () => void {
    return this.#local.subscribe(topic, listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }
}
