// An OTLP/HTTP traces receiver on 127.0.0.1, as a collector would be: it takes POST /v1/traces
// and keeps every export. JSON exports (OTEL_EXPORTER_OTLP_PROTOCOL=http/json) are decoded
// into spans; protobuf ones are kept as bytes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpAttributeValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}

/** A span as OTLP/JSON encodes it (ids in hex), with its attributes flattened. */
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links: { traceId: string; spanId: string }[];
  status: { code?: number; message?: string };
  attributes: Record<string, string | number | boolean>;
  resource: Record<string, string | number | boolean>;
}

/** OTLP span kinds. */
export const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export const STATUS_ERROR = 2;

export interface OtlpExport {
  path: string;
  contentType: string;
  body: Buffer;
}

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  exports: OtlpExport[];
  /** Every span of the JSON exports so far. */
  spans(): ExportedSpan[];
  close(): Promise<void>;
}

function flatten(attributes: { key: string; value: OtlpAttributeValue }[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? undefined : Number(value.intValue));
    if (v !== undefined) out[key] = v;
  }
  return out;
}

interface JsonExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpAttributeValue }[] };
    scopeSpans?: { spans?: (Omit<ExportedSpan, 'attributes' | 'links' | 'resource'> & {
      attributes?: { key: string; value: OtlpAttributeValue }[];
      links?: { traceId: string; spanId: string }[];
    })[] }[];
  }[];
}

function decode(body: Buffer): ExportedSpan[] {
  const parsed = JSON.parse(body.toString('utf8')) as JsonExport;
  return (parsed.resourceSpans ?? []).flatMap((rs) => {
    const resource = flatten(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) => (ss.spans ?? []).map((span) => ({
      ...span,
      attributes: flatten(span.attributes),
      links: (span.links ?? []).map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
      status: span.status ?? {},
      resource,
    })));
  });
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: OtlpExport[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = String(req.headers['content-type'] ?? '');
      exports.push({ path: req.url ?? '', contentType, body: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse: everything accepted.
      if (contentType.startsWith('application/json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: () => exports.filter((e) => e.contentType.startsWith('application/json')).flatMap((e) => decode(e.body)),
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
