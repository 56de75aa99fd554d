import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { deviceKey, isUniqueVisit, scopes } from '../../server/domain/uniqueness.js';

const IP = '203.0.113.7';
const UA = 'Mozilla/5.0 (Linux; Android 14) Chrome/126.0';
const HOUR = 3_600_000;

describe('deviceKey', () => {
  test('cookie mode uses the cookie id when there is one', () => {
    const a = deviceKey('cookie', 'abc123', IP, UA);
    assert.equal(
      a,
      deviceKey('cookie', 'abc123', '198.51.100.1', 'Other UA'),
      'same cookie → same device on another IP/UA',
    );
    assert.notEqual(a, deviceKey('cookie', 'def456', IP, UA), 'another cookie → another device');
    assert.notEqual(a, deviceKey('ip_ua', null, IP, UA));
  });

  test('cookie mode without a cookie falls back to IP + user agent (the ip_ua key)', () => {
    assert.equal(deviceKey('cookie', null, IP, UA), deviceKey('ip_ua', null, IP, UA));
    assert.equal(deviceKey('cookie', '', IP, UA), deviceKey('ip_ua', null, IP, UA));
    assert.notEqual(deviceKey('cookie', null, IP, UA), deviceKey('cookie', null, IP, 'Other UA'));
  });

  test('ip_ua mode distinguishes the user agent and the IP; ignores any cookie', () => {
    const k = deviceKey('ip_ua', null, IP, UA);
    assert.equal(k, deviceKey('ip_ua', null, IP, UA), 'stable');
    assert.equal(k, deviceKey('ip_ua', 'some-cookie', IP, UA));
    assert.notEqual(k, deviceKey('ip_ua', null, IP, 'Other UA'));
    assert.notEqual(k, deviceKey('ip_ua', null, '203.0.113.8', UA));
  });

  test('ip mode ignores the user agent (and any cookie)', () => {
    const k = deviceKey('ip', null, IP, UA);
    assert.equal(k, deviceKey('ip', null, IP, 'Other UA'));
    assert.equal(k, deviceKey('ip', null, IP, ''));
    assert.equal(k, deviceKey('ip', 'some-cookie', IP, UA));
    assert.notEqual(k, deviceKey('ip', null, '203.0.113.8', UA));
    assert.notEqual(k, deviceKey('ip_ua', null, IP, UA), 'ip and ip_ua keys never collide');
  });

  test('keys stay short enough to store (≤ 64 characters)', () => {
    assert.ok(deviceKey('cookie', 'x'.repeat(500), IP, UA).length <= 64);
    assert.ok(deviceKey('ip_ua', null, IP, 'u'.repeat(5000)).length <= 64);
  });
});

describe('isUniqueVisit', () => {
  const now = Date.parse('2025-01-15T12:00:00Z');
  test('never seen → unique', () => {
    assert.equal(isUniqueVisit(null, now, 24), true);
  });
  test('seen exactly TTL ago → unique again', () => {
    assert.equal(isUniqueVisit(now - 24 * HOUR, now, 24), true);
    assert.equal(isUniqueVisit(now - 25 * HOUR, now, 24), true);
  });
  test('seen just under TTL ago → not unique', () => {
    assert.equal(isUniqueVisit(now - 24 * HOUR + 1, now, 24), false);
    assert.equal(isUniqueVisit(now - HOUR, now, 24), false);
    assert.equal(isUniqueVisit(now, now, 24), false);
  });
  test('the TTL is in hours', () => {
    assert.equal(isUniqueVisit(now - HOUR, now, 1), true);
    assert.equal(isUniqueVisit(now - HOUR + 1000, now, 1), false);
  });
});

describe('scopes', () => {
  test('campaign, flow and global scope names', () => {
    assert.deepEqual(scopes(12, 34), { campaign: 'c12', flow: 'f34', global: 'g' });
    assert.deepEqual(scopes(12, null), { campaign: 'c12', flow: null, global: 'g' });
    const a = scopes(1, 1);
    assert.equal(new Set([a.campaign, a.flow, a.global]).size, 3, 'campaign 1 and flow 1 are different scopes');
    assert.equal(scopes(1, 2).global, scopes(3, 4).global, 'global is shared by all campaigns');
  });
});
