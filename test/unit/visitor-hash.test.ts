import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { VISITOR_HASH_LENGTH, deviceKey, visitorHash } from '../../server/domain/uniqueness.js';

const IP = '203.0.113.7';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Test';

// These strings are stored (visitor ids, impression keys, uniqueness marks): they must never change.
describe('visitorHash', () => {
  test('the lengths per use are 22, 32 and 43 characters', () => {
    assert.deepEqual(VISITOR_HASH_LENGTH, { visitorId: 22, impressionKey: 32, deviceKey: 43 });
  });

  test('a GDPR-mode visitor id: 22 characters of the IP|UA hash', () => {
    const id = visitorHash([IP, UA], VISITOR_HASH_LENGTH.visitorId);
    assert.equal(id, 'SEvgeSQN2j6ti_yG9sdWdy');
    assert.equal(id.length, 22);
  });

  test('an impression visitor key: 32 characters of the same hash', () => {
    const key = visitorHash([IP, UA], VISITOR_HASH_LENGTH.impressionKey);
    assert.equal(key, 'SEvgeSQN2j6ti_yG9sdWdyrjjj2IDX_M');
    assert.equal(key.length, 32);
    assert.ok(key.startsWith(visitorHash([IP, UA], VISITOR_HASH_LENGTH.visitorId)));
  });

  test('a missing user agent hashes as an empty one', () => {
    assert.equal(visitorHash([IP, ''], 22), 'EDSbvJn10hA6e7apBdVWFi');
  });

  test('43 characters is the whole base64url digest', () => {
    assert.equal(visitorHash([IP, UA], 64).length, 43);
  });
});

describe('deviceKey', () => {
  test('ip_ua: 43 characters of the hash of "ipua|IP|UA"', () => {
    assert.equal(deviceKey('ip_ua', null, IP, UA), 'WU8kBy2LHza-27jPTVu7tqgey99__UavYSsl8vyNg8U');
    assert.equal(deviceKey('ip_ua', null, IP, UA), visitorHash(['ipua', IP, UA], VISITOR_HASH_LENGTH.deviceKey));
  });

  test('ip: 43 characters of the hash of "ip|IP"', () => {
    assert.equal(deviceKey('ip', null, IP, UA), 'sdbkAZnQGrdcfqdkS6oCePmoCrSOfbp-NZQ4I88slPU');
  });

  test('cookie: the cookie id, not a hash', () => {
    assert.equal(deviceKey('cookie', 'abc', IP, UA), 'c:abc');
  });
});
