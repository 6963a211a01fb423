// Kysely's view of the tables. Column types are what hookd writes; what comes back differs
// by driver (SQLite returns 0/1 for booleans and text for JSON, pg returns true/false and
// parsed JSON), so reads go through the converters in rows.ts.
import type { ColumnType } from 'kysely';

/** Read as driver-specific values, written as the given type. */
type Loose<W> = ColumnType<unknown, W, W>;

export interface ApplicationsTable {
  id: string;
  uid: string;
  name: string;
  metadata: Loose<string>;
  subscription_defaults: Loose<string>;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface SubscriptionsTable {
  id: string;
  application_id: string;
  target_url: string;
  secret: string;
  event_types: Loose<string | null>;
  description: string | null;
  active: Loose<boolean>;
  require_signed_ingest: Loose<boolean>;
  retry_policy: Loose<string | null>;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
  /** JSON object of custom header names to values (values sealed when encryption is on). */
  headers: Loose<string>;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  max_in_flight: ColumnType<number, number | undefined, number>;
  rate_limit_per_second: number | null;
  rate_tokens: number | null;
  rate_refilled_at: number | null;
  ordering: ColumnType<string, string | undefined, string>;
  filter: Loose<string | null>;
  circuit_state: ColumnType<string, string | undefined, string>;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  circuit_retry_at: number | null;
  failing_since: number | null;
  disabled_reason: string | null;
  last_claimed_at: number | null;
  system: Loose<boolean>;
  /** A broker destination as JSON, its url sealed; null for an HTTP target (target_url is then set). */
  destination: Loose<string | null>;
  /** PostgreSQL only: deliveries in flight per worker process (postgres/leases.ts). */
  slots?: Loose<string>;
}

export interface EventsTable {
  id: string;
  application_id: string;
  event_type: string;
  payload: Uint8Array;
  created_at: number;
  /** The W3C trace context of the ingest request (validated), carried to every attempt. */
  traceparent: ColumnType<string | null, string | null | undefined, string | null>;
  tracestate: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The unfinished deliveries: what claims read. */
export interface QueueTable {
  id: string;
  event_id: string;
  subscription_id: string;
  event_type: string;
  attempts: number;
  /** When the next attempt may start. */
  due_at: number;
  last_attempt_at: number | null;
  manual_retry: Loose<boolean>;
  created_at: number;
  updated_at: number;
  // PostgreSQL only: the lease, in columns no index covers (HOT updates).
  lease_token?: string | null;
  leased_by?: number | null;
  lease_expires_at?: number | null;
}

/** The finished deliveries: what the API lists, until retention removes them. */
export interface DeliveriesTable {
  id: string;
  event_id: string;
  subscription_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptsTable {
  id: string;
  delivery_id: string;
  subscription_id: string;
  event_type: string;
  attempt_number: number;
  outcome: string;
  status_code: number | null;
  error_details: string | null;
  duration_ms: number;
  response_body: string | null;
  request_headers: Loose<string>;
  trigger: string;
  created_at: number;
}

/** Figures kept with the writes (store/counters.ts): totals (span 0) and per-minute and per-quarter-hour buckets. */
export interface CountersTable {
  span: number;
  bucket: number;
  name: string;
  shard: number;
  n: number;
  last_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  name: string | null;
  prefix: string;
  key_hash: string;
  application_id: string | null;
  read_only: Loose<boolean>;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  response: string;
  created_at: number;
}

export interface OperationalEventsTable {
  id: string;
  type: string;
  subscription_id: string;
  delivery_id: string | null;
  reason: string;
  created_at: number;
}

/** The event-type catalog; `schema` and `example` as JSON text. */
export interface EventTypesTable {
  name: string;
  description: string | null;
  schema: string | null;
  example: string | null;
  deprecated: Loose<boolean>;
  validate: Loose<boolean>;
  created_at: number;
  updated_at: number;
}

export interface PortalSessionsTable {
  id: string;
  application_id: string;
  token_hash: string;
  theme: Loose<string>;
  read_only: Loose<boolean>;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface Database {
  applications: ApplicationsTable;
  subscriptions: SubscriptionsTable;
  events: EventsTable;
  queue: QueueTable;
  deliveries: DeliveriesTable;
  attempts: AttemptsTable;
  counters: CountersTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  operational_events: OperationalEventsTable;
  event_types: EventTypesTable;
  portal_sessions: PortalSessionsTable;
}
