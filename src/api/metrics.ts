// GET /metrics: the Prometheus exposition of this process (outside /api/v1, where scrapers
// look by convention).
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.ts';

const EXPOSITION_EXAMPLE = [
  '# HELP hookd_events_ingested_total Events accepted (committed and answered 202), by ingest path.',
  '# TYPE hookd_events_ingested_total counter',
  'hookd_events_ingested_total{path="subscription"} 1204',
  '',
].join('\n');

export const metricsRoutes = (metrics: Metrics): FastifyPluginAsync => async (app) => {
  app.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics of this process (queue gauges are read from the database)',
      response: {
        200: {
          description: 'Prometheus text exposition format 0.0.4.',
          content: { 'text/plain': { schema: { type: 'string', examples: [EXPOSITION_EXAMPLE] } } },
        },
      },
    },
  }, async (_request, reply) => {
    const text = await metrics.scrape();
    return reply.type(metrics.contentType).send(text);
  });
};
