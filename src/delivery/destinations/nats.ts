// NATS JetStream destinations: each attempt is published to the subject and succeeds when a
// stream has stored it and acknowledged (a PubAck). A subject no stream captures gets "no
// responders", a refusal. One connection per destination URL, without reconnecting: a broken
// connection fails its waiting attempts at once (they are retried on schedule), and the next
// attempt opens a new one. Cluster updates are ignored, so hookd dials only the address it
// checked against the network policy.
import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsDestination } from '../../domain/index.ts';
import { AttemptTimeout, BrokerRejection, DEFAULT_BROKER_IDLE_MS, brokerAddress, brokerAttempt, hostPart, within } from './broker.ts';
import { ConnectionPool } from './connection-pool.ts';
import type { DestinationSender, OutgoingWebhook, SendResult, SenderOptions } from './outgoing.ts';

interface Clients {
  transport: typeof import('@nats-io/transport-node');
  jetstream: typeof import('@nats-io/jetstream');
}

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
}

/** The server refused the credentials or a permission, or no stream takes the subject. */
const REFUSALS = /authori[sz]ation|authentication|permission|stream not found|maximum (messages|bytes)/i;

export class NatsSender implements DestinationSender<NatsDestination> {
  readonly #options: SenderOptions;
  readonly #pool: ConnectionPool<Connection>;
  #clients: Promise<Clients> | null = null;

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#pool = new ConnectionPool({
      open: (url) => this.#connect(url),
      close: (connection) => connection.nc.close(),
      idleMs: options.brokerIdleMs ?? DEFAULT_BROKER_IDLE_MS,
      usable: (connection) => !connection.nc.isClosed(),
    });
  }

  get connections(): number {
    return this.#pool.size;
  }

  #load(): Promise<Clients> {
    this.#clients ??= Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')])
      .then(([transport, jetstream]) => ({ transport, jetstream }));
    return this.#clients;
  }

  async #connect(url: string): Promise<Connection> {
    const { transport, jetstream } = await this.#load();
    const parsed = new URL(url);
    const address = await brokerAddress(parsed, 4222, this.#options);
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    const nc = await transport.connect({
      servers: `${hostPart(address.checked[0]!.address)}:${address.port}`,
      ...(password ? { user, pass: password } : user ? { token: user } : {}),
      name: 'hookd',
      timeout: this.#options.connectTimeoutMs,
      reconnect: false,
      ignoreClusterUpdates: true,
      noEcho: true,
    });
    const connection: Connection = { nc, js: jetstream.jetstream(nc, { timeout: this.#options.requestTimeoutMs }) };
    void nc.closed().then(() => this.#pool.forget(url, connection));
    return connection;
  }

  send(destination: NatsDestination, webhook: OutgoingWebhook): Promise<SendResult> {
    return brokerAttempt('nats', destination.url, webhook, this.#options, async (sent) => {
      const lease = await within(this.#pool.acquire(destination.url), this.#options.connectTimeoutMs, 'connect timeout: the server did not accept the connection in time', webhook.signal);
      try {
        const { transport } = await this.#load();
        const headers = transport.headers();
        for (const [name, value] of Object.entries(sent)) headers.set(name, value);
        const ack = await within(lease.connection.js.publish(destination.subject, webhook.body, { headers, timeout: this.#options.requestTimeoutMs, retries: 1 }),
          this.#options.requestTimeoutMs, 'no stream acknowledged the message in time', webhook.signal);
        return `stored by stream "${ack.stream}" as sequence ${ack.seq}${ack.duplicate ? ' (a duplicate)' : ''}`;
      } catch (error) {
        const { name, message } = (error ?? {}) as Error;
        // The client reports "no responders" to a JetStream publish as JetStreamNotEnabled.
        if (name === 'JetStreamNotEnabled' || name === 'NoRespondersError' || /no responders/i.test(String(message))) {
          throw new BrokerRejection(`no JetStream stream stores subject "${destination.subject}" (no responders; is JetStream on and a stream bound to the subject?)`);
        }
        if (name === 'TimeoutError') throw new AttemptTimeout('no stream acknowledged the message in time');
        throw error;
      } finally {
        lease.release();
      }
    }, (error) => REFUSALS.test(`${(error as Error)?.name} ${(error as Error)?.message}`));
  }

  close(): Promise<void> {
    return this.#pool.closeAll();
  }
}
