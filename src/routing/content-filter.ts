// Content filters: a subscription may take only the events whose JSON body satisfies a
// condition, evaluated once at ingestion (a non-match is recorded as `filtered`).
//
// Grammar
//   filter     := { key: condition, ... }             every entry must hold
//   key        := a dotted path into the body ("data.total", "data.items.0.sku")
//               | "$and": [filter, ...] | "$or": [filter, ...] | "$not": filter
//   condition  := scalar                               shorthand for { "$eq": scalar }
//               | { op: operand, ... }                 every operator must hold
//   op         := $eq $neq (scalar) | $in $nin ([scalar, ...])
//               | $gt $gte $lt $lte (number or string; compared only with the same type)
//               | $exists (boolean)
//   scalar     := string | number | boolean | null
// A path that does not exist has no value: only `$exists: false`, `$neq` and `$nin` hold for it.
import type { ContentFilter } from '../domain/index.ts';

type Scalar = string | number | boolean | null;

export const COMPARISONS = ['$gt', '$gte', '$lt', '$lte'] as const;
const OPERATORS = new Set(['$eq', '$neq', '$in', '$nin', '$exists', ...COMPARISONS]);
export const MAX_DEPTH = 8;
export const MAX_CONDITIONS = 100;
export const MAX_PATH = 200;
export const MAX_LIST = 100;

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a filter is not valid, naming where; null when it is. */
export function filterProblem(filter: unknown): string | null {
  // PostgreSQL's jsonb cannot hold NUL, in keys or values (JSON.stringify writes it \u0000).
  if (JSON.stringify(filter)?.includes('\\u0000')) return 'must not contain NUL characters (\\u0000)';
  let conditions = 0;
  function checkFilter(node: unknown, at: string, depth: number): string | null {
    if (depth > MAX_DEPTH) return `${at} nests deeper than ${MAX_DEPTH} levels`;
    if (!isObject(node)) return `${at} must be an object of conditions`;
    for (const [key, value] of Object.entries(node)) {
      const here = `${at}.${key}`;
      if (++conditions > MAX_CONDITIONS) return `the filter has more than ${MAX_CONDITIONS} conditions`;
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(value) || value.length === 0 || value.length > MAX_LIST) return `${here} must be a list of 1 to ${MAX_LIST} filters`;
        for (const [i, item] of value.entries()) {
          const problem = checkFilter(item, `${here}[${i}]`, depth + 1);
          if (problem) return problem;
        }
      } else if (key === '$not') {
        const problem = checkFilter(value, here, depth + 1);
        if (problem) return problem;
      } else if (key.startsWith('$')) {
        return `${here}: unknown operator (use $and, $or or $not here, or a field path)`;
      } else {
        if (key.length > MAX_PATH || key.split('.').some((part) => part === '')) return `${here}: a path is dot-separated names, at most ${MAX_PATH} characters`;
        const problem = checkCondition(value, here);
        if (problem) return problem;
      }
    }
    return null;
  }
  function checkCondition(condition: unknown, at: string): string | null {
    if (isScalar(condition)) return null;
    if (!isObject(condition) || Object.keys(condition).length === 0) return `${at} must be a value or an object of operators`;
    for (const [op, operand] of Object.entries(condition)) {
      if (!OPERATORS.has(op)) return `${at}.${op}: unknown operator`;
      if ((op === '$eq' || op === '$neq') && !isScalar(operand)) return `${at}.${op} takes a string, number, boolean or null`;
      if ((op === '$in' || op === '$nin') && (!Array.isArray(operand) || operand.length > MAX_LIST || !operand.every(isScalar))) {
        return `${at}.${op} takes a list of at most ${MAX_LIST} strings, numbers, booleans or nulls`;
      }
      if ((COMPARISONS as readonly string[]).includes(op) && typeof operand !== 'number' && typeof operand !== 'string') {
        return `${at}.${op} takes a number or a string`;
      }
      if (op === '$exists' && typeof operand !== 'boolean') return `${at}.$exists takes true or false`;
    }
    return null;
  }
  return checkFilter(filter, 'filter', 0);
}

const MISSING = Symbol('missing');

function resolve(document: unknown, path: string): unknown {
  let value: unknown = document;
  for (const part of path.split('.')) {
    if (Array.isArray(value) && /^\d+$/.test(part)) value = value[Number(part)];
    else if (isObject(value) && Object.hasOwn(value, part)) value = value[part];
    else return MISSING;
    if (value === undefined) return MISSING;
  }
  return value;
}

function compare(value: unknown, op: (typeof COMPARISONS)[number], operand: number | string): boolean {
  if (typeof value !== typeof operand) return false;
  const a = value as number | string;
  switch (op) {
    case '$gt': return a > operand;
    case '$gte': return a >= operand;
    case '$lt': return a < operand;
    case '$lte': return a <= operand;
  }
}

function holds(value: unknown, condition: unknown): boolean {
  if (isScalar(condition)) return value === condition;
  return Object.entries(condition as Record<string, unknown>).every(([op, operand]) => {
    switch (op) {
      case '$eq': return value === operand;
      case '$neq': return value !== operand;
      case '$in': return value !== MISSING && (operand as Scalar[]).includes(value as Scalar);
      case '$nin': return value === MISSING || !(operand as Scalar[]).includes(value as Scalar);
      case '$exists': return (value !== MISSING) === operand;
      default: return value !== MISSING && compare(value, op as (typeof COMPARISONS)[number], operand as number | string);
    }
  });
}

/** Whether a (valid) filter accepts the parsed JSON body. */
export function matchesFilter(filter: ContentFilter, document: unknown): boolean {
  return Object.entries(filter).every(([key, value]) => {
    if (key === '$and') return (value as ContentFilter[]).every((f) => matchesFilter(f, document));
    if (key === '$or') return (value as ContentFilter[]).some((f) => matchesFilter(f, document));
    if (key === '$not') return !matchesFilter(value as ContentFilter, document);
    return holds(resolve(document, key), value);
  });
}
