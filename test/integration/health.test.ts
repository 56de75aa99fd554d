import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { request } from '../helpers/http.js';

describe('health and unknown routes', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app.close();
  });

  test('GET /healthz answers 200 { status: "ok" } without signing in', async () => {
    const res = await request(app.url, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  test('an unknown route is a 404 in the JSON error shape', async () => {
    for (const path of ['/no-such-page', '/api/v1/no-such-collection', '/healthz/extra']) {
      const res = await request(app.url, 'GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, 'not_found', path);
      assert.equal(typeof res.body.error.message, 'string', path);
      assert.ok(res.body.error.message.length > 0, path);
    }
  });

  test('an unknown API route is JSON even for a browser', async () => {
    const res = await request(app.url, 'GET', '/api/v1/nothing-here', { headers: { accept: 'text/html' } });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
  });
});
