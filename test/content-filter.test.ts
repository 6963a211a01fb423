// The content filter grammar: validation and evaluation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterProblem, matchesFilter } from '../src/routing/content-filter.ts';

const order = {
  event_type: 'order.created',
  data: { total: 150, currency: 'EUR', customer: { vip: true, country: 'FR' }, items: [{ sku: 'A-1', qty: 2 }], note: null },
};

test('each operator, on a matching and a non-matching value', () => {
  const cases: [Record<string, unknown>, boolean][] = [
    [{ 'data.total': 150 }, true],
    [{ 'data.total': 151 }, false],
    [{ 'data.total': { $eq: 150 } }, true],
    [{ 'data.total': { $neq: 150 } }, false],
    [{ 'data.currency': { $in: ['EUR', 'USD'] } }, true],
    [{ 'data.currency': { $in: ['GBP'] } }, false],
    [{ 'data.currency': { $nin: ['GBP'] } }, true],
    [{ 'data.currency': { $nin: ['EUR'] } }, false],
    [{ 'data.total': { $gt: 149 } }, true],
    [{ 'data.total': { $gt: 150 } }, false],
    [{ 'data.total': { $gte: 150 } }, true],
    [{ 'data.total': { $lt: 150 } }, false],
    [{ 'data.total': { $lte: 150 } }, true],
    [{ 'data.total': { $gte: 100, $lt: 200 } }, true],
    [{ 'data.total': { $gte: 100, $lt: 120 } }, false],
    [{ 'data.currency': { $gt: 'A' } }, true],
    [{ 'data.total': { $gt: '100' } }, false],
    [{ 'data.customer.vip': true }, true],
    [{ 'data.items.0.sku': 'A-1' }, true],
    [{ 'data.items.1.sku': { $exists: true } }, false],
    [{ 'data.missing': { $exists: false } }, true],
    [{ 'data.note': null }, true],
    [{ 'data.note': { $exists: true } }, true],
    [{ 'data.missing': { $neq: 1 } }, true],
    [{ 'data.missing': { $in: [null] } }, false],
    [{ $and: [{ 'data.total': { $gte: 100 } }, { 'data.customer.country': 'FR' }] }, true],
    [{ $and: [{ 'data.total': { $gte: 100 } }, { 'data.customer.country': 'DE' }] }, false],
    [{ $or: [{ 'data.total': { $gte: 1000 } }, { 'data.customer.vip': true }] }, true],
    [{ $or: [{ 'data.total': { $gte: 1000 } }, { 'data.customer.vip': false }] }, false],
    [{ $not: { 'data.currency': 'USD' } }, true],
    [{ $not: { 'data.currency': 'EUR' } }, false],
    [{ 'data.total': { $gte: 100 }, 'data.currency': 'USD' }, false],
  ];
  for (const [filter, expected] of cases) {
    assert.equal(filterProblem(filter), null, `${JSON.stringify(filter)} should be valid`);
    assert.equal(matchesFilter(filter, order), expected, JSON.stringify(filter));
  }
});

test('invalid filters are refused with a reason naming the place', () => {
  const bad: [unknown, RegExp][] = [
    ['x', /filter must be an object/],
    [[], /filter must be an object/],
    [{ 'data.total': { $regex: 'x' } }, /filter\.data\.total\.\$regex: unknown operator/],
    [{ $where: 'x' }, /unknown operator/],
    [{ 'data.total': { $gt: true } }, /\$gt takes a number or a string/],
    [{ 'data.total': { $in: 'x' } }, /\$in takes a list/],
    [{ 'data.total': { $in: [{}] } }, /\$in takes a list/],
    [{ 'data.total': { $eq: [1] } }, /\$eq takes a string/],
    [{ 'data.total': { $exists: 'yes' } }, /\$exists takes true or false/],
    [{ 'data.total': {} }, /must be a value or an object of operators/],
    [{ 'data..total': 1 }, /dot-separated/],
    [{ $and: [] }, /list of 1 to/],
    [{ $or: [1] }, /must be an object/],
    [{ $not: { $not: { $not: { $not: { $not: { $not: { $not: { $not: { $not: { a: 1 } } } } } } } } } }, /deeper than/],
    [Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, i])), /more than 100 conditions/],
  ];
  for (const [filter, reason] of bad) assert.match(filterProblem(filter) ?? 'valid', reason, JSON.stringify(filter));
});

test('paths never reach inherited properties', () => {
  assert.equal(matchesFilter({ 'data.constructor': { $exists: true } }, order), false);
  assert.equal(matchesFilter(JSON.parse('{"__proto__": {"$exists": true}}'), order), false);
});
