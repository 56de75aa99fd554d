import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parse } from '../../server/validation.js';
import { AppError, type FieldError } from '../../server/errors.js';
import { settingsSchema } from '../../server/domain/settings.js';
import { fieldLabel, fieldSentence, plural, agree } from '../../server/messages.js';
import { isCurrencyCode } from '../../server/domain/currency-codes.js';

/** The field errors `schema` gives for `input` (throws when it passes). */
function errorsOf(schema: z.ZodType, input: unknown): FieldError[] {
  try {
    parse(schema, input);
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.status, 422);
    return err.details as FieldError[];
  }
  throw new Error('expected the input to be refused');
}

describe('validation messages in plain words', () => {
  const schema = z.strictObject({
    cookieDays: z.number().int().min(0).max(3650),
    name: z.string().min(1),
    code: z.string().min(3).max(8),
    approval: z.enum(['auto', 'manual']),
    email: z.email(),
    weight: z.number().positive(),
    tags: z.array(z.string()).max(2),
  });

  test('numbers, text, lists, choices and formats', () => {
    const got = errorsOf(schema, {
      cookieDays: -1,
      name: '',
      code: 'ab',
      approval: 'sometimes',
      email: 'nope',
      weight: 0,
      tags: ['a', 'b', 'c'],
    });
    assert.deepEqual(got, [
      { field: 'cookieDays', message: 'must be 0 or more' },
      { field: 'name', message: 'must not be empty' },
      { field: 'code', message: 'must be at least 3 characters' },
      { field: 'approval', message: 'must be one of: auto, manual' },
      { field: 'email', message: 'must be an email address' },
      { field: 'weight', message: 'must be more than 0' },
      { field: 'tags', message: 'must have at most 2 items' },
    ]);
    for (const e of got) assert.doesNotMatch(e.message, /expected|Too (small|big)|Invalid/);
  });

  test('missing, wrong type, too big, not whole', () => {
    assert.deepEqual(errorsOf(schema.pick({ cookieDays: true }), {}), [
      { field: 'cookieDays', message: 'is required' },
    ]);
    assert.deepEqual(errorsOf(schema.pick({ cookieDays: true }), { cookieDays: 'ten' }), [
      { field: 'cookieDays', message: 'must be a number' },
    ]);
    assert.deepEqual(errorsOf(schema.pick({ cookieDays: true }), { cookieDays: 4000 }), [
      { field: 'cookieDays', message: 'must be 3,650 or less' },
    ]);
    assert.deepEqual(errorsOf(schema.pick({ cookieDays: true }), { cookieDays: 1.5 }), [
      { field: 'cookieDays', message: 'must be a whole number' },
    ]);
  });

  test('the API error keeps the field path in its message and details', () => {
    try {
      parse(schema.pick({ cookieDays: true }), { cookieDays: -3 });
      assert.fail('refused');
    } catch (err) {
      assert.ok(err instanceof AppError);
      assert.equal(err.message, 'cookieDays: must be 0 or more');
      assert.deepEqual(err.details, [{ field: 'cookieDays', message: 'must be 0 or more' }]);
    }
  });

  test('a message a schema gives itself is kept', () => {
    assert.deepEqual(errorsOf(z.object({ n: z.number().min(1, 'needs one at least') }), { n: 0 }), [
      { field: 'n', message: 'needs one at least' },
    ]);
  });

  test('a page says it as a sentence naming the field in words', () => {
    assert.equal(fieldSentence('cookieDays', 'must be 0 or more'), 'Cookie days must be 0 or more');
    assert.equal(fieldSentence('destinationUrl', 'must be an http(s) URL'), 'Destination URL must be an http(s) URL');
    assert.equal(fieldSentence('items.0.totalCost', 'is required'), 'Items 1 total cost is required');
    assert.equal(fieldSentence('name', 'Already taken by campaign 3'), 'Already taken by campaign 3');
    assert.equal(fieldLabel('sub_id_1'), 'Sub ID 1');
    assert.equal(fieldLabel('refId'), 'Referral ID');
  });
});

describe('currency fields take ISO 4217 codes and name the field', () => {
  test('known codes in any case; unknown three letters refused', () => {
    for (const c of ['USD', 'eur', 'JPY', 'KWD']) assert.ok(isCurrencyCode(c), c);
    for (const c of ['XYZ', 'ABC', 'EURO', '']) assert.ok(!isCurrencyCode(c), c);
  });
  test('settings: the base currency and an exchange-rate key', () => {
    assert.deepEqual(errorsOf(settingsSchema.partial(), { baseCurrency: 'XYZ' }), [
      { field: 'baseCurrency', message: 'must be an ISO 4217 currency code such as USD or EUR' },
    ]);
    const rates = errorsOf(settingsSchema.partial(), { exchangeRates: { ABC: 2 } });
    assert.equal(rates.length, 1);
    assert.equal(rates[0]!.field, 'exchangeRates.ABC');
    assert.match(rates[0]!.message, /ISO 4217/);
  });
});

describe('plural', () => {
  test('one, many, none, irregular, large', () => {
    assert.equal(plural(1, 'affiliate'), '1 affiliate');
    assert.equal(plural(2, 'affiliate'), '2 affiliates');
    assert.equal(plural(0, 'commission'), '0 commissions');
    assert.equal(plural(1, 'batch', 'batches'), '1 batch');
    assert.equal(plural(3, 'batch', 'batches'), '3 batches');
    assert.equal(plural(12345, 'click'), '12,345 clicks');
    assert.equal(`${plural(1, 'commission')} ${agree(1, 'is', 'are')} now paid`, '1 commission is now paid');
    assert.equal(`${plural(4, 'commission')} ${agree(4, 'is', 'are')} now paid`, '4 commissions are now paid');
  });
});
