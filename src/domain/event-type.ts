// The event-type catalog: the kinds of event a hookd sends, described for the people who
// subscribe to them, each optionally with a JSON Schema its events' `data` must match.

/** Event types name one kind of event; unlike filter patterns they hold no `*`. */
export const EVENT_TYPE_NAME = '^[A-Za-z0-9_.-]{1,100}$';

/** The most a catalog entry's JSON Schema, and its example, may weigh as JSON text. */
export const MAX_EVENT_SCHEMA_BYTES = 65_536;

export interface EventType {
  name: string;
  description: string | null;
  /** A JSON Schema (an object) for the events' `data`; null when none is given. */
  schema: Record<string, unknown> | null;
  /** An example `data` payload; null when none is given. */
  example: unknown;
  /** Still sent, but subscribers are told to move away from it. */
  deprecated: boolean;
  /** Ingest refuses events of this type whose `data` does not match `schema` (which it then has). */
  validate: boolean;
  createdAt: number;
  updatedAt: number;
}
