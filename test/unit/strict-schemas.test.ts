import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import * as programme from '../../server/schemas/programme.js';
import * as traffic from '../../server/schemas/traffic.js';
import { saleBodyFields } from '../../server/schemas/tracking.js';
import { settingsPatchSchema } from '../../server/domain/settings.js';
import { pluginPatchSchema } from '../../server/services/plugins.js';
import {
  fieldErrors,
  looseSpots,
  nearestKey,
  requireStrict,
  unknownKeys,
  withoutKeys,
} from '../../server/validation.js';

/** SPEC §10a: API schemas are strict at every depth, and unknown keys are named by their dotted path. */
describe('strict schemas', () => {
  const bodies = Object.entries({ ...programme, ...traffic }).filter(
    ([name, value]) => /(Create|Patch)$/.test(name) && value instanceof z.ZodType,
  );

  test('every create and PATCH body schema is strict at every depth', () => {
    assert.ok(bodies.length >= 14, `found ${bodies.length} body schemas`);
    for (const [name, schema] of bodies) assert.deepEqual(looseSpots(schema as z.ZodType), [], name);
    assert.deepEqual(looseSpots(settingsPatchSchema), [], 'settings');
    assert.deepEqual(looseSpots(saleBodyFields), [], 'sale body');
    assert.deepEqual(
      looseSpots(pluginPatchSchema([{ key: 'on', label: 'On', type: 'boolean', default: true }])),
      [],
      'plugin settings',
    );
  });

  test('looseSpots names the non-strict objects and open values', () => {
    assert.deepEqual(looseSpots(z.object({ a: z.string() })), ['(root)']);
    assert.deepEqual(
      looseSpots(
        z.strictObject({
          goal: z.object({ ids: z.array(z.string()) }).nullable(),
          tiers: z.array(z.object({ value: z.number() })),
          extra: z.unknown(),
          fine: z.strictObject({ ok: z.boolean() }).optional(),
        }),
      ),
      ['goal', 'tiers[]', 'extra'],
    );
    assert.throws(() => requireStrict(z.object({})), /not strict at \(root\)/);
    assert.doesNotThrow(() => requireStrict(z.strictObject({ a: z.array(z.strictObject({})) })));
  });

  test('nearestKey offers the near miss, and nothing for a stranger', () => {
    const payout = Object.keys(programme.payoutFields.shape);
    assert.equal(nearestKey('goals', payout), 'goal');
    assert.equal(nearestKey('productId', ['productIds', 'categories']), 'productIds');
    assert.equal(nearestKey('costmodel', Object.keys(programme.campaignFields.shape)), 'costModel');
    assert.equal(nearestKey('expiresIn', ['email', 'password', 'expiresInHours']), 'expiresInHours');
    assert.equal(nearestKey('zzUnknownKey', payout), null);
    assert.equal(nearestKey('q', ['id', 'type']), null);
  });

  test('unknown keys are named by their dotted path, inside objects and arrays, with suggestions', () => {
    const result = programme.payoutCreate.safeParse({
      kind: 'general',
      title: 'T',
      type: 'CPS',
      affiliateCommission: { value: 1, unit: 'fixed', curency: 'EUR' },
      goal: { productId: ['a'] },
      tiers: [
        { value: 1, unit: 'fixed' },
        { value: 2, unit: 'fixed', tier: 3 },
      ],
      costmodel: 'x',
    });
    assert.equal(result.success, false);
    const details = fieldErrors(result.error!, programme.payoutCreate);
    assert.deepEqual(details.map((d) => d.field).sort(), [
      'affiliateCommission.curency',
      'costmodel',
      'goal.productId',
      'tiers.1.tier',
    ]);
    assert.equal(details.find((d) => d.field === 'goal.productId')!.message, 'unknown field; did you mean productIds?');
    assert.equal(details.find((d) => d.field === 'tiers.1.tier')!.message, 'unknown field');
  });

  test('unknownKeys reports only unknown keys; withoutKeys drops them from a copy', () => {
    const body = { orderId: 'A', totalCost: 'not a number', colour: 'red', items: [{ productId: 'p', size: 'M' }] };
    const unknown = unknownKeys(saleBodyFields, body);
    assert.deepEqual(
      unknown.map((k) => k.field),
      ['items.0.size', 'colour'],
    );
    const cleaned = withoutKeys(
      body,
      unknown.map((k) => k.path),
    );
    assert.deepEqual(cleaned, { orderId: 'A', totalCost: 'not a number', items: [{ productId: 'p' }] });
    assert.equal(body.colour, 'red', 'the input is left as it was');
  });
});
