// The small HTTP server of a `hookd worker` process, on HOOKD_METRICS_PORT: its Prometheus
// metrics (deliveries sent, attempt durations, in-flight — counted per process, so only the
// worker itself can report them) and a liveness check, behind the same API-key rules as the
// API.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { Metrics } from '../metrics.ts';
import type { Maintenance } from '../store/contracts.ts';
import { registerAuth } from './auth.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { livenessRoute } from './health.ts';
import { metricsRoutes } from './metrics.ts';

export interface MonitorDeps {
  maintenance: Pick<Maintenance, 'ping'>;
  metrics: Metrics;
  access: { keys: KeyVerifier; openWithoutKeys: boolean };
  metricsPublic: boolean;
}

export async function buildMonitorServer(deps: MonitorDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  registerAuth(app, { ...deps.access, metricsPublic: deps.metricsPublic });
  await app.register(metricsRoutes(deps.metrics));
  await app.register(livenessRoute(deps.maintenance), { prefix: '/api/v1' });
  return app;
}
