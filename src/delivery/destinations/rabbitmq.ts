// RabbitMQ destinations: each attempt is published persistent and mandatory on a confirm
// channel, and succeeds when the broker confirms it (publisher confirms). A message no queue
// is bound to take is returned by the broker and counts as refused, so nothing is dropped
// silently. One connection per destination URL, one channel per exchange on it: a channel
// the broker closes (an exchange that does not exist) fails only that exchange's attempts.
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type { RabbitMqDestination } from '../../domain/index.ts';
import { pinnedLookup } from '../ssrf/guarded-connector.ts';
import { AttemptTimeout, BrokerRejection, DEFAULT_BROKER_IDLE_MS, brokerAddress, brokerAttempt, within } from './broker.ts';
import { ConnectionPool } from './connection-pool.ts';
import type { DestinationSender, OutgoingWebhook, SendResult, SenderOptions } from './outgoing.ts';

type Amqplib = typeof import('amqplib');

interface Exchange {
  channel: ConfirmChannel;
  /** Why the broker closed the channel, for the attempts that were waiting on it. */
  closedBecause: Error | null;
  /** Publishes the broker returned as unroutable: `delivery id/attempt`. */
  returned: Set<string>;
}

interface Connection {
  model: ChannelModel;
  exchanges: Map<string, Promise<Exchange>>;
}

/** The broker refused the login, the vhost, or an operation on the channel. */
const REFUSALS = /ACCESS[-_]REFUSED|NOT[-_]ALLOWED|NOT[-_]FOUND|PRECONDITION[-_]FAILED|RESOURCE[-_]LOCKED|\b403\b|\b404\b|\b406\b|\b530\b/;

function returnKey(deliveryId: unknown, attempt: unknown): string {
  return `${String(deliveryId)}/${String(attempt)}`;
}

export class RabbitMqSender implements DestinationSender<RabbitMqDestination> {
  readonly #options: SenderOptions;
  readonly #pool: ConnectionPool<Connection>;
  #client: Promise<Amqplib> | null = null;

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#pool = new ConnectionPool({
      open: (url) => this.#connect(url),
      close: async (connection) => {
        await connection.model.close();
      },
      idleMs: options.brokerIdleMs ?? DEFAULT_BROKER_IDLE_MS,
    });
  }

  /** Connections open now (one per destination URL). */
  get connections(): number {
    return this.#pool.size;
  }

  async #connect(url: string): Promise<Connection> {
    this.#client ??= import('amqplib');
    const amqp = await this.#client;
    const parsed = new URL(url);
    const address = await brokerAddress(parsed, parsed.protocol === 'amqps:' ? 5671 : 5672, this.#options);
    // The hostname stays the URL's (for TLS); it resolves only to the checked addresses.
    const model = await amqp.connect(url, {
      lookup: pinnedLookup(address.checked), timeout: this.#options.connectTimeoutMs,
      clientProperties: { connection_name: 'hookd' },
    });
    const connection: Connection = { model, exchanges: new Map() };
    const broken = () => this.#pool.forget(url, connection);
    model.on('error', broken);
    model.on('close', broken);
    return connection;
  }

  #exchange(connection: Connection, name: string): Promise<Exchange> {
    let exchange = connection.exchanges.get(name);
    if (exchange === undefined) {
      const opening = connection.model.createConfirmChannel().then((channel) => {
        const opened: Exchange = { channel, closedBecause: null, returned: new Set() };
        channel.on('error', (error: Error) => {
          opened.closedBecause = error;
        });
        channel.on('close', () => {
          if (connection.exchanges.get(name) === opening) connection.exchanges.delete(name);
        });
        channel.on('return', (message: Message) => {
          const headers = message.properties.headers ?? {};
          opened.returned.add(returnKey(headers['x-hookd-delivery-id'], headers['x-hookd-attempt']));
        });
        return opened;
      });
      opening.catch(() => connection.exchanges.delete(name));
      connection.exchanges.set(name, opening);
      exchange = opening;
    }
    return exchange;
  }

  send(destination: RabbitMqDestination, webhook: OutgoingWebhook): Promise<SendResult> {
    return brokerAttempt('rabbitmq', destination.url, webhook, this.#options, async (headers) => {
      const lease = await within(this.#pool.acquire(destination.url), this.#options.connectTimeoutMs, 'connect timeout: the broker did not accept the connection in time', webhook.signal);
      try {
        return await within(this.#publish(lease.connection, destination, webhook, headers), this.#options.requestTimeoutMs, 'the broker did not confirm the message in time', webhook.signal);
      } finally {
        lease.release();
      }
    }, (error) => !(error instanceof AttemptTimeout) && REFUSALS.test(String((error as Error)?.message)));
  }

  async #publish(connection: Connection, destination: RabbitMqDestination, webhook: OutgoingWebhook, headers: Record<string, string>): Promise<string> {
    const exchange = await this.#exchange(connection, destination.exchange);
    const key = returnKey(webhook.deliveryId, webhook.attemptNumber);
    await new Promise<void>((resolve, reject) => {
      exchange.channel.publish(destination.exchange, destination.routingKey, Buffer.from(webhook.body.buffer, webhook.body.byteOffset, webhook.body.byteLength), {
        persistent: true,
        mandatory: true,
        contentType: 'application/json',
        messageId: webhook.messageId,
        type: webhook.eventType,
        timestamp: Number(headers['webhook-timestamp']),
        appId: 'hookd',
        headers,
      }, (error) => {
        // A channel the broker closed fails its waiting publishes with "channel closed": say why.
        if (error) {
          exchange.returned.delete(key);
          reject(exchange.closedBecause ?? error);
        }
        else resolve();
      });
    });
    // The broker returns an unroutable mandatory message before it confirms it.
    if (exchange.returned.delete(key)) {
      throw new BrokerRejection(`no queue is bound to exchange "${destination.exchange}" with routing key "${destination.routingKey}" (the broker returned the message)`);
    }
    return `confirmed by the broker (exchange "${destination.exchange}", routing key "${destination.routingKey}")`;
  }

  close(): Promise<void> {
    return this.#pool.closeAll();
  }
}
