// JSON Schemas of the event-type catalog, compiled with Ajv: the check a schema must pass to
// enter the catalog, and the ingest path's cache of compiled validators.
//
// The cache holds the validators of the event types with `validate` on, all of them, so that
// an event of any other type costs one map lookup. It is dropped on every change to the
// catalog, announced by the store through any hookd process (LISTEN/NOTIFY on PostgreSQL, as
// for the subscription cache), and re-read after a bounded TTL in case a notification was
// missed (the LISTEN connection was down).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { EventTypes } from '../store/contracts.ts';

const addFormats = addFormatsModule as unknown as <T extends Ajv>(ajv: T) => T;

/** Where an event's data fails its schema, e.g. `data.items.0.sku`, and why. */
export interface SchemaIssue {
  path: string;
  message: string;
}

/** A schema Ajv cannot compile; the message says why. */
export class EventSchemaError extends Error {
  override name = 'EventSchemaError';
}

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;

/**
 * Compiles a schema: draft 2020-12 unless its `$schema` names draft-07. Each schema gets its
 * own Ajv instance, so `$id`s of different entries never collide and no `$ref` reaches
 * another entry; references outside the schema are not fetched (they fail to compile).
 */
export function compileEventSchema(schema: Record<string, unknown>): ValidateFunction {
  const options = { strict: false, allErrors: false, logger: false } as const;
  const ajv = typeof schema.$schema === 'string' && DRAFT_07.test(schema.$schema) ? new Ajv(options) : new Ajv2020(options);
  addFormats(ajv);
  try {
    return ajv.compile(schema);
  } catch (error) {
    throw new EventSchemaError(error instanceof Error ? error.message : String(error));
  }
}

/** The first way `value` (found at `root`) fails the compiled schema, or null when it matches. */
export function schemaIssue(validate: ValidateFunction, value: unknown, root: string): SchemaIssue | null {
  if (validate(value)) return null;
  const error = validate.errors?.[0];
  return error ? describe(error, root) : { path: root, message: 'does not match the schema' };
}

function describe(error: ErrorObject, root: string): SchemaIssue {
  const segments = error.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = [root, ...segments].join('.');
  if (error.keyword === 'required') return { path: `${path}.${String(error.params.missingProperty)}`, message: 'is required' };
  if (error.keyword === 'additionalProperties') return { path: `${path}.${String(error.params.additionalProperty)}`, message: 'is not allowed by the schema' };
  return { path, message: error.message ?? 'does not match the schema' };
}

function issueWith(validators: ReadonlyMap<string, ValidateFunction>, eventType: string, data: unknown): SchemaIssue | null {
  const validate = validators.get(eventType);
  if (validate === undefined) return null;
  if (data === undefined) return { path: 'data', message: `is required: events of type ${eventType} are checked against its schema` };
  return schemaIssue(validate, data, 'data');
}

interface Compiled {
  /** The schema as JSON text: what the validator was compiled from. */
  source: string;
  validate: ValidateFunction;
}

export class EventSchemas {
  readonly #eventTypes: Pick<EventTypes, 'validating' | 'onChanged'>;
  readonly #ttlMs: number;
  readonly #clock: () => number;
  readonly #unsubscribe: () => void;
  #validators: ReadonlyMap<string, ValidateFunction> = new Map();
  #expiresAt = -Infinity;
  /** Bumped on every change, so a load that raced with one is not kept. */
  #generation = 0;
  #loading: Promise<ReadonlyMap<string, ValidateFunction>> | null = null;
  /** Compiled validators by name, reused while their entry is unchanged. */
  #compiled = new Map<string, Compiled>();

  constructor(eventTypes: Pick<EventTypes, 'validating' | 'onChanged'>, ttlMs: number, clock: () => number = Date.now) {
    this.#eventTypes = eventTypes;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
    this.#unsubscribe = eventTypes.onChanged(() => {
      this.#generation++;
      this.#expiresAt = -Infinity;
    });
  }

  /**
   * Why `data` of an event of this type is refused, or null: always null for a type that is
   * not in the catalog or does not validate. Synchronous while the validators are fresh
   * (the ingest path's usual case: one map lookup); a promise when they must be read again.
   */
  check(eventType: string, data: unknown): SchemaIssue | null | Promise<SchemaIssue | null> {
    if (this.#clock() < this.#expiresAt) return issueWith(this.#validators, eventType, data);
    return this.#load().then((validators) => issueWith(validators, eventType, data));
  }

  close(): void {
    this.#unsubscribe();
  }

  #load(): Promise<ReadonlyMap<string, ValidateFunction>> {
    this.#loading ??= this.#read().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #read(): Promise<ReadonlyMap<string, ValidateFunction>> {
    const generation = this.#generation;
    const now = this.#clock();
    const entries = await this.#eventTypes.validating();
    const compiled = new Map<string, Compiled>();
    for (const entry of entries) {
      if (entry.schema === null) continue;
      const source = JSON.stringify(entry.schema);
      const validate = this.#compile(entry.name, source, entry.schema);
      if (validate) compiled.set(entry.name, { source, validate });
    }
    const validators = new Map([...compiled].map(([name, { validate }]) => [name, validate]));
    if (generation === this.#generation) {
      this.#compiled = compiled;
      this.#validators = validators;
      this.#expiresAt = now + this.#ttlMs;
    }
    return validators;
  }

  /**
   * The entry's validator, compiled again only when its schema changed. One the API accepted always
   * compiles; should one stop compiling (another Ajv release), its events pass unchecked
   * rather than every one of them being refused.
   */
  #compile(name: string, source: string, schema: Record<string, unknown>): ValidateFunction | null {
    const known = this.#compiled.get(name);
    if (known && known.source === source) return known.validate;
    try {
      return compileEventSchema(schema);
    } catch {
      return null;
    }
  }
}
