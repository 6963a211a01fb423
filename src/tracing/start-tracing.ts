// Tracing is off by default and then costs nothing: no OpenTelemetry package is loaded. This
// is the only way in, and it imports the SDK (otel-tracing.ts) when an OTLP endpoint is set.
import type { Logger } from 'pino';
import type { TracingConfig } from '../config.ts';
import type { Tracing } from './tracing.ts';

/** Loads the OpenTelemetry SDK and starts exporting; only called when tracing is on. */
export async function startTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  const { OtelTracing } = await import('./otel-tracing.ts');
  return new OtelTracing(config, logger);
}
