import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError, assertPage, ids } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

describe('/api/v1/banners', () => {
  let app: TestApp;
  let a: Api;
  let campaignA: number;
  let campaignB: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    campaignA = (await a.post('/campaigns', { name: 'Campaign A' })).body.id;
    campaignB = (await a.post('/campaigns', { name: 'Campaign B' })).body.id;
  });
  after(async () => {
    await app.close();
  });

  test('the list starts empty', async () => {
    assertPage(await a.get('/banners'), { page: 1, perPage: 50, total: 0 });
  });

  test('create → 201 with the object, read, PATCH, DELETE → 204 then 404', async () => {
    const created = await a.post('/banners', {
      campaignId: campaignA,
      name: 'Header link',
      destinationUrl: 'https://shop.example/landing',
    });
    assert.equal(created.status, 201, created.text);
    const b = created.body;
    assert.equal(typeof b.id, 'number');
    assert.equal(b.campaignId, campaignA);
    assert.equal(b.name, 'Header link');
    assert.equal(b.type, 'link', 'a banner is a text link unless told otherwise');
    assert.equal(b.destinationUrl, 'https://shop.example/landing');
    assert.equal(b.content, null);
    assert.equal(b.archived, false);
    assert.deepEqual((await a.get(`/banners/${b.id}`)).body, b);

    const patched = await a.patch(`/banners/${b.id}`, {
      name: 'Sidebar image',
      type: 'image',
      content: 'https://cdn.shop.example/banner.png',
      campaignId: campaignB,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.name, 'Sidebar image');
    assert.equal(patched.body.type, 'image');
    assert.equal(patched.body.content, 'https://cdn.shop.example/banner.png');
    assert.equal(patched.body.campaignId, campaignB);
    assert.equal(patched.body.destinationUrl, 'https://shop.example/landing');
    assert.deepEqual((await a.get(`/banners/${b.id}`)).body, patched.body);

    assert.equal((await a.delete(`/banners/${b.id}`)).status, 204);
    assertError(await a.get(`/banners/${b.id}`), 404, 'not_found');
    assertError(await a.delete(`/banners/${b.id}`), 404, 'not_found');
  });

  test('unknown ids are 404', async () => {
    assertError(await a.get('/banners/999999'), 404, 'not_found');
    assertError(await a.patch('/banners/999999', { name: 'x' }), 404, 'not_found');
    assertError(await a.delete('/banners/999999'), 404, 'not_found');
  });

  test('HTML content is stored verbatim, as data', async () => {
    const html = '<a href="https://shop.example"><img src="x" onerror="alert(1)"></a>';
    const res = await a.post('/banners', { campaignId: campaignA, name: 'HTML', type: 'html', content: html });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.content, html);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    await a.delete(`/banners/${res.body.id}`);
  });

  describe('list, pagination and filters', () => {
    const made: Record<string, number> = {};
    before(async () => {
      const rows = {
        a1: { campaignId: campaignA, name: 'Alpha link', type: 'link' },
        a2: { campaignId: campaignA, name: 'Alpha image', type: 'image', content: 'https://cdn.example/a.png' },
        b1: { campaignId: campaignB, name: 'Beta html', type: 'html', content: '<b>Buy</b>' },
        b2: { campaignId: campaignB, name: 'Beta old', archived: true },
      };
      for (const [key, body] of Object.entries(rows)) {
        const res = await a.post('/banners', body);
        assert.equal(res.status, 201, res.text);
        made[key] = res.body.id;
      }
    });

    test('pages of one', async () => {
      assertPage(await a.get('/banners'), { page: 1, perPage: 50, total: 4 });
      const seen = new Set<number>();
      for (let page = 1; page <= 4; page++) {
        const res = await a.get(`/banners?perPage=1&page=${page}`);
        assertPage(res, { page, perPage: 1, total: 4 });
        seen.add(res.body.data[0].id);
      }
      assert.equal(seen.size, 4);
    });

    test('each filter narrows the list', async () => {
      assert.deepEqual(ids(await a.get(`/banners?campaignId=${campaignA}`)), [made.a1, made.a2]);
      assert.deepEqual(ids(await a.get(`/banners?campaignId=${campaignB}&archived=false`)), [made.b1]);
      assert.deepEqual(ids(await a.get('/banners?type=image')), [made.a2]);
      assert.deepEqual(ids(await a.get('/banners?type=html')), [made.b1]);
      assert.deepEqual(ids(await a.get('/banners?archived=true')), [made.b2]);
      assert.deepEqual(ids(await a.get('/banners?q=alpha')), [made.a1, made.a2]);
      assert.deepEqual(ids(await a.get('/banners?campaignId=999999')), []);
    });

    test('bad filters are 422', async () => {
      assertFieldError(await a.get('/banners?type=video'), 'type');
      assertFieldError(await a.get('/banners?campaignId=abc'), 'campaignId');
      assertFieldError(await a.get('/banners?archived=2'), 'archived');
    });

    test('deleting a campaign takes its banners with it', async () => {
      const c = await a.post('/campaigns', { name: 'Short-lived' });
      const b = await a.post('/banners', { campaignId: c.body.id, name: 'Doomed' });
      assert.equal((await a.delete(`/campaigns/${c.body.id}`)).status, 204);
      assertError(await a.get(`/banners/${b.body.id}`), 404, 'not_found');
    });
  });

  describe('bad input', () => {
    test('wrong types, unknown enums and object values are 422 naming the field', async () => {
      assertFieldError(await a.post('/banners', { campaignId: campaignA, name: 7 }), 'name');
      assertFieldError(await a.post('/banners', { campaignId: campaignA, name: { $gt: '' } }), 'name');
      assertFieldError(await a.post('/banners', { campaignId: 'one', name: 'x' }), 'campaignId');
      assertFieldError(await a.post('/banners', { campaignId: -1, name: 'x' }), 'campaignId');
      assertFieldError(await a.post('/banners', { name: 'x' }), 'campaignId');
      assertFieldError(await a.post('/banners', { campaignId: campaignA, name: 'x', type: 'video' }), 'type');
      assertFieldError(
        await a.post('/banners', { campaignId: campaignA, name: 'x', content: { html: '<b>' } }),
        'content',
      );
    });

    test('a campaign that does not exist is 422 naming campaignId', async () => {
      assertFieldError(await a.post('/banners', { campaignId: 999999, name: 'x' }), 'campaignId');
      const b = await a.post('/banners', { campaignId: campaignA, name: 'Movable' });
      assertFieldError(await a.patch(`/banners/${b.body.id}`, { campaignId: 999999 }), 'campaignId');
      assert.equal((await a.get(`/banners/${b.body.id}`)).body.campaignId, campaignA);
      await a.delete(`/banners/${b.body.id}`);
    });

    test('image banners need an image URL and HTML banners their HTML', async () => {
      assertFieldError(await a.post('/banners', { campaignId: campaignA, name: 'x', type: 'image' }), 'content');
      assertFieldError(
        await a.post('/banners', { campaignId: campaignA, name: 'x', type: 'image', content: 'javascript:alert(1)' }),
        'content',
      );
      assertFieldError(await a.post('/banners', { campaignId: campaignA, name: 'x', type: 'html' }), 'content');
    });

    test('oversized names and non-http URLs are 422', async () => {
      assertFieldError(await a.post('/banners', { campaignId: campaignA, name: 'n'.repeat(300) }), 'name');
      for (const destinationUrl of [
        'javascript:alert(1)',
        'data:text/html,<script>alert(1)</script>',
        'file:///etc/passwd',
      ]) {
        assertFieldError(
          await a.post('/banners', { campaignId: campaignA, name: 'x', destinationUrl }),
          'destinationUrl',
        );
      }
    });

    test('malformed JSON is 400 and a body over 100 kb is 413', async () => {
      assertError(await a.raw('POST', '/banners', undefined, { raw: '{"name":' }), 400, 'invalid_json');
      assertError(
        await a.post('/banners', { campaignId: campaignA, name: 'Big', type: 'html', content: '<p>'.repeat(40_000) }),
        413,
        'payload_too_large',
      );
    });

    test('content beyond 65,535 bytes is 422 on every database; just under is kept exactly', async () => {
      // 40,000 "é" are 40,000 characters but 80,000 bytes: more than a MySQL TEXT column holds.
      assertFieldError(
        await a.post('/banners', { campaignId: campaignA, name: 'x', type: 'html', content: 'é'.repeat(40_000) }),
        'content',
      );
      const fits = 'é€'.repeat(12_000); // 60,000 bytes
      const res = await a.post('/banners', { campaignId: campaignA, name: 'Wide', type: 'html', content: fits });
      assert.equal(res.status, 201, res.text.slice(0, 300));
      assert.equal((await a.get(`/banners/${res.body.id}`)).body.content, fits);
      const log = await a.get(`/audit-log?objectType=banner&objectId=${res.body.id}`);
      assert.equal(log.body.data.length, 1, 'the change is audited even when its details are large');
      await a.delete(`/banners/${res.body.id}`);
    });

    test('refused requests created nothing', async () => {
      assert.equal((await a.get('/banners?q=x')).body.data.filter((b: { name: string }) => b.name === 'x').length, 0);
    });
  });

  test('SQL-looking values are stored and returned as plain text', async () => {
    const name = "x'; DROP TABLE banners; --";
    const res = await a.post('/banners', { campaignId: campaignA, name });
    assert.equal(res.status, 201);
    assert.equal((await a.get(`/banners/${res.body.id}`)).body.name, name);
    assert.ok((await a.get('/banners')).body.pagination.total > 0, 'the table is still there');
  });

  test('every change is in the audit log with the actor email', async () => {
    const b = await a.post('/banners', { campaignId: campaignA, name: 'Audited' });
    await a.patch(`/banners/${b.body.id}`, { name: 'Audited 2' });
    await a.delete(`/banners/${b.body.id}`);
    const log = await a.get(`/audit-log?objectType=banner&objectId=${b.body.id}`);
    const entries = log.body.data as Array<{ action: string; actor: string }>;
    assert.deepEqual(entries.map((e) => e.action).sort(), ['banner.created', 'banner.deleted', 'banner.updated']);
    for (const e of entries) assert.equal(e.actor, OWNER.email);
  });
});
