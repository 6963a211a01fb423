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
};
