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
};
