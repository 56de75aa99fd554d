import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonKeepingIds } from '../../server/domain/json-ids.js';

/* Shopify ids (820982911946154508) are beyond 2^53: read as JSON numbers they would change. */

test('integers beyond 2^53 are read as their exact digits', () => {
  const v = parseJsonKeepingIds('{"id": 820982911946154508, "order_id":-820982911946154509}') as Record<
    string,
    unknown
  >;
  assert.equal(v.id, '820982911946154508');
  assert.equal(v.order_id, '-820982911946154509');
});

test('safe integers, decimals, exponents, strings and nesting are untouched', () => {
  const text =
    '{"a":9007199254740991,"b":89.99,"c":1e21,"d":"820982911946154508","e":[1,{"f":123456789012345678}],"g":"x\\"9999999999999999999"}';
  assert.deepEqual(parseJsonKeepingIds(text), {
    a: 9007199254740991,
    b: 89.99,
    c: 1e21,
    d: '820982911946154508',
    e: [1, { f: '123456789012345678' }],
    g: 'x"9999999999999999999',
  });
});

test('invalid JSON still fails', () => {
  assert.throws(() => parseJsonKeepingIds('{"id": 1,'), SyntaxError);
  assert.throws(() => parseJsonKeepingIds(''), SyntaxError);
});
