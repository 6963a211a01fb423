// One error body for every failure: { "error": { "code", "message", "details"? } }.
// Handlers throw ApiError; everything Fastify or the store throws is mapped here, in one
// place, so clients can match on stable snake_case codes (listed in error-catalogue.ts).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { StoreConflictError, StoreNotFoundError, StoreUnavailableError } from '../store/errors.ts';
import type { ErrorCode, StatusOf } from './error-catalogue.ts';
import { FORMAT_MESSAGE } from './schemas.ts';

export class ApiError<C extends ErrorCode = ErrorCode> extends Error {
  readonly statusCode: number;
  readonly code: C;
  readonly details: unknown;

  /** The status must be the one the catalogue gives the code (checked by the type checker). */
  constructor(statusCode: StatusOf<C>, code: C, message: string, details?: unknown) {
    super(message);
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export function notFound(what: 'subscription' | 'delivery' | 'event' | 'application' | 'api_key' | 'portal_session', id: string): ApiError {
  return new ApiError(404, `${what}_not_found`, `No ${what.replace("_", " ")} with id ${id}.`);
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
  schemaPath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
  /** The schema that failed (the validators run in ajv's verbose mode). */
  parentSchema?: Record<string, unknown>;
}

const KIND_KEYWORDS = new Set(['type', 'const', 'enum']);

/** What a value of one alternative of an anyOf must be: a type, or allowed values. */
function alternativeOf(issue: AjvIssue): string[] {
  if (issue.keyword === 'type') return [String(issue.params.type).replace(/,/g, ' or ')];
  if (issue.keyword === 'const') return [JSON.stringify(issue.params.allowedValue)];
  return ((issue.params.allowedValues ?? []) as unknown[]).map((value) => JSON.stringify(value));
}

/**
 * One clear issue per field where the schema offers alternatives (anyOf: `event_types` is a
 * list or null). When the value is of the kind of one alternative, only that alternative's
 * issues are reported (`[]`: "must NOT have fewer than 1 items", not also "must be null");
 * when it fits none, one issue lists what it may be. Innermost alternatives first, so nested
 * ones fold into their parents.
 */
function simplifyAlternatives(issues: AjvIssue[]): AjvIssue[] {
  let result = issues;
  const anyOfs = issues.filter((issue) => issue.keyword === 'anyOf' || issue.keyword === 'oneOf')
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const anyOf of anyOfs) {
    const prefix = `${anyOf.schemaPath}/`;
    const branches = new Map<string, AjvIssue[]>();
    for (const issue of result) {
      if (!issue.schemaPath.startsWith(prefix)) continue;
      const branch = issue.schemaPath.slice(prefix.length).split('/', 1)[0]!;
      branches.set(branch, [...(branches.get(branch) ?? []), issue]);
    }
    const misfit = (branch: AjvIssue[]) => branch.some((issue) => issue.instancePath === anyOf.instancePath && KIND_KEYWORDS.has(issue.keyword));
    const fitting = [...branches.values()].find((branch) => !misfit(branch));
    let replacement: AjvIssue[];
    if (fitting) {
      replacement = fitting;
    } else {
      const kinds = [...branches.values()].flatMap((branch) => branch.filter((issue) => KIND_KEYWORDS.has(issue.keyword)).flatMap(alternativeOf));
      const onlyTypes = [...branches.values()].every((branch) => branch.some((issue) => issue.keyword === 'type'));
      replacement = [onlyTypes
        ? { instancePath: anyOf.instancePath, schemaPath: anyOf.schemaPath, keyword: 'type', message: `must be ${kinds.join(' or ')}`, params: { type: kinds.join(',') } }
        : { instancePath: anyOf.instancePath, schemaPath: anyOf.schemaPath, keyword: 'enum', params: { allowedValues: kinds.map((kind) => JSON.parse(kind)) } }];
    }
    const replaced = new Set([anyOf, ...[...branches.values()].flat()]);
    const at = result.findIndex((issue) => replaced.has(issue));
    result = [...result.slice(0, at).filter((issue) => !replaced.has(issue)), ...replacement, ...result.slice(at).filter((issue) => !replaced.has(issue))];
  }
  return result;
}

function fieldOf(issue: AjvIssue, part: string | undefined): string {
  const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = (issue.params.missingProperty ?? issue.params.additionalProperty ?? (issue.keyword === 'discriminator' ? issue.params.tag : undefined)) as string | undefined;
  const field = [path, extra].filter(Boolean).join('.');
  return field || (part === 'body' ? 'body' : part ?? 'request');
}

/** The values of a discriminated oneOf's tag (a destination's `type`). */
function discriminatorValues(issue: AjvIssue): string[] {
  const branches = (issue.parentSchema?.oneOf ?? []) as { properties?: Record<string, { const?: unknown }> }[];
  return branches.map((branch) => String(branch.properties?.[String(issue.params.tag)]?.const));
}

function describeIssue(issue: AjvIssue): string {
  if (issue.keyword === 'required') return 'is required';
  if (issue.keyword === 'additionalProperties') return 'is not a known field';
  const formatMessage = issue.parentSchema?.[FORMAT_MESSAGE];
  if ((issue.keyword === 'pattern' || issue.keyword === 'format' || issue.keyword === 'not') && typeof formatMessage === 'string') return formatMessage;
  if (issue.keyword === 'discriminator') return `must be one of ${discriminatorValues(issue).join(', ')}`;
  if (issue.keyword === 'enum') {
    return `must be one of ${((issue.params.allowedValues ?? []) as unknown[]).map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join(', ')}`;
  }
  const limit = issue.params.limit as number;
  if (issue.keyword === 'minItems') return `must have at least ${limit} item${limit === 1 ? '' : 's'}`;
  if (issue.keyword === 'maxItems') return `must have at most ${limit} item${limit === 1 ? '' : 's'}`;
  if (issue.keyword === 'minLength') return `must be at least ${limit} character${limit === 1 ? '' : 's'} long`;
  if (issue.keyword === 'maxLength') return `must be at most ${limit} character${limit === 1 ? '' : 's'} long`;
  return issue.message ?? 'is invalid';
}

const FASTIFY_CODES: Record<string, [StatusOf<ErrorCode>, ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length', 'The Content-Length header does not match the body.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The body is empty; send a JSON document.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The body is not valid JSON.'],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The body is larger than this server accepts.'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'unsupported_media_type', 'The Content-Type header is invalid.'],
  FST_ERR_BAD_URL: [400, 'bad_url', 'The URL is not valid (a bad percent-encoding).'],
  FST_ERR_MAX_PARAM_LENGTH: [400, 'bad_url', 'A part of the path is too long to be an id.'],
};

