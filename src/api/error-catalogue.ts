// Every error code the HTTP API can answer with, its status and when it is used: the one list
// clients and the README's error table read (test/error-catalogue.test.ts keeps that table
// equal to renderErrorTable()). ApiError accepts only these codes, each with its status, so
// a new code cannot be thrown without being listed here.

interface CatalogueEntry {
  status: number;
  when: string;
}

export const ERROR_CATALOGUE = {
  invalid_json: { status: 400, when: 'the body is not valid UTF-8 JSON, or is empty' },
  invalid_content_length: { status: 400, when: 'the `Content-Length` header does not match the body' },
  bad_url: { status: 400, when: 'a path with a bad percent-encoding, or a path segment too long to be an id' },
  malformed_request: { status: 400, when: 'not valid HTTP/1.1: a malformed header line, `Content-Length` together with `Transfer-Encoding`, …' },
  bad_request: { status: 400, when: 'another request the HTTP framework refused (the message says why)' },
  unauthorized: { status: 401, when: 'no valid API key (`Authorization: Bearer hk_...`) while keys exist; without a key, also every ingest request not validly signed for a subscription with `require_signed_ingest` (unknown, unsigned and badly signed alike, before the body is read); the answer carries `WWW-Authenticate: Bearer`' },
  invalid_signature: { status: 401, when: 'an ingest request sent with an API key (or to a hookd without keys) whose Standard Webhooks signature or `X-Hub-Signature-256` does not verify, or whose `webhook-timestamp` is outside the tolerance' },
  signature_required: { status: 401, when: 'an unsigned ingest request, sent with an API key (or to a hookd without keys), for a subscription with `require_signed_ingest`' },
  admin_key_required: { status: 403, when: 'a request only an admin key may make (managing API keys, creating or deleting applications, `/api/v1/status`, `/metrics`) made with an application key or a portal session' },
  portal_not_allowed: { status: 403, when: 'a request a consumer portal session may not make (changing the application, managing portal sessions, the live stream)' },
  read_only_key: { status: 403, when: 'a change (any method but `GET`) made with a read-only API key or a read-only portal session' },
  cross_origin_refused: { status: 403, when: 'while no API key exists, a state-changing request a browser sent from a page of another origin' },
  application_not_found: { status: 404, when: 'an unknown or deleted application id or uid, or one the API key or portal session may not see' },
  portal_session_not_found: { status: 404, when: 'an unknown, malformed or already revoked portal session id' },
  api_key_not_found: { status: 404, when: 'an unknown, malformed or already revoked API key id' },
  subscription_not_found: { status: 404, when: 'an unknown or malformed subscription id' },
  delivery_not_found: { status: 404, when: 'an unknown or malformed delivery id' },
  event_not_found: { status: 404, when: 'an unknown or malformed event id' },
  event_type_not_found: { status: 404, when: 'an event type name the catalog does not have' },
  not_found: { status: 404, when: 'something the request refers to was deleted while it ran; nothing was changed' },
  route_not_found: { status: 404, when: 'no route has this path' },
  method_not_allowed: { status: 405, when: 'the path exists, but not with this method; `Allow` lists those it has' },
  request_timeout: { status: 408, when: 'the request headers or body did not arrive within `HOOKD_HTTP_HEADERS_TIMEOUT_MS` / `HOOKD_HTTP_REQUEST_TIMEOUT_MS`; the connection is closed' },
  conflict: { status: 409, when: 'a change made at the same moment conflicts with this one; nothing was changed, retry' },
  application_uid_taken: { status: 409, when: 'an application `uid` another live application has' },
  default_application: { status: 409, when: 'deleting the default application, which the flat API works on' },
  first_key_must_be_admin: { status: 409, when: 'creating, on a hookd without any key yet, a first key that is bound to an application or read-only (it would lock every admin out)' },
  subscription_inactive: { status: 409, when: 'ingest to an inactive subscription' },
  delivery_in_progress: { status: 409, when: 'retry of a delivery being attempted' },
  delivery_not_retryable: { status: 409, when: 'retry of a filtered or cancelled delivery' },
  event_type_exists: { status: 409, when: 'adding an event type the catalog has already' },
  payload_too_large: { status: 413, when: 'a body over `HOOKD_MAX_PAYLOAD_BYTES` (the message states the limit)' },
  unsupported_media_type: { status: 415, when: 'a body that is not `application/json` in UTF-8, or is compressed (`Content-Encoding`)' },
  host_not_allowed: { status: 421, when: 'while no API key exists, a `Host` other than `localhost`, an IP address or a name in `HOOKD_ALLOWED_HOSTS`' },
  validation_failed: { status: 422, when: 'a field is missing, of the wrong type or out of range (the message names it)' },
  invalid_cursor: { status: 422, when: 'a `cursor` that is not a `next_cursor` this server issued' },
  target_url_blocked: { status: 422, when: 'a `target_url` whose host is an IP address in a blocked range (the message says which)' },
  destination_blocked: { status: 422, when: 'a broker `destination` whose URL\'s host is an IP address in a blocked range (the message says which)' },
  payload_too_deep: { status: 422, when: 'JSON nesting arrays and objects more than 64 levels deep' },
  invalid_filter: { status: 422, when: 'a content filter that does not follow the grammar (the message says where)' },
  invalid_event_schema: { status: 422, when: 'an event type `schema` that Ajv cannot compile, or over 64 KiB as JSON (the message says why)' },
  event_data_invalid: { status: 422, when: 'an event whose type validates (`validate: true` in the catalog) with `data` that does not match its schema (the message names the failing path)' },
  idempotency_key_reused: { status: 422, when: 'an `Idempotency-Key` (or a signed ingest\'s `webhook-id`) used in the last 24 hours with a different body' },
  idempotency_key_not_allowed: { status: 422, when: 'an `Idempotency-Key` on an ingest request signed with Standard Webhooks headers, whose `webhook-id` already makes repeats harmless' },
  weak_secret: { status: 422, when: 'a new `secret` too short to be safe: `whsec_` + base64 of under 16 bytes, or another string of under 16 characters' },
  value_looks_encrypted: { status: 422, when: 'a `secret` or custom header value beginning with `enc:v1:` (the mark of an encrypted value) while `HOOKD_ENCRYPTION_KEY` is not set' },
  rate_limited: { status: 429, when: 'over `HOOKD_RATE_LIMIT_PER_MINUTE`; `Retry-After` says in how many seconds to try again' },
  too_many_auth_failures: { status: 429, when: 'over `HOOKD_AUTH_FAILURES_PER_MINUTE` requests with a wrong API key from this address; `Retry-After` as above' },
  too_many_headers: { status: 431, when: 'a request with more than 100 headers' },
  headers_too_large: { status: 431, when: 'request headers over 16 KiB together' },
  internal_error: { status: 500, when: 'a fault in hookd; it is logged with the request id' },
  store_unavailable: { status: 503, when: 'the database could not be reached; nothing was changed' },
  shutting_down: { status: 503, when: 'a live stream opened while hookd is stopping' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export type StatusOf<C extends ErrorCode> = (typeof ERROR_CATALOGUE)[C]['status'];

export function statusOf<C extends ErrorCode>(code: C): StatusOf<C> {
  return ERROR_CATALOGUE[code].status;
}

/** The README's error table, one row per code, by status. */
export function renderErrorTable(): string {
  const rows = (Object.entries(ERROR_CATALOGUE) as [ErrorCode, CatalogueEntry][])
    .sort(([, a], [, b]) => a.status - b.status)
    .map(([code, { status, when }]) => `| ${status} | \`${code}\` | ${when} |`);
  return ['| status | code | when |', '|---|---|---|', ...rows].join('\n');
}
