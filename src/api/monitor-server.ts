// The small HTTP server of a `hookd worker` process, on HOOKD_METRICS_PORT: its Prometheus
// metrics (deliveries sent, attempt durations, in-flight — counted per process, so only the
// worker itself can report them) and a liveness check, behind the same API-key rules as the
// API.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FailedAuthLimit } from '../auth/failed-auth-limit.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { Metrics } from '../metrics.ts';
import type { Maintenance } from '../store/contracts.ts';
import { registerAuth } from './auth.ts';
import { registerKeylessGuard } from './keyless-guard.ts';
import { httpEdgeOptions } from './http-edge.ts';
import type { Config } from '../config.ts';
import { errorHandler } from './errors.ts';
import { registerUnrouted } from './unrouted.ts';
import { livenessRoute } from './health.ts';
import { metricsRoutes } from './metrics.ts';

export interface MonitorDeps {
  maintenance: Pick<Maintenance, 'ping'>;
  metrics: Metrics;
  access: { keys: KeyVerifier; openWithoutKeys: boolean };
  config: Pick<Config, 'metricsPublic' | 'allowedHosts' | 'http' | 'authFailuresPerMinute'>;
}

export async function buildMonitorServer(deps: MonitorDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, ...httpEdgeOptions(deps.config.http) });
  app.setErrorHandler(errorHandler);
  registerKeylessGuard(app, { keys: deps.access.keys, allowedHosts: deps.config.allowedHosts });
  registerAuth(app, { ...deps.access, metricsPublic: deps.config.metricsPublic, failedAuth: new FailedAuthLimit(deps.config.authFailuresPerMinute) });
  registerUnrouted(app);
  await app.register(metricsRoutes(deps.metrics));
  await app.register(livenessRoute(deps.maintenance), { prefix: '/api/v1' });
  return app;
}
