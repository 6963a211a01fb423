// Sends one attempt to wherever the subscription's deliveries go: its HTTP target URL, or the
// broker of its destination. The dispatcher sees one sender and one result shape; each kind
// lives in destinations/, and a broker's client is loaded the first time a subscription uses
// that kind (most hookd processes never load one).
import type { BrokerDestination, BrokerKind } from '../domain/index.ts';
import { HttpSender } from './destinations/http.ts';
import type { DestinationSender, OutgoingWebhook, SendResult, SenderOptions } from './destinations/outgoing.ts';

export type { OutgoingWebhook, SendResult, SenderOptions } from './destinations/outgoing.ts';

type BrokerSenders = { [K in BrokerKind]: DestinationSender<Extract<BrokerDestination, { type: K }>> };

const BROKER_MODULES: { [K in BrokerKind]: (options: SenderOptions) => Promise<BrokerSenders[K]> } = {
  rabbitmq: async (options) => new (await import('./destinations/rabbitmq.ts')).RabbitMqSender(options),
  nats: async (options) => new (await import('./destinations/nats.ts')).NatsSender(options),
  redis: async (options) => new (await import('./destinations/redis.ts')).RedisSender(options),
};

export class Sender {
  readonly #options: SenderOptions;
  readonly #http: HttpSender;
  readonly #brokers = new Map<BrokerKind, Promise<DestinationSender<BrokerDestination>>>();

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#http = new HttpSender(options);
  }

  async send(webhook: OutgoingWebhook): Promise<SendResult> {
    const destination = webhook.destination;
    if (destination === null) return this.#http.send(webhook.url!, webhook);
    return (await this.#broker(destination.type)).send(destination, webhook);
  }

  #broker(kind: BrokerKind): Promise<DestinationSender<BrokerDestination>> {
    let sender = this.#brokers.get(kind);
    if (sender === undefined) {
      const loading = BROKER_MODULES[kind](this.#options) as Promise<DestinationSender<BrokerDestination>>;
      // A client that failed to load is tried again by the next attempt.
      loading.catch(() => this.#brokers.delete(kind));
      this.#brokers.set(kind, loading);
      sender = loading;
    }
    return sender;
  }

  /** Whether a kind's client has been loaded (it is, once a subscription of that kind was sent to). */
  loaded(kind: BrokerKind): boolean {
    return this.#brokers.has(kind);
  }

  async close(): Promise<void> {
    await Promise.all([this.#http.close(), ...[...this.#brokers.values()].map(async (sender) => (await sender.catch(() => null))?.close())]);
  }
}
