// Where a subscription's deliveries go when it is not an HTTP receiver: a message broker.
// The URL names the broker and may hold its credentials (stored sealed like secrets, shown
// only masked); the other fields name where in the broker the message goes.

export const BROKER_KINDS = ['rabbitmq', 'nats', 'redis'] as const;
export type BrokerKind = (typeof BROKER_KINDS)[number];

/** Published persistent to an exchange with a routing key, confirmed by the broker (publisher confirms). */
export interface RabbitMqDestination {
  type: 'rabbitmq';
  /** amqp:// or amqps://, with credentials and vhost. */
  url: string;
  /** "" is the default exchange, which routes by queue name. */
  exchange: string;
  routingKey: string;
}

/** Published to a JetStream subject, acknowledged by the stream that stores it. */
export interface NatsDestination {
  type: 'nats';
  /** nats://, with user:password or a token (as the user) as credentials. */
  url: string;
  subject: string;
}

/** Appended to a stream with XADD: the payload in field `payload`, the headers beside it. */
export interface RedisDestination {
  type: 'redis';
  /** redis:// or rediss://, with user:password and the database number as the path. */
  url: string;
  stream: string;
  /** Trims the stream to about this many entries (XADD MAXLEN ~); null: untrimmed. */
  maxLen: number | null;
}

export type BrokerDestination = RabbitMqDestination | NatsDestination | RedisDestination;

/** The URL schemes each kind accepts. */
export const BROKER_SCHEMES: Readonly<Record<BrokerKind, readonly string[]>> = {
  rabbitmq: ['amqp:', 'amqps:'],
  nats: ['nats:'],
  redis: ['redis:', 'rediss:'],
};

/** Stands for a password (or a token given as the user) in a shown URL. */
export const MASK = '****';

/**
 * The URL as it may be shown: a password, or a user name standing alone (a NATS token, a
 * Redis password given without a user), replaced by MASK.
 */
export function maskedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '[invalid URL]';
  }
  if (url.password) url.password = MASK;
  else if (url.username) url.username = MASK;
  return url.href;
}

/** The destination with its URL masked: what answers, logs and the UI show. */
export function shownDestination<D extends BrokerDestination>(destination: D): D {
  return { ...destination, url: maskedUrl(destination.url) };
}

/** The destination as JSON shows it (API answers, operational events): snake_case, the URL masked. */
export function destinationJson(destination: BrokerDestination) {
  const shown = shownDestination(destination);
  switch (shown.type) {
    case 'rabbitmq': return { type: shown.type, url: shown.url, exchange: shown.exchange, routing_key: shown.routingKey };
    case 'nats': return { type: shown.type, url: shown.url, subject: shown.subject };
    case 'redis': return { type: shown.type, url: shown.url, stream: shown.stream, max_len: shown.maxLen };
  }
}
