// An application: one of the user's customers (a tenant). Every subscription belongs to one,
// and with it its events, deliveries and attempts; an application's API key or portal session
// sees nothing of another's. The flat API works on the default application, which the
// migration that introduced applications created and filled with what existed before.
import type { RetryPolicy } from './policies.ts';

/** The application of the flat API (/api/v1/subscriptions, /events, …) and of all data from before applications. */
export const DEFAULT_APPLICATION_ID = '00000000-0000-7000-8000-000000000000';
export const DEFAULT_APPLICATION_UID = 'default';

/** Settings a new subscription of the application takes when its request leaves them out. */
export interface SubscriptionDefaults {
  retryPolicy?: Partial<RetryPolicy>;
  rateLimitPerSecond?: number | null;
  maxInFlight?: number;
}

export interface Application {
  id: string;
  /** The user's own stable id for it (e.g. their customer id); unique among live applications. */
  uid: string;
  name: string;
  /** Small string map the user keeps with it. */
  metadata: Record<string, string>;
  subscriptionDefaults: SubscriptionDefaults;
  createdAt: number;
  updatedAt: number;
}

/** Uids must not look like ids, so a path segment names one application only. */
export const APPLICATION_UID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$';
export const MAX_METADATA_ENTRIES = 32;
export const MAX_METADATA_KEY_LENGTH = 64;
export const MAX_METADATA_VALUE_LENGTH = 512;

/** How the portal looks: the user's product name, accent colour and logo; absent ones are hookd's. */
export interface PortalTheme {
  name?: string;
  /** A CSS colour, #rgb or #rrggbb. */
  accent?: string;
  /** An https:// URL of an image. */
  logoUrl?: string;
}

/** Portal sessions last an hour unless asked otherwise, and a week at most. */
export const PORTAL_SESSION_DEFAULT_SECONDS = 3600;
export const PORTAL_SESSION_MAX_SECONDS = 7 * 86_400;

/** A consumer portal session: the holder of its signed token may see and manage one application, until it expires or is revoked. */
export interface PortalSession {
  id: string;
  applicationId: string;
  /** Hex SHA-256 of the session's token; the token itself is never stored. */
  tokenHash: string;
  theme: PortalTheme;
  readOnly: boolean;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}
