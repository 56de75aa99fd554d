import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultSettings,
  duplicateUrlParam,
  mergeSettings,
  settingsPatchSchema,
  settingsSchema,
  type SettingsPatch,
} from '../../server/domain/settings.js';

const KEY = 'postback_key_0123456789';

/** The dotted paths of the fields a patch is refused for, once each ([] when it is accepted). */
function badFields(patch: unknown): string[] {
  const r = settingsPatchSchema.safeParse(patch);
  return r.success ? [] : [...new Set(r.error.issues.map((i) => i.path.map(String).join('.')))];
}

describe('defaultSettings', () => {
  test('matches SPEC §2 and passes its own schema', () => {
    const d = defaultSettings(KEY);
    assert.deepEqual(d.urlParams, {
      affiliate: 'a_aid',
      banner: 'a_bid',
      campaign: 'a_cid',
      channel: 'chan',
      data1: 'data1',
      data2: 'data2',
    });
    assert.equal(d.cookieDays, 60);
    assert.equal(d.overwriteCookie, false);
    assert.equal(d.gdprMode, false);
    assert.equal(d.baseCurrency, 'USD');
    assert.deepEqual(d.exchangeRates, {});
    assert.equal(d.timezone, 'UTC');
    assert.equal(d.defaultApproval, 'manual');
    assert.equal(d.siteUrl, null);
    assert.equal(d.postbackKey, KEY);
    assert.equal(d.affiliateSignup, 'approval');
    assert.deepEqual(settingsSchema.parse(d), d);
    assert.equal(duplicateUrlParam(d.urlParams), null);
  });

  test('each call returns a fresh object', () => {
    const a = defaultSettings(KEY);
    a.urlParams.affiliate = 'ref';
    a.fraud.blockedIps.push('10.0.0.1');
    const b = defaultSettings(KEY);
    assert.equal(b.urlParams.affiliate, 'a_aid');
    assert.deepEqual(b.fraud.blockedIps, []);
  });
});

describe('mergeSettings', () => {
  test('a nested urlParams patch keeps the other parameter names', () => {
    const current = defaultSettings(KEY);
    const next = mergeSettings(current, settingsPatchSchema.parse({ urlParams: { affiliate: 'ref' } }));
    assert.deepEqual(next.urlParams, { ...current.urlParams, affiliate: 'ref' });
    assert.equal(current.urlParams.affiliate, 'a_aid', 'the current settings are not mutated');
  });

  test('a nested fraud patch keeps the other fraud settings', () => {
    const current = defaultSettings(KEY);
    const next = mergeSettings(current, settingsPatchSchema.parse({ fraud: { bots: false } }));
    assert.equal(next.fraud.bots, false);
    assert.deepEqual({ ...next.fraud, bots: true }, current.fraud);
  });

  test('top-level fields are replaced; exchangeRates is replaced whole', () => {
    const current = { ...defaultSettings(KEY), exchangeRates: { EUR: 1.08, GBP: 1.27 } };
    const next = mergeSettings(current, settingsPatchSchema.parse({ cookieDays: 30, exchangeRates: { CAD: 0.73 } }));
    assert.equal(next.cookieDays, 30);
    assert.deepEqual(next.exchangeRates, { CAD: 0.73 });
    assert.equal(next.timezone, 'UTC');
    assert.equal(next.postbackKey, KEY);
  });

  test('an empty patch changes nothing', () => {
    const current = defaultSettings(KEY);
    assert.deepEqual(mergeSettings(current, {} as SettingsPatch), current);
  });
});

