// W3C trace context from hostile requests: only a well-formed traceparent is kept (and
// normalised to version 00), a tracestate only when every member is well formed, within the
// spec's bounds; the headers an attempt carries follow from what was kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTraceparent, incomingTraceContext, parseTraceparent, parseTracestate, traceHeaders } from '../src/tracing/trace-context.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('traceparent', () => {
  it('keeps a well-formed one, whatever its flags', () => {
    assert.equal(parseTraceparent(VALID), VALID);
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`), `00-${TRACE_ID}-${SPAN_ID}-00`);
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-03`), `00-${TRACE_ID}-${SPAN_ID}-03`);
  });

  it('reads a later version by its first four fields, and passes it on as version 00', () => {
    assert.equal(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01`), VALID);
    assert.equal(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-the-future-holds`), VALID);
    assert.equal(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-01what`), null, 'a later field must follow a dash');
  });

  it('drops anything else', () => {
    const bad = [
      undefined, '', 42, [VALID, VALID], VALID.toUpperCase(), `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${'0'.repeat(32)}-${SPAN_ID}-01`, `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`, `00-${TRACE_ID}-${SPAN_ID}-1`, `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`,
      `00_${TRACE_ID}_${SPAN_ID}_01`, ` ${VALID}`, `${VALID} `, `00-${TRACE_ID.replace('4', 'g')}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-0\n`, VALID.replace('-', '\u00ad'), `${VALID}\u0000`, 'x'.repeat(10_000),
    ];
    for (const value of bad) assert.equal(parseTraceparent(value), null, JSON.stringify(value));
  });
});

describe('tracestate', () => {
  it('keeps well-formed members, rejoined without the optional spaces', () => {
    assert.equal(parseTracestate('congo=t61rcWkgMzE'), 'congo=t61rcWkgMzE');
    assert.equal(parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE'), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
    assert.equal(parseTracestate('a=1,,\t b=2 ,'), 'a=1,b=2', 'empty members are allowed and dropped');
    assert.equal(parseTracestate('tenant@vendor=x y,a_b-c*d/e=~'), 'tenant@vendor=x y,a_b-c*d/e=~');
  });

  it('drops the whole header when any member is malformed', () => {
    const bad = [
      'Upper=1', '1abc=x', 'a=', '=x', 'a', 'a=b=c', 'a=x\ty', 'a=é', 'a=x\u0000', 'a=1,a=2',
      `a@${'b'.repeat(15)}=1`, `${'a'.repeat(257)}=1`, `a=${'v'.repeat(257)}`,
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','), 'x'.repeat(9000), ['a=1'], undefined,
    ];
    for (const value of bad) assert.equal(parseTracestate(value), null, JSON.stringify(value));
  });

  it('passes on at most 512 characters, dropping long members first, then from the end', () => {
    const long = `long=${'l'.repeat(200)}`;
    const members = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, '0')}=${'v'.repeat(20)}`);
    const kept = parseTracestate([long, ...members].join(','))!;
    assert.ok(kept.length <= 512);
    assert.ok(!kept.includes('long='), 'the long member goes first');
    assert.ok(kept.startsWith('k00='), 'the first members stay');
    assert.equal(kept, members.slice(0, kept.split(',').length).join(','));
  });
});

describe('the trace context of a request, and the headers of an attempt', () => {
  it('drops tracestate with a malformed traceparent, and keeps traceparent with a malformed tracestate', () => {
    assert.deepEqual(incomingTraceContext({ traceparent: VALID, tracestate: 'a=1' }), { traceparent: VALID, tracestate: 'a=1' });
    assert.deepEqual(incomingTraceContext({ traceparent: VALID, tracestate: 'A=1' }), { traceparent: VALID, tracestate: null });
    assert.equal(incomingTraceContext({ traceparent: VALID.toUpperCase(), tracestate: 'a=1' }), null);
    assert.equal(incomingTraceContext({}), null);
  });

  it('sends traceparent and tracestate when there is a context, nothing otherwise', () => {
    assert.deepEqual(traceHeaders({ traceparent: VALID, tracestate: 'a=1' }), { traceparent: VALID, tracestate: 'a=1' });
    assert.deepEqual(traceHeaders({ traceparent: VALID, tracestate: null }), { traceparent: VALID });
    assert.deepEqual(traceHeaders(null), {});
    assert.deepEqual(traceHeaders(undefined), {});
  });

  it('formats a span as the parent, in the same trace', () => {
    assert.equal(formatTraceparent(TRACE_ID, 'b7ad6b7169203331', 1), `00-${TRACE_ID}-b7ad6b7169203331-01`);
    assert.equal(formatTraceparent(TRACE_ID, 'b7ad6b7169203331', 0), `00-${TRACE_ID}-b7ad6b7169203331-00`);
  });
});
