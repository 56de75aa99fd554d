import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { sign, verifySignature, SIGNATURE_TOLERANCE_SECONDS } from '../../server/services/signature.js';

const SECRET = 'campaign-secret-123';
const OTHER = 'another-campaign-secret';
const BODY = JSON.stringify({ orderId: 'A-1001', totalCost: 120.5, currency: 'EUR' });
const NOW_MS = Date.UTC(2026, 10, 21, 12, 0, 0);
const NOW = Math.floor(NOW_MS / 1000);

describe('X-Affix-Signature (SPEC §4.2)', () => {
  test('the header format: t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>', () => {
    const header = sign(SECRET, BODY, NOW);
    const mac = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    assert.equal(header, `t=${NOW},v1=${mac}`);
  });

  test('sign / verify round trip, naming the matching secret', () => {
    const header = sign(SECRET, BODY, NOW);
    const check = verifySignature(header, BODY, [OTHER, SECRET], NOW_MS);
    assert.deepEqual(check, { ok: true, secret: SECRET, index: 1, mac: header.split('v1=')[1] });
    // Within the tolerance on both sides.
    assert.equal(verifySignature(sign(SECRET, BODY, NOW - 299), BODY, [SECRET], NOW_MS).ok, true);
    assert.equal(verifySignature(sign(SECRET, BODY, NOW + 299), BODY, [SECRET], NOW_MS).ok, true);
    // Spaces after the comma are tolerated.
    const spaced = sign(SECRET, BODY, NOW).replace(',', ', ');
    assert.equal(verifySignature(spaced, BODY, [SECRET], NOW_MS).ok, true);
    // An empty body signs too.
    assert.equal(verifySignature(sign(SECRET, '', NOW), '', [SECRET], NOW_MS).ok, true);
  });

  test('a wrong secret fails', () => {
    const check = verifySignature(sign(OTHER, BODY, NOW), BODY, [SECRET], NOW_MS);
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.reason, /does not match/);
    assert.equal(verifySignature(sign(SECRET, BODY, NOW), BODY, [], NOW_MS).ok, false);
  });

  test('a tampered body fails', () => {
    const header = sign(SECRET, BODY, NOW);
    for (const body of [BODY.replace('120.5', '1205'), BODY + ' ', JSON.stringify(JSON.parse(BODY), null, 2), '']) {
      assert.equal(verifySignature(header, body, [SECRET], NOW_MS).ok, false, body);
    }
  });

  test('a tampered timestamp fails even within the tolerance', () => {
    const header = sign(SECRET, BODY, NOW).replace(`t=${NOW}`, `t=${NOW - 1}`);
    assert.equal(verifySignature(header, BODY, [SECRET], NOW_MS).ok, false);
  });

  test('a timestamp more than 5 minutes away fails', () => {
    assert.equal(SIGNATURE_TOLERANCE_SECONDS, 300);
    for (const t of [NOW - 301, NOW - 3600, NOW + 301, 0]) {
      const check = verifySignature(sign(SECRET, BODY, t), BODY, [SECRET], NOW_MS);
      assert.equal(check.ok, false, String(t));
      assert.match(check.ok ? '' : check.reason, /5 minutes/);
    }
  });

  test('a malformed header fails with the expected format in the reason', () => {
    const mac = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    for (const header of [
      '',
      'garbage',
      mac,
      `v1=${mac}`,
      `t=${NOW}`,
      `t=${NOW},v1=`,
      `t=${NOW},v1=xyz`,
      `t=${NOW},v1=${mac.slice(0, 40)}`,
      `t=abc,v1=${mac}`,
      `t=-${NOW},v1=${mac}`,
      `t=${NOW}.5,v1=${mac}`,
      `t=1e9,v1=${mac}`,
      `=${NOW},=${mac}`,
    ]) {
      const check = verifySignature(header, BODY, [SECRET], NOW_MS);
      assert.equal(check.ok, false, header);
      assert.match(check.ok ? '' : check.reason, /t=<unix seconds>,v1=/, header);
    }
  });

  test('one of several v1 values may match (key rotation)', () => {
    const good = sign(SECRET, BODY, NOW);
    const badMac = createHmac('sha256', OTHER).update(`${NOW}.${BODY}`).digest('hex');
    const header = `${good},v1=${badMac}`;
    assert.equal(verifySignature(header, BODY, [SECRET], NOW_MS).ok, true);
    assert.equal(verifySignature(`t=${NOW},v1=${badMac},${good.split(',')[1]}`, BODY, [SECRET], NOW_MS).ok, true);
  });
});
