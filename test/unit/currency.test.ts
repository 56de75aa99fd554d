import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rateToBase } from '../../server/domain/currency.js';
import { multiplyByRate, toUnits, type Units } from '../../server/domain/money.js';

const settings = { baseCurrency: 'USD', exchangeRates: { EUR: 1.085, JPY: 0.0067, GBP: 1.27 } };

describe('rateToBase', () => {
  test('the base currency converts at 1 (10,000 units) without a rate of its own', () => {
    assert.equal(rateToBase('USD', settings), 10_000);
    assert.equal(rateToBase('USD', { baseCurrency: 'USD', exchangeRates: {} }), 10_000);
  });

  test('the base currency converts at 1 even when a rate for it is also listed', () => {
    assert.equal(rateToBase('USD', { baseCurrency: 'USD', exchangeRates: { USD: 2 } }), 10_000);
  });

  test('another currency converts with its rate, in units', () => {
    assert.equal(rateToBase('EUR', settings), 10_850);
    assert.equal(rateToBase('JPY', settings), 67);
    assert.equal(multiplyByRate(toUnits('120.50'), rateToBase('EUR', settings) as Units), toUnits('130.7425'));
  });

  test('a currency without a rate has none (null): each caller decides what that means', () => {
    assert.equal(rateToBase('CHF', settings), null);
    assert.equal(rateToBase('CHF', { baseCurrency: 'USD', exchangeRates: {} }), null);
  });

  test('codes are compared as given: a lowercase code is unknown', () => {
    assert.equal(rateToBase('eur', settings), null);
    assert.equal(rateToBase('usd', settings), null);
  });

  test('a tiny rate rounds half-up to 4 places', () => {
    assert.equal(rateToBase('XAA', { baseCurrency: 'USD', exchangeRates: { XAA: 0.00005 } }), 1);
    assert.equal(rateToBase('XAA', { baseCurrency: 'USD', exchangeRates: { XAA: 0.00004 } }), 0);
  });
});
