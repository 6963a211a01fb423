// PostgreSQL schema, one entry per version. Never edit a released migration: add the next one.
// Times are BIGINT milliseconds since the epoch (UTC), the same as on SQLite, so every
// comparison uses the application's clock; ids are UUIDv7, which sort by creation time.
export const postgresMigrations: Record<string, readonly string[]> = {
  '0001_initial': [
    `CREATE TABLE subscriptions (
      id uuid PRIMARY KEY,
      target_url text NOT NULL,
      secret text NOT NULL,
      event_types jsonb,
      description text,
      active boolean NOT NULL DEFAULT true,
      require_signed_ingest boolean NOT NULL DEFAULT false,
      retry_policy jsonb,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      deleted_at bigint
    )`,
    `CREATE INDEX subscriptions_live ON subscriptions (id) WHERE deleted_at IS NULL`,
    `CREATE INDEX subscriptions_target_url ON subscriptions (target_url)`,
    // Fan-out asks "which filters contain any of these patterns" (event_types ?| array[...]).
    `CREATE INDEX subscriptions_event_types ON subscriptions USING gin (event_types)`,
    `CREATE TABLE events (
      id uuid PRIMARY KEY,
      event_type text NOT NULL,
      payload bytea NOT NULL,
      created_at bigint NOT NULL
    )`,
    `CREATE INDEX events_created_at ON events (created_at)`,
    `CREATE TABLE deliveries (
      id uuid PRIMARY KEY,
      event_id uuid NOT NULL REFERENCES events (id),
      subscription_id uuid NOT NULL REFERENCES subscriptions (id),
      event_type text NOT NULL,
      status text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at bigint,
      last_attempt_at bigint,
      lease_token text,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL
    )`,
    // The queue: due work is found through this partial index alone. A delivering row's
    // next_attempt_at is its lease expiry, so expired leases are due again by the same rule.
    `CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('queued', 'delivering')`,
    `CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id)`,
    `CREATE INDEX deliveries_status ON deliveries (status, id)`,
    `CREATE INDEX deliveries_event_type ON deliveries (event_type, id)`,
    `CREATE INDEX deliveries_event ON deliveries (event_id)`,
    `CREATE INDEX deliveries_retention ON deliveries (created_at) WHERE status IN ('succeeded', 'failed', 'filtered', 'cancelled')`,
    `CREATE TABLE attempts (
      id uuid PRIMARY KEY,
      delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
      attempt_number integer NOT NULL,
      outcome text NOT NULL,
      status_code integer,
      error_details text,
      duration_ms integer NOT NULL,
      response_body text,
      request_headers jsonb NOT NULL,
      trigger text NOT NULL,
      created_at bigint NOT NULL
    )`,
    `CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_number)`,
    `CREATE INDEX attempts_created_at ON attempts (created_at)`,
  ],
  '0003_api_keys': [
    // Only a SHA-256 hash of each key is kept; the prefix identifies it in listings.
    `CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      name text,
      prefix text NOT NULL,
      key_hash text NOT NULL UNIQUE,
      created_at bigint NOT NULL,
      last_used_at bigint,
      revoked_at bigint
    )`,
  ],
  '0004_subscription_headers_and_rotation': [
    `ALTER TABLE subscriptions ADD COLUMN headers jsonb NOT NULL DEFAULT '{}'::jsonb`,
    `ALTER TABLE subscriptions ADD COLUMN previous_secret text`,
    `ALTER TABLE subscriptions ADD COLUMN previous_secret_expires_at bigint`,
  ],
  '0005_delivery_control': [
    // Per-subscription delivery control: concurrency cap, rate limit (a token bucket kept
    // in the row, so every process shares it), FIFO ordering, content filter, circuit
    // breaker, auto-disable, fairness (last_claimed_at: served longest ago goes first), and
    // the operations subscription (system) that receives hookd's own events.
    `ALTER TABLE subscriptions ADD COLUMN max_in_flight integer NOT NULL DEFAULT 10`,
    `ALTER TABLE subscriptions ADD COLUMN rate_limit_per_second double precision`,
    `ALTER TABLE subscriptions ADD COLUMN rate_tokens double precision`,
    `ALTER TABLE subscriptions ADD COLUMN rate_refilled_at bigint`,
    `ALTER TABLE subscriptions ADD COLUMN ordering text NOT NULL DEFAULT 'parallel'`,
    `ALTER TABLE subscriptions ADD COLUMN filter jsonb`,
    `ALTER TABLE subscriptions ADD COLUMN circuit_state text NOT NULL DEFAULT 'closed'`,
    `ALTER TABLE subscriptions ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0`,
    `ALTER TABLE subscriptions ADD COLUMN circuit_retry_at bigint`,
    `ALTER TABLE subscriptions ADD COLUMN failing_since bigint`,
    `ALTER TABLE subscriptions ADD COLUMN disabled_reason text`,
    `ALTER TABLE subscriptions ADD COLUMN last_claimed_at bigint`,
    `ALTER TABLE subscriptions ADD COLUMN system boolean NOT NULL DEFAULT false`,
    `ALTER TABLE deliveries ADD COLUMN manual_retry boolean NOT NULL DEFAULT false`,
    // Claiming per subscription: due work in time order, the FIFO head in ingestion order,
    // and the in-flight count that the concurrency cap is checked against.
    `CREATE INDEX deliveries_due_by_subscription ON deliveries (subscription_id, next_attempt_at) WHERE status IN ('queued', 'delivering')`,
    `CREATE INDEX deliveries_pending_by_subscription ON deliveries (subscription_id, id) WHERE status IN ('queued', 'delivering')`,
    `CREATE INDEX deliveries_in_flight ON deliveries (subscription_id) WHERE status = 'delivering'`,
    `CREATE TABLE idempotency_keys (
      scope text NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      response text NOT NULL,
      created_at bigint NOT NULL,
      PRIMARY KEY (scope, key)
    )`,
    `CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`,
    `CREATE TABLE operational_events (
      id uuid PRIMARY KEY,
      type text NOT NULL,
      subscription_id uuid NOT NULL,
      delivery_id uuid,
      reason text NOT NULL,
      created_at bigint NOT NULL
    )`,
    `CREATE INDEX operational_events_created_at ON operational_events (created_at)`,
  ],
  '0006_ui_dashboard': [
    // The dashboard counts the deliveries created in the last hour and day,
    `CREATE INDEX deliveries_created_at ON deliveries (created_at)`,
    // and reads the outcome and duration of every attempt in its window: from this index
    // alone, without a visit to each row.
    `CREATE INDEX attempts_stats ON attempts (created_at, outcome, duration_ms, delivery_id)`,
  ],
  '0007_drop_attempts_created_at': [
    // Written with every attempt and read by nothing attempts_stats (which begins with
    // created_at) does not serve as well.
    `DROP INDEX attempts_created_at`,
  ],
  '0008_queue_apart_from_history': [
    // The queue is not the history. `queue` holds the unfinished deliveries, what claiming
    // reads; `deliveries` the finished ones, what the API lists; a delivery is in exactly one
    // of them, and moves once, when it finishes (or when an operator sends it again).
    // A lease is written in columns no index covers, so taking one is a HOT update: a new row
    // version in the same page and no index entry. It is held by a worker process (leased_by)
    // and lasts while that worker holds its session advisory lock (postgres/presence.ts) and
    // lease_expires_at is ahead.
    `CREATE TABLE queue (
      id uuid PRIMARY KEY,
      event_id uuid NOT NULL REFERENCES events (id),
      subscription_id uuid NOT NULL REFERENCES subscriptions (id),
      event_type text NOT NULL,
      attempts integer NOT NULL,
      due_at bigint NOT NULL,
      last_attempt_at bigint,
      manual_retry boolean NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      lease_token text,
      leased_by integer,
      lease_expires_at bigint
    ) WITH (fillfactor = 80)`,
    // A delivering row's lease died with the old process: due at once.
    `INSERT INTO queue (id, event_id, subscription_id, event_type, attempts, due_at, last_attempt_at, manual_retry, created_at, updated_at)
      SELECT id, event_id, subscription_id, event_type, attempts,
        CASE WHEN status = 'delivering' THEN updated_at ELSE next_attempt_at END,
        last_attempt_at, manual_retry, created_at, updated_at
      FROM deliveries WHERE status IN ('queued', 'delivering')`,
    // Claims: a subscription's due work in time order, and its FIFO head in ingestion order.
    `CREATE INDEX queue_due ON queue (subscription_id, due_at)`,
    `CREATE INDEX queue_order ON queue (subscription_id, id)`,
    // Retention keeps an event while any unfinished delivery needs its payload.
    `CREATE INDEX queue_event ON queue (event_id)`,
    `CREATE TABLE finished (
      id uuid PRIMARY KEY,
      event_id uuid NOT NULL,
      subscription_id uuid NOT NULL,
      event_type text NOT NULL,
      status text NOT NULL,
      attempts integer NOT NULL,
      last_attempt_at bigint,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL
    )`,
    `INSERT INTO finished (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
      SELECT id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at
      FROM deliveries WHERE status IN ('succeeded', 'failed', 'filtered', 'cancelled')`,
    // Attempts carry their delivery's subscription and event type, so the live feed and the
    // failing-subscriptions figures read them alone, whichever table the delivery is in.
    `ALTER TABLE attempts ADD COLUMN subscription_id uuid`,
    `ALTER TABLE attempts ADD COLUMN event_type text`,
    `UPDATE attempts SET subscription_id = d.subscription_id, event_type = d.event_type FROM deliveries d WHERE d.id = attempts.delivery_id`,
    `ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey`,
    `ALTER TABLE attempts ALTER COLUMN subscription_id SET NOT NULL`,
    `ALTER TABLE attempts ALTER COLUMN event_type SET NOT NULL`,
    `DROP INDEX attempts_stats`,
    // The counters behind /api/v1/status and the dashboard, filled from what is stored now
    // (latency histograms start empty: the attempts before the upgrade are not in them).
    // Writers add to one of several shards of a row, so concurrent transactions of many
    // workers rarely wait on each other; readers sum the shards.
    `CREATE TABLE counters (
      span bigint NOT NULL,
      bucket bigint NOT NULL,
      name text NOT NULL,
      shard integer NOT NULL,
      n bigint NOT NULL,
      last_at bigint,
      PRIMARY KEY (span, bucket, name, shard)
    )`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT 0, 0, 'deliveries:' || CASE WHEN status = 'delivering' THEN 'queued' ELSE status END, 0, count(*)
      FROM deliveries GROUP BY 1, 2, 3, 4`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT span, created_at - created_at % span, 'created', 0, count(*)
      FROM deliveries, (VALUES (60000), (900000)) AS s (span) GROUP BY 1, 2`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT span, updated_at - updated_at % span, 'finished:' || status, 0, count(*)
      FROM deliveries, (VALUES (60000), (900000)) AS s (span) WHERE status IN ('succeeded', 'failed') GROUP BY 1, 2, 3`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT span, created_at - created_at % span, 'attempts:' || outcome, 0, count(*)
      FROM attempts, (VALUES (60000), (900000)) AS s (span) GROUP BY 1, 2, 3`,
    `INSERT INTO counters (span, bucket, name, shard, n, last_at)
      SELECT span, created_at - created_at % span, 'failures:' || subscription_id, 0, count(*), max(created_at)
      FROM attempts, (VALUES (60000), (900000)) AS s (span) WHERE outcome <> 'success' GROUP BY 1, 2, 3`,
    `DROP TABLE deliveries`,
    `ALTER TABLE finished RENAME TO deliveries`,
    `ALTER TABLE deliveries RENAME CONSTRAINT finished_pkey TO deliveries_pkey`,
    // The API's lists of finished deliveries, newest first: by subscription, by event type,
    // by status (succeeded, nearly every row, is read by id instead), and retention by age.
    `CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id)`,
    `CREATE INDEX deliveries_event_type ON deliveries (event_type, id)`,
    `CREATE INDEX deliveries_status ON deliveries (status, id) WHERE status <> 'succeeded'`,
    `CREATE INDEX deliveries_created_at ON deliveries (created_at)`,
    // What each worker process has in flight for a subscription, {"<worker>": [count, until]},
    // kept in the subscription row that claims lock anyway (a HOT update, no index). A worker
    // counts while it holds its session advisory lock (the lock goes when its process or
    // connection does) and until its latest lease expires; max_in_flight is checked against
    // the sum of those.
    `ALTER TABLE subscriptions ADD COLUMN slots jsonb NOT NULL DEFAULT '{}'`,
  ],
  '0009_applications': [
    // Applications (tenants): every subscription belongs to one, and with it its events,
    // deliveries and attempts. What existed before goes to the default application, which the
    // flat API (/api/v1/subscriptions, /events, …) keeps working on. A deleted application's
    // row stays (deleted_at) while its history is kept; its uid is free again at once.
    `CREATE TABLE applications (
      id uuid PRIMARY KEY,
      uid text NOT NULL,
      name text NOT NULL,
      metadata jsonb NOT NULL,
      subscription_defaults jsonb NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      deleted_at bigint
    )`,
    `CREATE UNIQUE INDEX applications_uid ON applications (uid) WHERE deleted_at IS NULL`,
    `INSERT INTO applications (id, uid, name, metadata, subscription_defaults, created_at, updated_at)
      VALUES ('00000000-0000-7000-8000-000000000000', 'default', 'Default', '{}', '{}', (extract(epoch from now()) * 1000)::bigint, (extract(epoch from now()) * 1000)::bigint)`,
    // The column defaults put existing rows (and any writer that does not know applications
    // yet) in the default application (a constant default: no table rewrite). Deliveries and
    // attempts are not given the column: they are reached through their subscription, so the
    // queue's rows and claims stay as they were.
    `ALTER TABLE subscriptions ADD COLUMN application_id uuid NOT NULL DEFAULT '00000000-0000-7000-8000-000000000000' REFERENCES applications (id)`,
    `CREATE INDEX subscriptions_application ON subscriptions (application_id, id)`,
    `ALTER TABLE events ADD COLUMN application_id uuid NOT NULL DEFAULT '00000000-0000-7000-8000-000000000000'`,
    // An application's attempt figures (GET /api/v1/stats?application=) read its subscriptions' attempts of a window.
    `CREATE INDEX attempts_subscription ON attempts (subscription_id, created_at)`,
    // A key bound to one application (null: an admin key), and read-only keys.
    `ALTER TABLE api_keys ADD COLUMN application_id uuid REFERENCES applications (id)`,
    `ALTER TABLE api_keys ADD COLUMN read_only boolean NOT NULL DEFAULT false`,
    // Consumer portal sessions: only the hash of each session's token is kept, and every
    // request checks the row, so revoking one ends it at once.
    `CREATE TABLE portal_sessions (
      id uuid PRIMARY KEY,
      application_id uuid NOT NULL REFERENCES applications (id),
      token_hash text NOT NULL UNIQUE,
      theme jsonb NOT NULL,
      read_only boolean NOT NULL,
      created_at bigint NOT NULL,
      expires_at bigint NOT NULL,
      revoked_at bigint
    )`,
    `CREATE INDEX portal_sessions_application ON portal_sessions (application_id, id)`,
  ],
  // The event-type catalog. The schema and the example are kept as the JSON text given (not
  // jsonb), so they read back as written; names sort bytewise ("C"), as on SQLite.
  '0010_event_types': [
    `CREATE TABLE event_types (
      name text COLLATE "C" PRIMARY KEY,
      description text,
      schema text,
      example text,
      deprecated boolean NOT NULL DEFAULT false,
      validate boolean NOT NULL DEFAULT false,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL
    )`,
  ],
  // A broker destination instead of a target URL (target_url is then ''): a JSON object whose
  // url is sealed like the secrets (store/secret-box.ts).
  '0011_destinations': [
    `ALTER TABLE subscriptions ADD COLUMN destination jsonb`,
  ],
  // The W3C trace context of the ingest request, carried to every attempt (tracing, issue 16).
  '0012_event_trace_context': [
    `ALTER TABLE events ADD COLUMN traceparent text`,
    `ALTER TABLE events ADD COLUMN tracestate text`,
  ],
};