/** The error answer for `error`; `bodyLimit` is the limit the request's route applied, for the 413 message. */
export function toErrorResponse(error: FastifyError | ApiError | Error, bodyLimit?: number): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    return { status: error.statusCode, body };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const issues = simplifyAlternatives(fastifyError.validation as unknown as AjvIssue[]);
    const details = issues.map((issue) => ({ field: fieldOf(issue, fastifyError.validationContext), message: describeIssue(issue) }));
    const first = details[0]!;
    if (fastifyError.validationContext === 'querystring' && first.field === 'cursor') {
      return { status: 422, body: { error: { code: 'invalid_cursor', message: 'cursor: must be the next_cursor of a page this server answered.', details: [{ field: 'cursor', message: 'must be the next_cursor of a page this server answered' }] } } };
    }
    return { status: 422, body: { error: { code: 'validation_failed', message: `${first.field}: ${first.message}`, details } } };
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && bodyLimit !== undefined) {
    return { status: 413, body: { error: { code: 'payload_too_large', message: `The body is larger than ${bodyLimit} bytes, the most this server accepts (HOOKD_MAX_PAYLOAD_BYTES).` } } };
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
  const { status, body } = toErrorResponse(error, request.routeOptions.bodyLimit);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  reply.status(status).send(body);
}