describe('settings schema', () => {
  test('accepts valid values and normalises currency codes', () => {
    assert.deepEqual(badFields({ timezone: 'Europe/Berlin', cookieDays: 0, siteUrl: 'https://shop.example.com' }), []);
    const parsed = settingsPatchSchema.parse({ baseCurrency: 'eur', exchangeRates: { usd: 0.92 } });
    assert.equal(parsed.baseCurrency, 'EUR');
    assert.deepEqual(parsed.exchangeRates, { USD: 0.92 });
  });

  test('a time zone that is not IANA is refused', () => {
    assert.deepEqual(badFields({ timezone: 'Mars/Olympus_Mons' }), ['timezone']);
    assert.deepEqual(badFields({ timezone: 'not a zone' }), ['timezone']);
    assert.deepEqual(badFields({ timezone: '' }), ['timezone']);
    assert.deepEqual(badFields({ timezone: 'America/New_York' }), []);
  });

  test('an exchange rate must be a positive number', () => {
    assert.deepEqual(badFields({ exchangeRates: { EUR: 0 } }), ['exchangeRates.EUR']);
    assert.deepEqual(badFields({ exchangeRates: { EUR: -1.08 } }), ['exchangeRates.EUR']);
    assert.deepEqual(badFields({ exchangeRates: { EUR: '1.08' } }), ['exchangeRates.EUR']);
    assert.deepEqual(badFields({ exchangeRates: { EURO: 1 } }), ['exchangeRates.EURO']);
    assert.deepEqual(badFields({ exchangeRates: { EUR: 1.08 } }), []);
    assert.deepEqual(badFields({ exchangeRates: [1] }), ['exchangeRates']);
  });

  test('parameter names must be identifiers', () => {
    assert.deepEqual(badFields({ urlParams: { banner: '1bid' } }), ['urlParams.banner']);
    assert.deepEqual(badFields({ urlParams: { banner: 'a bid' } }), ['urlParams.banner']);
    assert.deepEqual(badFields({ urlParams: { campaign: '' } }), ['urlParams.campaign']);
    assert.deepEqual(badFields({ urlParams: { channel: 'x'.repeat(33) } }), ['urlParams.channel']);
    assert.deepEqual(badFields({ urlParams: { affiliate: { $ne: null } } }), ['urlParams.affiliate']);
  });

  test('other fields refuse wrong types and unknown enum values', () => {
    assert.deepEqual(badFields({ cookieDays: -1 }), ['cookieDays']);
    assert.deepEqual(badFields({ cookieDays: 1.5 }), ['cookieDays']);
    assert.deepEqual(badFields({ cookieDays: '60' }), ['cookieDays']);
    assert.deepEqual(badFields({ overwriteCookie: 'yes' }), ['overwriteCookie']);
    assert.deepEqual(badFields({ defaultApproval: 'maybe' }), ['defaultApproval']);
    assert.deepEqual(badFields({ affiliateSignup: 'invite' }), ['affiliateSignup']);
    assert.deepEqual(badFields({ baseCurrency: 'DOLLAR' }), ['baseCurrency']);
    assert.deepEqual(badFields({ siteUrl: 'javascript:alert(1)' }), ['siteUrl']);
    assert.deepEqual(badFields({ postbackKey: 'short' }), ['postbackKey']);
  });
});

describe('duplicateUrlParam', () => {
  test('names the later parameter that repeats an earlier name, ignoring case', () => {
    const d = defaultSettings(KEY).urlParams;
    assert.equal(duplicateUrlParam({ ...d, banner: 'a_aid' }), 'urlParams.banner');
    assert.equal(duplicateUrlParam({ ...d, data2: 'DATA1' }), 'urlParams.data2');
    assert.equal(duplicateUrlParam({ ...d, channel: 'A_CID' }), 'urlParams.channel');
    assert.equal(duplicateUrlParam({ ...d, affiliate: 'ref', banner: 'bid' }), null);
  });

  test('blames the parameter that was just changed when it takes part in the clash', () => {
    const d = defaultSettings(KEY).urlParams;
    assert.equal(duplicateUrlParam({ ...d, affiliate: 'a_bid' }, ['affiliate']), 'urlParams.affiliate');
    assert.equal(duplicateUrlParam({ ...d, data2: 'chan' }, ['data2']), 'urlParams.data2');
    assert.equal(
      duplicateUrlParam({ ...d, affiliate: 'a_bid' }, ['data1']),
      'urlParams.banner',
      'an unrelated change blames the later one',
    );
    assert.equal(duplicateUrlParam({ ...d, affiliate: 'ref' }, ['affiliate']), null);
  });
});
