// The `destination` of a subscription in the API: a broker instead of an HTTP target URL.
// Its schemas (one per kind, told apart by `type`), the view that answers show (the URL's
// password masked), and the checks the schema cannot make (the host's network policy).
import net from 'node:net';
import Type, { type Static } from 'typebox';
import { BROKER_SCHEMES, destinationJson, maskedUrl, type BrokerDestination } from '../domain/index.ts';
import type { AddressVerdict, NetworkPolicy } from '../delivery/ssrf/network-policy.ts';
import { ApiError, invalidField } from './errors.ts';
import { FORMAT_MESSAGE } from './schemas.ts';

// The URL a client library parses: a scheme, optional credentials (percent-encoded), a host
// name or IPv4 address, an optional port, and what the kind allows after it.
const USERINFO = "([A-Za-z0-9._~!$&'()*+,;=%-]*(:[A-Za-z0-9._~!$&'()*+,;=%-]*)?@)?";
const HOST = '[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*';
const PORT = '(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?';

function brokerUrl(scheme: string, rest: string, says: string, example: string) {
  return Type.String({
    minLength: 1, maxLength: 2048, pattern: `^${scheme}://${USERINFO}${HOST}${PORT}${rest}$`,
    [FORMAT_MESSAGE]: `must be ${says}`,
    description: `${says[0]!.toUpperCase()}${says.slice(1)}. Credentials are stored encrypted (with HOOKD_ENCRYPTION_KEY) and answers show the password as ****; sending back the URL as shown keeps the stored one. A host that is an IP address in a blocked range gets 422 destination_blocked; a name is checked when connecting, as for target_url.`,
    examples: [example],
  });
}

const RabbitMqBody = Type.Object({
  type: Type.Literal('rabbitmq'),
  url: brokerUrl('[Aa][Mm][Qq][Pp][Ss]?', '(/[^?#\\s]*)?', 'an amqp:// or amqps:// URL (amqp://user:password@host:5672/vhost)', 'amqp://hookd:secret@rabbitmq.internal:5672/%2F'),
  exchange: Type.String({
    maxLength: 255, pattern: '^[A-Za-z0-9_.:-]*$', [FORMAT_MESSAGE]: 'must be an exchange name: letters, digits, "_", "-", ".", ":" ("" is the default exchange)',
    description: 'The exchange to publish to; "" is the default exchange, which routes by queue name.',
  }),
  routing_key: Type.String({ maxLength: 255, pattern: '^[ -~]*$', [FORMAT_MESSAGE]: 'must be printable ASCII', description: 'The routing key of every message.' }),
}, { additionalProperties: false, description: 'Published persistent and mandatory, with publisher confirms: an attempt succeeds when the broker confirms; a message no queue takes is returned and the attempt fails (rejected).' });

const NatsBody = Type.Object({
  type: Type.Literal('nats'),
  url: brokerUrl('[Nn][Aa][Tt][Ss]', '/?', 'a nats:// URL (nats://user:password@host:4222, or nats://token@host:4222)', 'nats://hookd:secret@nats.internal:4222'),
  subject: Type.String({
    minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_$:-]+(\\.[A-Za-z0-9_$:-]+)*$',
    [FORMAT_MESSAGE]: 'must be a subject: dot-separated tokens of letters, digits, "_", "-", "$", ":" (no wildcards)',
    description: 'The subject to publish to; a JetStream stream must capture it.',
  }),
}, { additionalProperties: false, description: 'Published to JetStream: an attempt succeeds when the stream that captures the subject acknowledges the message.' });

const RedisBody = Type.Object({
  type: Type.Literal('redis'),
  url: brokerUrl('[Rr][Ee][Dd][Ii][Ss][Ss]?', '(/[0-9]{1,5})?/?', 'a redis:// or rediss:// URL (redis://user:password@host:6379/0, the path being the database)', 'redis://default:secret@redis.internal:6379/0'),
  stream: Type.String({ minLength: 1, maxLength: 256, pattern: '^[!-~]+$', [FORMAT_MESSAGE]: 'must be printable ASCII without spaces', description: 'The stream key XADD appends to.' }),
  max_len: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.Null()], { description: 'Trims the stream to about this many entries (XADD MAXLEN ~). Absent or null: never trimmed.' })),
}, { additionalProperties: false, description: 'Appended with XADD: the payload in field `payload`, each header a field beside it; an attempt succeeds when Redis answers with the entry id.' });

const KINDS_DESCRIPTION = 'A broker instead of an HTTP target URL: a RabbitMQ exchange, a NATS JetStream subject or a Redis stream. Each message carries the payload as its body, byte for byte, and the headers an HTTP delivery gets (webhook-id, webhook-timestamp, webhook-signature, x-hookd-event-type, …) as message headers.';

type DestinationBody = Static<typeof RabbitMqBody> | Static<typeof NatsBody> | Static<typeof RedisBody>;

/** The destination a request may set: one of the kinds, told apart by `type`. */
export const Destination = Type.Unsafe<DestinationBody>({
  type: 'object',
  oneOf: [RabbitMqBody, NatsBody, RedisBody],
  discriminator: { propertyName: 'type' },
  description: KINDS_DESCRIPTION,
});

const View = (body: typeof RabbitMqBody | typeof NatsBody | typeof RedisBody, extra = {}) =>
  Type.Object({ ...body.properties, url: Type.String({ description: 'The URL, its password shown as ****.' }), ...extra }, { additionalProperties: false });

/** A destination as answers show it. */
export const DestinationView = Type.Union([
  View(RabbitMqBody),
  View(NatsBody),
  View(RedisBody, { max_len: Type.Union([Type.Integer(), Type.Null()]) }),
  Type.Null(),
], { description: `${KINDS_DESCRIPTION} Null: deliveries go to target_url.` });

export function destinationView(destination: BrokerDestination | null) {
  return destination === null ? null : destinationJson(destination);
}

/**
 * The destination a request sets, checked: its URL parses and its host, when an IP address,
 * is not in a blocked range. A URL equal to the current one as shown (masked) keeps the
 * current one, so a form can send a destination back without knowing the password.
 */
export function checkDestination(body: DestinationBody, current: BrokerDestination | null, policy: NetworkPolicy): BrokerDestination {
  let url = body.url;
  if (current !== null && current.type === body.type && url === maskedUrl(current.url)) url = current.url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidField('destination.url', 'must be a valid URL');
  }
  if (!BROKER_SCHEMES[body.type].includes(parsed.protocol)) throw invalidField('destination.url', `must use ${BROKER_SCHEMES[body.type].map((s) => `${s}//`).join(' or ')}`);
  const verdict: AddressVerdict = net.isIP(parsed.hostname) !== 0 ? policy.check(parsed.hostname) : { allowed: true };
  if (!verdict.allowed) {
    const message = `deliveries may not go there: ${verdict.reason ?? `address ${parsed.hostname} is blocked`} (HOOKD_ALLOW_NETWORKS can allow it)`;
    throw new ApiError(422, 'destination_blocked', `destination.url: ${message}`, [{ field: 'destination.url', message }]);
  }
  switch (body.type) {
    case 'rabbitmq': return { type: 'rabbitmq', url, exchange: body.exchange, routingKey: body.routing_key };
    case 'nats': return { type: 'nats', url, subject: body.subject };
    case 'redis': return { type: 'redis', url, stream: body.stream, maxLen: body.max_len ?? null };
  }
}
