// One error body for every failure: { "error": { "code", "message", "details"? } }.
// Handlers throw ApiError; everything Fastify or the store throws is mapped here, in one
// place, so clients can match on stable snake_case codes.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreConflictError, StoreNotFoundError, StoreUnavailableError } from '../store/errors.ts';

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details: unknown;

  constructor(statusCode: number, code: string, message: string, details?: unknown) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export function notFound(what: string, id: string): ApiError {
  return new ApiError(404, `${what}_not_found`, `No ${what.replace(/_/g, ' ')} with id ${id}.`);
}

/** A 422 naming the field at fault. */
export function invalidField(field: string, message: string): ApiError {
  return new ApiError(422, 'validation_failed', `${field}: ${message}`, [{ field, message }]);
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldOf(issue: AjvIssue, part: string | undefined): string {
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = (issue.params.missingProperty ?? issue.params.additionalProperty) as string | undefined;
  const field = [path, extra].filter(Boolean).join('.');
  return field || (part === 'body' ? 'body' : part ?? 'request');
}

function describeIssue(issue: AjvIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  return issue.message ?? 'is invalid';
}

const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length', 'The Content-Length header does not match the body.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The body is empty; send a JSON document.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The body is not valid JSON.'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The body is larger than this server accepts.'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type', 'The Content-Type header is invalid.'],
  FST_ERR_BAD_URL: [400, 'bad_url', 'The URL is not valid (a bad percent-encoding).'],
  FST_ERR_MAX_PARAM_LENGTH: [400, 'bad_url', 'A part of the path is too long to be an id.'],
};

export function toErrorResponse(error: FastifyError | ApiError | Error): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    return { status: error.statusCode, body };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const issues = fastifyError.validation as unknown as AjvIssue[];
    const details = issues.map((issue) => ({ field: fieldOf(issue, fastifyError.validationContext), message: describeIssue(issue) }));
    const first = details[0]!;
    return { status: 422, body: { error: { code: 'validation_failed', message: `${first.field}: ${first.message}`, details } } };
  }
  const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (known) return { status: known[0], body: { error: { code: known[1], message: known[2] } } };
  // Database failures are the service's problem, not the client's: 503 so clients retry,
  // and never a 202 for an event that was not committed.
  if (error instanceof StoreUnavailableError) {
    return { status: 503, body: { error: { code: 'store_unavailable', message: 'The database is unavailable; nothing was changed. Retry shortly.' } } };
  }
  // A request that raced with another: it may succeed when repeated once the other has settled.
  if (error instanceof StoreConflictError) {
    return { status: 409, body: { error: { code: 'conflict', message: 'A conflicting change was made at the same time; nothing was changed. Retry.' } } };
  }
  if (error instanceof StoreNotFoundError) {
    return { status: 404, body: { error: { code: 'not_found', message: 'Something this request refers to was deleted meanwhile; nothing was changed.' } } };
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return { status, body: { error: { code: 'bad_request', message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'An unexpected error occurred; it has been logged.' } } };
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  reply.status(status).send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  reply.status(404).send({ error: { code: 'route_not_found', message: `No route ${request.method} ${request.url.split('?')[0]}.` } });
}
