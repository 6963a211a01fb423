// The content-filter grammar (routing/content-filter.ts) as JSON Schema, for the OpenAPI
// document. The nesting depth and the total number of conditions are stated in words: JSON
// Schema cannot count them short of one schema per level, which test generators choke on.
// filterProblem() remains the check the API applies.
import { COMPARISONS, MAX_CONDITIONS, MAX_DEPTH, MAX_LIST, MAX_PATH } from './content-filter.ts';

const SCALAR = { type: ['string', 'number', 'boolean', 'null'] };
const SCALARS = { type: 'array', maxItems: MAX_LIST, items: SCALAR };
const COMPARABLE = { type: ['number', 'string'] };

const CONDITION_ID = 'ContentFilterCondition';
const FILTER_ID = 'ContentFilter';

/** A dot-separated path into the body: names that are not empty, the first not starting with "$". */
const PATH = { type: 'string', maxLength: MAX_PATH, pattern: '^[^$.][^.]*(\\.[^.]+)*$' };

const CONDITION = {
  $id: CONDITION_ID,
  description: 'A value (equal to it), or operators that must all hold.',
  anyOf: [
    SCALAR,
    {
      type: 'object', minProperties: 1, additionalProperties: false,
      properties: {
        $eq: SCALAR, $neq: SCALAR, $in: SCALARS, $nin: SCALARS, $exists: { type: 'boolean' },
        ...Object.fromEntries(COMPARISONS.map((op) => [op, COMPARABLE])),
      },
    },
  ],
};

const FILTERS = { type: 'array', minItems: 1, maxItems: MAX_LIST, items: { $ref: `${FILTER_ID}#` } };

const FILTER = {
  $id: FILTER_ID,
  description: `Every entry must hold: a path into the body mapped to a condition, or $and/$or (lists of filters) and $not (a filter); filters nest at most ${MAX_DEPTH} levels deep, with ${MAX_CONDITIONS} conditions in all.`,
  type: 'object',
  maxProperties: MAX_CONDITIONS,
  propertyNames: { anyOf: [{ enum: ['$and', '$or', '$not'] }, PATH] },
  properties: { $and: FILTERS, $or: FILTERS, $not: { $ref: `${FILTER_ID}#` } },
  additionalProperties: { $ref: `${CONDITION_ID}#` },
};

/** Register each with addSchema before the routes that refer to CONTENT_FILTER_SCHEMA. */
export const CONTENT_FILTER_SHARED_SCHEMAS = [CONDITION, FILTER];

export const CONTENT_FILTER_SCHEMA = { $ref: `${FILTER_ID}#` };
