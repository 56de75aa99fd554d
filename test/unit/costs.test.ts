import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { clickCost, conversionCost, withTrafficLoss, type ClickCostInput } from '../../server/domain/costs.js';
import { toUnits, unitsToFixed, ZERO } from '../../server/domain/money.js';

const base: ClickCostInput = {
  model: 'CPC',
  value: toUnits('0.10'),
  auto: true,
  paramCost: null,
  uniqueInCampaign: true,
  trafficLoss: ZERO,
};
const cost = (over: Partial<ClickCostInput>) => clickCost({ ...base, ...over });

describe('click cost by model', () => {
  test('CPC: the value on every click, unique or not', () => {
    assert.equal(cost({ model: 'CPC', value: toUnits('0.10') }), toUnits('0.10'));
    assert.equal(cost({ model: 'CPC', value: toUnits('0.10'), uniqueInCampaign: false }), toUnits('0.10'));
  });

  test('CPUC: the value only on campaign-unique clicks', () => {
    assert.equal(cost({ model: 'CPUC', value: toUnits('0.05'), uniqueInCampaign: true }), toUnits('0.05'));
    assert.equal(cost({ model: 'CPUC', value: toUnits('0.05'), uniqueInCampaign: false }), 0);
  });

  test('CPM: value / 1000 per click (2.00 → 0.0020)', () => {
    const c = cost({ model: 'CPM', value: toUnits('2.00') });
    assert.equal(c, toUnits('0.0020'));
    assert.equal(unitsToFixed(c), '0.0020');
    assert.equal(cost({ model: 'CPM', value: toUnits('15') }), toUnits('0.015'));
    assert.equal(cost({ model: 'CPM', value: toUnits('2.00'), uniqueInCampaign: false }), toUnits('0.0020'));
  });

  test('CPA, CPS and REVSHARE cost nothing at the click', () => {
    for (const model of ['CPA', 'CPS', 'REVSHARE'] as const) {
      assert.equal(cost({ model, value: toUnits('5') }), 0, model);
      assert.equal(cost({ model, value: toUnits('5'), trafficLoss: toUnits('20') }), 0, `${model} with traffic loss`);
    }
  });

  test('costAuto off: the cost parameter, whatever the model says', () => {
    assert.equal(cost({ auto: false, paramCost: toUnits('0.37') }), toUnits('0.37'));
    assert.equal(cost({ auto: false, model: 'CPM', value: toUnits('2'), paramCost: toUnits('0.37') }), toUnits('0.37'));
    assert.equal(
      cost({ auto: false, model: 'CPUC', uniqueInCampaign: false, paramCost: toUnits('0.37') }),
      toUnits('0.37'),
    );
    assert.equal(cost({ auto: false, paramCost: null }), 0, 'no cost parameter → 0, not the campaign value');
    assert.equal(cost({ auto: false, paramCost: toUnits('0.10'), trafficLoss: toUnits('20') }), toUnits('0.125'));
  });
});

describe('traffic loss: cost / (1 − loss / 100)', () => {
  test("the seed's formula: 0.10 CPC with 20% loss = 0.125", () => {
    assert.equal(cost({ model: 'CPC', value: toUnits('0.10'), trafficLoss: toUnits('20') }), toUnits('0.125'));
    assert.equal(withTrafficLoss(toUnits('0.10'), toUnits('20')), toUnits('0.125'));
    assert.equal(withTrafficLoss(toUnits('1'), toUnits('50')), toUnits('2'));
    assert.equal(
      withTrafficLoss(toUnits('1'), toUnits('12.5')),
      toUnits('1.1429'),
      '1 / 0.875, rounded half-up to 4 places',
    );
  });

  test('applies to CPUC (unique) and CPM', () => {
    assert.equal(cost({ model: 'CPUC', value: toUnits('0.10'), trafficLoss: toUnits('20') }), toUnits('0.125'));
    assert.equal(
      cost({ model: 'CPUC', value: toUnits('0.10'), uniqueInCampaign: false, trafficLoss: toUnits('20') }),
      0,
    );
    assert.equal(cost({ model: 'CPM', value: toUnits('2.00'), trafficLoss: toUnits('20') }), toUnits('0.0025'));
  });

  test('a loss of 0, below 0 or 100% and more is ignored', () => {
    assert.equal(withTrafficLoss(toUnits('0.10'), ZERO), toUnits('0.10'));
    assert.equal(withTrafficLoss(toUnits('0.10'), toUnits('-5')), toUnits('0.10'));
    assert.equal(withTrafficLoss(toUnits('0.10'), toUnits('100')), toUnits('0.10'));
    assert.equal(withTrafficLoss(toUnits('0.10'), toUnits('150')), toUnits('0.10'));
    assert.equal(cost({ trafficLoss: toUnits('100') }), toUnits('0.10'));
    assert.ok(withTrafficLoss(toUnits('0.10'), toUnits('99.99')) > toUnits('0.10'));
  });
});

describe('conversionCost', () => {
  const revenue = toUnits('1');
  test('CPA: the value on any conversion status', () => {
    for (const status of ['lead', 'sale', 'rejected', 'trash', 'anything']) {
      assert.equal(conversionCost('CPA', toUnits('3.50'), status, revenue, ZERO), toUnits('3.50'), status);
    }
  });

  test('CPS: the value only on a sale', () => {
    assert.equal(conversionCost('CPS', toUnits('3.50'), 'sale', revenue, ZERO), toUnits('3.50'));
    assert.equal(conversionCost('CPS', toUnits('3.50'), 'lead', revenue, ZERO), 0);
    assert.equal(conversionCost('CPS', toUnits('3.50'), 'rejected', revenue, ZERO), 0);
  });

  test("REVSHARE: 20% of $1 = $0.20 (the seed's example)", () => {
    assert.equal(conversionCost('REVSHARE', toUnits('20'), 'sale', toUnits('1'), ZERO), toUnits('0.2'));
    assert.equal(
      conversionCost('REVSHARE', toUnits('20'), 'lead', toUnits('1'), ZERO),
      toUnits('0.2'),
      'any status with revenue',
    );
    assert.equal(conversionCost('REVSHARE', toUnits('12.5'), 'sale', toUnits('80'), ZERO), toUnits('10'));
    assert.equal(conversionCost('REVSHARE', toUnits('20'), 'sale', ZERO, ZERO), 0);
  });

  test('with traffic loss', () => {
    assert.equal(conversionCost('REVSHARE', toUnits('20'), 'sale', toUnits('1'), toUnits('20')), toUnits('0.25'));
    assert.equal(conversionCost('CPA', toUnits('2'), 'lead', revenue, toUnits('20')), toUnits('2.5'));
    assert.equal(conversionCost('CPS', toUnits('2'), 'sale', revenue, toUnits('50')), toUnits('4'));
    assert.equal(conversionCost('CPS', toUnits('2'), 'lead', revenue, toUnits('50')), 0);
  });

  test('click models cost nothing at conversion (already paid at the click)', () => {
    for (const model of ['CPC', 'CPUC', 'CPM'] as const) {
      assert.equal(conversionCost(model, toUnits('0.10'), 'sale', revenue, toUnits('20')), 0, model);
    }
  });
});
