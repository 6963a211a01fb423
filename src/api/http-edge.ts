// The HTTP server's edge, below the routes: how long a client may take to send a request and
// how long an idle connection stays open, and the answer to a request Node's HTTP parser
// refuses before Fastify sees it (malformed, headers too large, too slow). Those answers are
// written on the raw socket, in the same error shape as every other.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Config } from '../config.ts';
import type { ErrorBody } from './errors.ts';

/** Node's limit on the request line and headers together (`--max-http-header-size`). */
const MAX_HEADER_BYTES = http.maxHeaderSize;

/** Node's parser's reasons (llhttp's), said plainly; any other is quoted as the parser gives it. */
const PARSER_REASONS: Record<string, string> = {
  "Transfer-Encoding can't be present with Content-Length": 'Content-Length and Transfer-Encoding must not be sent together',
  "Content-Length can't be present with Transfer-Encoding": 'Content-Length and Transfer-Encoding must not be sent together',
  'Invalid header token': 'a header line is malformed (not "Name: value", or a name with characters names cannot have)',
  'Invalid header value char': 'a header value has a character values cannot have',
  'Invalid character in Content-Length': 'the Content-Length header is not a number',
};

interface ClientError extends Error {
  code?: string;
  reason?: string;
}

function answerTo(error: ClientError, timeouts: Config['http']): { status: number; body: ErrorBody } {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      body: { error: { code: 'request_timeout', message: `The request did not arrive in time (headers within ${timeouts.headersTimeoutMs} ms, all of it within ${timeouts.requestTimeoutMs} ms); the connection is closed.` } },
    };
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, body: { error: { code: 'headers_too_large', message: `The request line and headers are larger than ${MAX_HEADER_BYTES / 1024} KiB together.` } } };
  }
  const reason = error.reason === undefined ? 'it could not be parsed' : PARSER_REASONS[error.reason] ?? error.reason;
  return { status: 400, body: { error: { code: 'malformed_request', message: `The request is not valid HTTP/1.1: ${reason}.` } } };
}

type ClientErrorHandler = NonNullable<FastifyServerOptions['clientErrorHandler']>;

function clientErrorHandler(timeouts: Config['http']): ClientErrorHandler {
  return function handle(this: { log: FastifyBaseLogger }, error: ClientError, socket: Socket) {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, body } = answerTo(error, timeouts);
    this.log.info({ status, code: error.code, remote: socket.remoteAddress }, 'request refused by the HTTP parser');
    // As Node does: answer only if no response of this connection has started.
    const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const json = JSON.stringify(body);
      socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
    }
    socket.destroy();
  };
}

/** Fastify options for the API's server and a worker's monitor server alike. */
export function httpEdgeOptions(timeouts: Config['http']) {
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http: {
      headersTimeout: timeouts.headersTimeoutMs,
      // How often Node looks for requests over their time; its default (30 s) would let a short timeout run long.
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(timeouts.headersTimeoutMs / 4))),
    },
    clientErrorHandler: clientErrorHandler(timeouts),
  };
}
