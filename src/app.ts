// Wires the parts of one hookd process together and starts and stops them in order.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildMonitorServer } from './api/monitor-server.ts';
import { buildServer } from './api/server.ts';
import { checkBoundAddresses, prepareAccess } from './auth/access-policy.ts';
import { ConfigError, type Config } from './config.ts';
import { Dispatcher } from './delivery/dispatcher.ts';
import { Sender } from './delivery/sender.ts';
import { Operations } from './delivery/operations.ts';
import { Replayer } from './delivery/replayer.ts';
import { NetworkPolicy } from './delivery/ssrf/network-policy.ts';
import { EventSchemas } from './ingest/event-schemas.ts';
import { Ingestor } from './ingest/ingestor.ts';
import { Metrics } from './metrics.ts';
import { Retention } from './retention/retention.ts';
import { openStore } from './store/open-store.ts';
import { DatabaseTakenError } from './store/errors.ts';
import { SecretBox, SecretUnavailableError } from './store/secret-box.ts';
import type { Store } from './store/contracts.ts';
import { SubscriptionCache } from './store/subscription-cache.ts';
import { startTracing } from './tracing/start-tracing.ts';
import type { Tracing } from './tracing/tracing.ts';
import { VERSION } from './version.ts';

export type Role = 'serve' | 'api' | 'worker';

export interface AppOptions {
  config: Config;
  logger: Logger;
  role?: Role;
  clock?: () => number;
  /** PostgreSQL schema to use (tests isolate themselves this way). */
  schema?: string;
  /** False: the API is built and ready but takes no connections (`npm run gen:client` reads its OpenAPI document so). */
  listen?: boolean;
}

export interface App {
  store: Store;
  server: FastifyInstance | null;
  dispatcher: Dispatcher | null;
  retention: Retention;
  /** The URL the API listens on, once started. */
  url: string | null;
  close(): Promise<void>;
}

export async function startApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const role = options.role ?? 'serve';
  const clock = options.clock ?? Date.now;
  const store = await openStore(config.database, { secrets: new SecretBox(config.encryptionKey), ...(options.schema && { schema: options.schema }) });
  const subscriptionCache = new SubscriptionCache(store.subscriptions, config.subscriptionCacheTtlMs, clock);
  // Dropped on every change to the catalog like the subscription cache, and bounded by its TTL.
  const eventSchemas = new EventSchemas(store.eventTypes, config.subscriptionCacheTtlMs, clock);
  // In-flight is read at scrape time from the dispatcher, which only the serve and worker roles have.
  const metrics = new Metrics({ readModels: store.readModels, clock, inFlight: () => dispatcher?.inFlight ?? 0, applicationLabels: config.metricsApplicationLabels });
  const ingestor = new Ingestor(store.queue, subscriptionCache, clock, { metrics });
  const retention = new Retention({ maintenance: store.maintenance, idempotencyKeys: store.idempotencyKeys, retentionHours: config.retentionHours, intervalMs: config.retentionIntervalMs, logger, metrics, clock });
  let server: FastifyInstance | null = null;
  let dispatcher: Dispatcher | null = null;
  let sender: Sender | null = null;
  let tracing: Tracing | null = null;
  const replayer = new Replayer(store.deliveryLog, clock, logger);
  const stop = async () => {
    await server?.close();
    await replayer.stop();
    await dispatcher?.stop();
    await sender?.close();
    // After the dispatcher: the spans of its last attempts are exported too.
    await tracing?.shutdown();
    await retention.stop();
    subscriptionCache.close();
    eventSchemas.close();
    await store.close();
  };
  try {
    await store.maintenance.migrate();
    if (config.tracing) tracing = await startTracing(config.tracing, logger);
    const sealed = await store.maintenance.prepareSecrets().catch((error: unknown) => {
      throw error instanceof SecretUnavailableError ? new ConfigError(error.message) : error;
    });
    if (sealed > 0) logger.info({ subscriptions: sealed }, `encrypted the secrets of ${sealed} subscriptions stored before HOOKD_ENCRYPTION_KEY was set`);
    if (config.allowNetworks.length > 0) {
      logger.warn({ allowNetworks: config.allowNetworks }, `deliveries may reach these otherwise blocked networks: ${config.allowNetworks.join(', ')}`);
    }
    if (role !== 'api') {
      await store.queue.join().catch((error: unknown) => {
        throw error instanceof DatabaseTakenError ? new ConfigError(error.message) : error;
      });
      sender = new Sender({ policy: new NetworkPolicy(config.allowNetworks), connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, clock });
      const operations = new Operations(store.subscriptions, config);
      await operations.prepare(clock());
      dispatcher = new Dispatcher({ queue: store.queue, subscriptions: subscriptionCache, disabler: store.subscriptions, sender, config, logger, metrics, operations, tracing, clock });
      dispatcher.start();
      retention.start();
    }
    if (role === 'worker' && config.metricsPort !== null) {
      const access = await prepareAccess(store.apiKeys, config, logger, clock);
      server = await buildMonitorServer({ maintenance: store.maintenance, metrics, access, config }, logger);
      await server.listen({ port: config.metricsPort, host: config.host });
      checkBoundAddresses(access, config.host, server.addresses().map((bound) => (typeof bound === 'string' ? bound : bound.address)));
    }
    if (role !== 'worker') {
      const access = await prepareAccess(store.apiKeys, config, logger, clock);
      server = await buildServer({ config, store, subscriptionCache, eventSchemas, ingestor, replayer, metrics, clock, version: VERSION, startedAt: clock(), access, tracing }, logger);
      if (options.listen === false) {
        await server.ready();
      } else {
        await server.listen({ port: config.port, host: config.host });
        checkBoundAddresses(access, config.host, server.addresses().map((bound) => (typeof bound === 'string' ? bound : bound.address)));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const address = server?.server.address();
  const url = address && typeof address === 'object'
    ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    : null;
  logger.info({ url, role, store: store.kind, location: store.location, version: VERSION }, `hookd ${VERSION} ${role} ready${url ? ` on ${url}` : ''} (${store.kind}: ${store.location})`);

  let closing: Promise<void> | null = null;
  return {
    store,
    server,
    dispatcher,
    retention,
    url,
    close() {
      closing ??= stop();
      return closing;
    },
  };
}
