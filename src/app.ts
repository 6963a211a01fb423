// Wires the parts of one hookd process together and starts and stops them in order.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildServer } from './api/server.ts';
import type { Config } from './config.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { SubscriptionCache } from './store/subscription-cache.ts';
import { VERSION } from './version.ts';

export type Role = 'serve' | 'api' | 'worker';

export interface AppOptions {
  config: Config;
  logger: Logger;
  role?: Role;
  clock?: () => number;
  /** PostgreSQL schema to use (tests isolate themselves this way). */
  schema?: string;
}

export interface App {
  store: Store;
  server: FastifyInstance | null;
  /** The URL the API listens on, once started. */
  url: string | null;
  close(): Promise<void>;
}

export async function startApp(options: AppOptions): Promise<App> {
  const { config, logger } = options;
  const role = options.role ?? 'serve';
  const clock = options.clock ?? Date.now;
  const store = await openStore(config.database, options.schema ? { schema: options.schema } : {});
  const subscriptions = new SubscriptionCache(store, config.subscriptionCacheTtlMs);
  let server: FastifyInstance | null = null;
  try {
    await store.migrate();
    if (role !== 'worker') {
      server = await buildServer({ config, store, subscriptions, clock, version: VERSION, startedAt: clock() }, logger);
      await server.listen({ port: config.port, host: config.host });
    }
  } catch (error) {
    await server?.close();
    subscriptions.close();
    await store.close();
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
    url,
    close() {
      closing ??= (async () => {
        await server?.close();
        subscriptions.close();
        await store.close();
      })();
      return closing;
    },
  };
}
