import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  clickMacros,
  fillMacros,
  macroAmount,
  macroInAuthority,
  type ClickMacroFacts,
} from '../../server/domain/macros.js';
import { asUnits } from '../../server/domain/money.js';

describe('fillMacros', () => {
  test('replaces known macros with URL-encoded values', () => {
    assert.equal(
      fillMacros('https://offer.example/?s={subid}&c={campaign_id}&z={sub_id_1}', {
        subid: 'abc',
        campaign_id: 12,
        sub_id_1: 'zone 5&x=1',
      }),
      'https://offer.example/?s=abc&c=12&z=zone%205%26x%3D1',
    );
    assert.equal(fillMacros('{a}{a}', { a: 'é/?' }), '%C3%A9%2F%3F%C3%A9%2F%3F', 'every occurrence');
  });

  test('a macro in the scheme or host stays as written: a value cannot choose where the URL goes', () => {
    const evil = { sub_id_1: '.evil.example', host: 'evil.example', subid: 'abc' };
    assert.equal(
      fillMacros('https://offer.example{sub_id_1}/?s={subid}', evil),
      'https://offer.example{sub_id_1}/?s=abc',
    );
    assert.equal(fillMacros('https://{host}/x?s={subid}', evil), 'https://{host}/x?s=abc');
    assert.equal(
      fillMacros('https://u{subid}@offer.example:80{subid}', evil),
      'https://u{subid}@offer.example:80{subid}',
    );
    assert.equal(fillMacros('{subid}://offer.example/{subid}', evil), '{subid}://offer.example/abc');
    for (const url of [
      'https://offer.example/{sub_id_1}',
      'https://offer.example?z={sub_id_1}',
      'https://offer.example#{sub_id_1}',
    ])
      assert.equal(new URL(fillMacros(url, evil)).host, 'offer.example', url);
    assert.equal(macroInAuthority('https://offer.example{sub_id_1}/'), true);
    assert.equal(macroInAuthority('https://{HOST}.example/'), true);
    assert.equal(macroInAuthority('https://offer.example/{sub_id_1}?a={b}#{c}'), false);
  });

  test('macro names are matched case-insensitively', () => {
    assert.equal(fillMacros('?s={SUBID}&c={Campaign_Id}', { subid: 'abc', campaign_id: 3 }), '?s=abc&c=3');
  });

  test('unknown macros stay as written', () => {
    assert.equal(fillMacros('?x={unknown}&s={subid}', { subid: 'abc' }), '?x={unknown}&s=abc');
    assert.equal(
      fillMacros('?a={constructor}&b={__proto__}&c={toString}', {}),
      '?a={constructor}&b={__proto__}&c={toString}',
    );
    assert.equal(fillMacros('{not a macro} {sub-id} {}', { subid: 'x' }), '{not a macro} {sub-id} {}');
    assert.equal(fillMacros('{{subid}}', { subid: 'x' }), '{x}');
  });

  test('null becomes empty; 0 is kept', () => {
    assert.equal(fillMacros('?a={affiliate_id}&f={flow_id}', { affiliate_id: null, flow_id: 0 }), '?a=&f=0');
  });

  test('amounts print with up to 4 decimals and no trailing zeros (SPEC §14)', () => {
    const url = fillMacros('?a={a}&b={b}&c={c}&d={d}&e={e}', {
      a: macroAmount(asUnits(123_450)),
      b: macroAmount(asUnits(100_000)),
      c: macroAmount(asUnits(12_345)),
      d: macroAmount(asUnits(1)),
      e: macroAmount(asUnits(0)),
    });
    assert.equal(url, '?a=12.345&b=10&c=1.2345&d=0.0001&e=0');
  });

  test('no macros → unchanged', () => {
    assert.equal(fillMacros('https://offer.example/path?q=1', { subid: 'x' }), 'https://offer.example/path?q=1');
  });
});

describe('clickMacros', () => {
  const facts: ClickMacroFacts = {
    subid: 'sub-123',
    campaignId: 7,
    flowId: 3,
    affiliateId: null,
    source: 'PropellerAds',
    cost: asUnits(500),
    country: 'DE',
    ip: '203.0.113.7',
    externalId: 'ext-9',
    subIds: { sub_id_1: 'zone42', sub_id_15: 'last', sub_id_16: 'ignored' },
  };

  test('fills every macro of SPEC §7.2', () => {
    const m = clickMacros(facts);
    assert.equal(m.subid, 'sub-123');
    assert.equal(m.campaign_id, 7);
    assert.equal(m.flow_id, 3);
    assert.equal(m.affiliate_id, null);
    assert.equal(m.source, 'PropellerAds');
    assert.deepEqual(m.cost, { units: 500 });
    assert.equal(m.country, 'DE');
    assert.equal(m.ip, '203.0.113.7');
    assert.equal(m.external_id, 'ext-9');
  });

  test('sub_id_1..sub_id_15, missing ones empty', () => {
    const m = clickMacros(facts);
    for (let n = 1; n <= 15; n++) assert.ok(`sub_id_${n}` in m, `sub_id_${n}`);
    assert.equal(m.sub_id_1, 'zone42');
    assert.equal(m.sub_id_15, 'last');
    assert.equal(m.sub_id_2, null);
    assert.equal('sub_id_16' in m, false);
  });

  test('end to end: an offer URL a media buyer would write', () => {
    const url = fillMacros(
      'https://offer.example/?click={subid}&cmp={campaign_id}&flow={flow_id}&aff={affiliate_id}&z={sub_id_1}&s2={sub_id_2}&src={source}&cost={cost}&geo={country}&ip={ip}&keep={clickid}',
      clickMacros(facts),
    );
    assert.equal(
      url,
      'https://offer.example/?click=sub-123&cmp=7&flow=3&aff=&z=zone42&s2=&src=PropellerAds&cost=0.05&geo=DE&ip=203.0.113.7&keep={clickid}',
    );
  });
});

describe('keitaroMacros (SPEC §14)', () => {
  test('fills the Keitaro macros; positions from 1; {random} drawn only when named', async () => {
    const { keitaroMacros } = await import('../../server/domain/macros.js');
    let draws = 0;
    const values = keitaroMacros({
      campaignName: 'Spring',
      os: 'Android',
      landingIndex: 0,
      offerIndex: null,
      date: '2026-12-02',
      random: () => {
        draws++;
        return 0.5;
      },
    });
    assert.equal(
      fillMacros('{campaign_name}|{os}|{landing_id}|{offer_id}|{date}|{browser}', values),
      'Spring|Android|1||2026-12-02|',
    );
    assert.equal(draws, 0, 'no {random} in the template');
    assert.equal(fillMacros('r={random}&r2={random}', values), 'r=500000000&r2=500000000');
    assert.equal(draws, 2);
  });
});
