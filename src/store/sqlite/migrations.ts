// SQLite schema, one entry per version. Never edit a released migration: add the next one.
// Times are INTEGER milliseconds since the epoch (UTC); ids are UUIDv7 text, so they sort by
// creation time and serve as pagination keys.
export const sqliteMigrations: Record<string, readonly string[]> = {
  '0001_initial': [
    `CREATE TABLE subscriptions (
      id TEXT PRIMARY KEY,
      target_url TEXT NOT NULL,
      secret TEXT NOT NULL,
      event_types TEXT,
      description TEXT,
      active INTEGER NOT NULL DEFAULT 1,
      require_signed_ingest INTEGER NOT NULL DEFAULT 0,
      retry_policy TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      deleted_at INTEGER
    ) STRICT`,
    `CREATE INDEX subscriptions_live ON subscriptions (id) WHERE deleted_at IS NULL`,
    `CREATE INDEX subscriptions_target_url ON subscriptions (target_url)`,
    `CREATE TABLE events (
      id TEXT PRIMARY KEY,
      event_type TEXT NOT NULL,
      payload BLOB NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT`,
    `CREATE INDEX events_created_at ON events (created_at)`,
    `CREATE TABLE deliveries (
      id TEXT PRIMARY KEY,
      event_id TEXT NOT NULL REFERENCES events (id),
      subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
      event_type TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER,
      last_attempt_at INTEGER,
      lease_token TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT`,
    // The queue: due work is found through this partial index alone. A delivering row's
    // next_attempt_at is its lease expiry, so expired leases are due again by the same rule.
    `CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('queued', 'delivering')`,
    `CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id)`,
    `CREATE INDEX deliveries_status ON deliveries (status, id)`,
    `CREATE INDEX deliveries_event_type ON deliveries (event_type, id)`,
    `CREATE INDEX deliveries_event ON deliveries (event_id)`,
    `CREATE INDEX deliveries_retention ON deliveries (created_at) WHERE status IN ('succeeded', 'failed', 'filtered', 'cancelled')`,
    `CREATE TABLE attempts (
      id TEXT PRIMARY KEY,
      delivery_id TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
      attempt_number INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      status_code INTEGER,
      error_details TEXT,
      duration_ms INTEGER NOT NULL,
      response_body TEXT,
      request_headers TEXT NOT NULL,
      trigger TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT`,
    `CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_number)`,
    `CREATE INDEX attempts_created_at ON attempts (created_at)`,
  ],
  '0003_api_keys': [
    // Only a SHA-256 hash of each key is kept; the prefix identifies it in listings.
    `CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      name TEXT,
      prefix TEXT NOT NULL,
      key_hash TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER,
      revoked_at INTEGER
    ) STRICT`,
  ],
  '0004_subscription_headers_and_rotation': [
    `ALTER TABLE subscriptions ADD COLUMN headers TEXT NOT NULL DEFAULT '{}'`,
    `ALTER TABLE subscriptions ADD COLUMN previous_secret TEXT`,
    `ALTER TABLE subscriptions ADD COLUMN previous_secret_expires_at INTEGER`,
  ],
  '0005_delivery_control': [
    // Per-subscription delivery control: concurrency cap, rate limit (a token bucket kept
    // in the row, so every process shares it), FIFO ordering, content filter, circuit
    // breaker, auto-disable, fairness (last_claimed_at: served longest ago goes first), and
    // the operations subscription (system) that receives hookd's own events.
    `ALTER TABLE subscriptions ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 10`,
    `ALTER TABLE subscriptions ADD COLUMN rate_limit_per_second REAL`,
    `ALTER TABLE subscriptions ADD COLUMN rate_tokens REAL`,
    `ALTER TABLE subscriptions ADD COLUMN rate_refilled_at INTEGER`,
    `ALTER TABLE subscriptions ADD COLUMN ordering TEXT NOT NULL DEFAULT 'parallel'`,
    `ALTER TABLE subscriptions ADD COLUMN filter TEXT`,
    `ALTER TABLE subscriptions ADD COLUMN circuit_state TEXT NOT NULL DEFAULT 'closed'`,
    `ALTER TABLE subscriptions ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE subscriptions ADD COLUMN circuit_retry_at INTEGER`,
    `ALTER TABLE subscriptions ADD COLUMN failing_since INTEGER`,
    `ALTER TABLE subscriptions ADD COLUMN disabled_reason TEXT`,
    `ALTER TABLE subscriptions ADD COLUMN last_claimed_at INTEGER`,
    `ALTER TABLE subscriptions ADD COLUMN system INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE deliveries ADD COLUMN manual_retry INTEGER NOT NULL DEFAULT 0`,
    // Claiming per subscription: due work in time order, the FIFO head in ingestion order,
    // and the in-flight count that the concurrency cap is checked against.
    `CREATE INDEX deliveries_due_by_subscription ON deliveries (subscription_id, next_attempt_at) WHERE status IN ('queued', 'delivering')`,
    `CREATE INDEX deliveries_pending_by_subscription ON deliveries (subscription_id, id) WHERE status IN ('queued', 'delivering')`,
    `CREATE INDEX deliveries_in_flight ON deliveries (subscription_id) WHERE status = 'delivering'`,
    `CREATE TABLE idempotency_keys (
      scope TEXT NOT NULL,
      key TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      response TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (scope, key)
    ) STRICT`,
    `CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`,
    `CREATE TABLE operational_events (
      id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      subscription_id TEXT NOT NULL,
      delivery_id TEXT,
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT`,
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
    // of them, and moves once, when it finishes (or when an operator sends it again). Leases
    // are not stored on SQLite: one process holds the database (store/sqlite/exclusive.ts)
    // and keeps them in memory, so a restart finds every unfinished delivery due at once.
    // WITHOUT ROWID: the primary key is the table, one B-tree less per row written.
    `CREATE TABLE queue (
      id TEXT PRIMARY KEY,
      event_id TEXT NOT NULL REFERENCES events (id),
      subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
      event_type TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      due_at INTEGER NOT NULL,
      last_attempt_at INTEGER,
      manual_retry INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`,
    // A delivering row's next_attempt_at was its lease expiry: it is due at once instead.
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
      id TEXT PRIMARY KEY,
      event_id TEXT NOT NULL,
      subscription_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      last_attempt_at INTEGER,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`,
    `INSERT INTO finished (id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at)
      SELECT id, event_id, subscription_id, event_type, status, attempts, last_attempt_at, created_at, updated_at
      FROM deliveries WHERE status IN ('succeeded', 'failed', 'filtered', 'cancelled')`,
    // Attempts carry their delivery's subscription and event type, so the live feed and the
    // failing-subscriptions figures read them alone, whichever table the delivery is in.
    `CREATE TABLE attempts_next (
      id TEXT PRIMARY KEY,
      delivery_id TEXT NOT NULL,
      subscription_id TEXT NOT NULL,
      event_type TEXT NOT NULL,
      attempt_number INTEGER NOT NULL,
      outcome TEXT NOT NULL,
      status_code INTEGER,
      error_details TEXT,
      duration_ms INTEGER NOT NULL,
      response_body TEXT,
      request_headers TEXT NOT NULL,
      trigger TEXT NOT NULL,
      created_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`,
    `INSERT INTO attempts_next (id, delivery_id, subscription_id, event_type, attempt_number, outcome, status_code, error_details,
        duration_ms, response_body, request_headers, trigger, created_at)
      SELECT a.id, a.delivery_id, d.subscription_id, d.event_type, a.attempt_number, a.outcome, a.status_code, a.error_details,
        a.duration_ms, a.response_body, a.request_headers, a.trigger, a.created_at
      FROM attempts a JOIN deliveries d ON d.id = a.delivery_id`,
    // The counters behind /api/v1/status and the dashboard, filled from what is stored now
    // (latency histograms start empty: the attempts before the upgrade are not in them).
    `CREATE TABLE counters (
      span INTEGER NOT NULL,
      bucket INTEGER NOT NULL,
      name TEXT NOT NULL,
      shard INTEGER NOT NULL,
      n INTEGER NOT NULL,
      last_at INTEGER,
      PRIMARY KEY (span, bucket, name, shard)
    ) STRICT, WITHOUT ROWID`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT 0, 0, 'deliveries:' || CASE WHEN status = 'delivering' THEN 'queued' ELSE status END, 0, count(*)
      FROM deliveries GROUP BY 1, 2, 3, 4`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT span, created_at - created_at % span, 'created', 0, count(*)
      FROM deliveries, (SELECT 60000 AS span UNION ALL SELECT 900000) GROUP BY 1, 2`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT span, updated_at - updated_at % span, 'finished:' || status, 0, count(*)
      FROM deliveries, (SELECT 60000 AS span UNION ALL SELECT 900000) WHERE status IN ('succeeded', 'failed') GROUP BY 1, 2, 3`,
    `INSERT INTO counters (span, bucket, name, shard, n)
      SELECT span, created_at - created_at % span, 'attempts:' || outcome, 0, count(*)
      FROM attempts_next, (SELECT 60000 AS span UNION ALL SELECT 900000) GROUP BY 1, 2, 3`,
    `INSERT INTO counters (span, bucket, name, shard, n, last_at)
      SELECT span, created_at - created_at % span, 'failures:' || subscription_id, 0, count(*), max(created_at)
      FROM attempts_next, (SELECT 60000 AS span UNION ALL SELECT 900000) WHERE outcome <> 'success' GROUP BY 1, 2, 3`,
    `DROP TABLE attempts`,
    `ALTER TABLE attempts_next RENAME TO attempts`,
    `CREATE INDEX attempts_delivery ON attempts (delivery_id, attempt_number)`,
    `DROP TABLE deliveries`,
    `ALTER TABLE finished RENAME TO deliveries`,
    // The API's lists of finished deliveries, newest first: by subscription, by event type,
    // by status (succeeded, nearly every row, is read by id instead), and retention by age.
    `CREATE INDEX deliveries_subscription ON deliveries (subscription_id, id)`,
    `CREATE INDEX deliveries_event_type ON deliveries (event_type, id)`,
    `CREATE INDEX deliveries_status ON deliveries (status, id) WHERE status <> 'succeeded'`,
    `CREATE INDEX deliveries_created_at ON deliveries (created_at)`,
  ],
  '0009_applications': [
    // Applications (tenants): every subscription belongs to one, and with it its events,
    // deliveries and attempts. What existed before goes to the default application, which the
    // flat API (/api/v1/subscriptions, /events, …) keeps working on. A deleted application's
    // row stays (deleted_at) while its history is kept; its uid is free again at once.
    `CREATE TABLE applications (
      id TEXT PRIMARY KEY,
      uid TEXT NOT NULL,
      name TEXT NOT NULL,
      metadata TEXT NOT NULL,
      subscription_defaults TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      deleted_at INTEGER
    ) STRICT`,
    `CREATE UNIQUE INDEX applications_uid ON applications (uid) WHERE deleted_at IS NULL`,
    `INSERT INTO applications (id, uid, name, metadata, subscription_defaults, created_at, updated_at)
      VALUES ('00000000-0000-7000-8000-000000000000', 'default', 'Default', '{}', '{}', CAST(unixepoch('subsec') * 1000 AS INTEGER), CAST(unixepoch('subsec') * 1000 AS INTEGER))`,
    // The column defaults put existing rows (and any writer that does not know applications
    // yet) in the default application. Deliveries and attempts are not given the column: they
    // are reached through their subscription, so the queue's rows and claims stay as they were.
    `ALTER TABLE subscriptions ADD COLUMN application_id TEXT NOT NULL DEFAULT '00000000-0000-7000-8000-000000000000'`,
    `CREATE INDEX subscriptions_application ON subscriptions (application_id, id)`,
    `ALTER TABLE events ADD COLUMN application_id TEXT NOT NULL DEFAULT '00000000-0000-7000-8000-000000000000'`,
    // An application's attempt figures (GET /api/v1/stats?application=) read its subscriptions' attempts of a window.
    `CREATE INDEX attempts_subscription ON attempts (subscription_id, created_at)`,
    // A key bound to one application (null: an admin key), and read-only keys.
    `ALTER TABLE api_keys ADD COLUMN application_id TEXT`,
    `ALTER TABLE api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0`,
    // Consumer portal sessions: only the hash of each session's token is kept, and every
    // request checks the row, so revoking one ends it at once.
    `CREATE TABLE portal_sessions (
      id TEXT PRIMARY KEY,
      application_id TEXT NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      theme TEXT NOT NULL,
      read_only INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      revoked_at INTEGER
    ) STRICT`,
    `CREATE INDEX portal_sessions_application ON portal_sessions (application_id, id)`,
  ],
  // The event-type catalog. The schema and the example are kept as the JSON text given, so
  // they read back as written (key order included).
  '0010_event_types': [
    `CREATE TABLE event_types (
      name TEXT PRIMARY KEY,
      description TEXT,
      schema TEXT,
      example TEXT,
      deprecated INTEGER NOT NULL DEFAULT 0,
      validate INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`,
  ],
  // A broker destination instead of a target URL (target_url is then ''): a JSON object whose
  // url is sealed like the secrets (store/secret-box.ts).
  '0011_destinations': [
    `ALTER TABLE subscriptions ADD COLUMN destination TEXT`,
  ],
  // The W3C trace context of the ingest request, carried to every attempt (tracing, issue 16).
  '0012_event_trace_context': [
    `ALTER TABLE events ADD COLUMN traceparent TEXT`,
    `ALTER TABLE events ADD COLUMN tracestate TEXT`,
  ],
};
