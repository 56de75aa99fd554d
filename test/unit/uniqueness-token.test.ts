import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { signHs256Token } from '../../server/services/campaign-runner.js';

const key = createSecretKey(Buffer.from('unit-secret-0123456789abcdef0123456789'));

test('the uniqueness cookie is byte for byte the token jsonwebtoken signs, and verifies', () => {
  for (const [visitorId, now] of [
    ['v-0123456789abcdef', 1_700_000_000],
    ['mk3x9q2abcdefghij', 1_800_000_123],
    ['a"b\\c\u00e9', 1],
  ] as const) {
    const expected = jwt.sign({ v: visitorId, iat: now }, key, {
      algorithm: 'HS256',
      issuer: 'affix-uniq',
      expiresIn: '365d',
    });
    assert.equal(signHs256Token(visitorId, key, now), expected);
  }
  const now = Math.floor(Date.now() / 1000);
  const token = signHs256Token('v-live', key, now);
  const payload = jwt.verify(token, key, { algorithms: ['HS256'], issuer: 'affix-uniq' }) as Record<string, unknown>;
  assert.deepEqual(payload, { v: 'v-live', iat: now, exp: now + 365 * 86_400, iss: 'affix-uniq' });
  assert.throws(() => jwt.verify(`${token.slice(0, -2)}xx`, key, { algorithms: ['HS256'] }));
});
