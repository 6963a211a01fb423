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
};
