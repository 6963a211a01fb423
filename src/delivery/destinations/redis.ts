// Redis Streams destinations: each attempt is one XADD (the payload in field `payload`, each
// header a field beside it), and succeeds when Redis answers with the entry's id. The client
// is node-redis's core (@redis/client), maintained by Redis itself, typed, taking Buffers as
// arguments so the payload is stored byte for byte; without the bundled modules (search,
// JSON, ...) of the `redis` package, which hookd does not use. One connection per
// destination URL, with no offline queue and no reconnecting: a lost connection fails its
// attempts at once, and the next attempt opens a new one.
import type { RedisClientType } from '@redis/client';
import type { RedisDestination } from '../../domain/index.ts';
import { pinnedLookup } from '../ssrf/guarded-connector.ts';
import { DEFAULT_BROKER_IDLE_MS, brokerAddress, brokerAttempt, within } from './broker.ts';
import { ConnectionPool } from './connection-pool.ts';
import type { DestinationSender, OutgoingWebhook, SendResult, SenderOptions } from './outgoing.ts';

type Client = RedisClientType;

/** Redis answered with an error reply: wrong password, no permission, a key of another type. */
function isErrorReply(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  return name.endsWith('ErrorReply') || /^(WRONGPASS|NOAUTH|NOPERM|WRONGTYPE|ERR|OOM|READONLY)\b/.test(String((error as Error)?.message));
}

export class RedisSender implements DestinationSender<RedisDestination> {
  readonly #options: SenderOptions;
  readonly #pool: ConnectionPool<Client>;
  #client: Promise<typeof import('@redis/client')> | null = null;

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#pool = new ConnectionPool({
      open: (url) => this.#connect(url),
      close: async (client) => {
        if (client.isOpen) await client.close();
      },
      idleMs: options.brokerIdleMs ?? DEFAULT_BROKER_IDLE_MS,
      usable: (client) => client.isReady,
    });
  }

  get connections(): number {
    return this.#pool.size;
  }

  async #connect(url: string): Promise<Client> {
    this.#client ??= import('@redis/client');
    const redis = await this.#client;
    const parsed = new URL(url);
    const address = await brokerAddress(parsed, 6379, this.#options);
    const database = Number(parsed.pathname.slice(1) || '0');
    const tls = parsed.protocol === 'rediss:';
    const client = redis.createClient({
      ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
      ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
      ...(database > 0 && { database }),
      disableOfflineQueue: true,
      // The hostname stays the URL's (for TLS); it resolves only to the checked addresses.
      socket: {
        host: address.hostname, port: address.port, lookup: pinnedLookup(address.checked),
        connectTimeout: this.#options.connectTimeoutMs, reconnectStrategy: false,
        ...(tls && { tls: true as const, servername: address.hostname }),
      },
    }) as unknown as Client;
    // Errors also reject the commands they concern; without a listener they would be thrown.
    client.on('error', () => {});
    client.on('end', () => this.#pool.forget(url, client));
    try {
      await client.connect();
    } catch (error) {
      client.destroy();
      throw error;
    }
    return client;
  }

  send(destination: RedisDestination, webhook: OutgoingWebhook): Promise<SendResult> {
    return brokerAttempt('redis', destination.url, webhook, this.#options, async (headers) => {
      const lease = await within(this.#pool.acquire(destination.url), this.#options.connectTimeoutMs, 'connect timeout: Redis did not accept the connection in time', webhook.signal);
      try {
        const trim = destination.maxLen === null ? [] : ['MAXLEN', '~', String(destination.maxLen)];
        const fields = Object.entries(headers).flat();
        const body = Buffer.from(webhook.body.buffer, webhook.body.byteOffset, webhook.body.byteLength);
        const id = await within(lease.connection.sendCommand<string>(['XADD', destination.stream, ...trim, '*', 'payload', body, ...fields]),
          this.#options.requestTimeoutMs, 'Redis did not answer in time', webhook.signal);
        return `added to stream "${destination.stream}" as entry ${String(id)}`;
      } finally {
        lease.release();
      }
    }, isErrorReply);
  }

  close(): Promise<void> {
    return this.#pool.closeAll();
  }
}
