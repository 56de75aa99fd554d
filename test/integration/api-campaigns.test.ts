import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError, assertPage, ids } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

describe('/api/v1/campaigns', () => {
  let app: TestApp;
  let a: Api;
  let defaultId: number;

  /** The ids of the campaigns flagged default, over the whole list. */
  const defaults = async () => {
    const res = await a.get('/campaigns?perPage=200');
    assert.equal(res.status, 200);
    return (res.body.data as Array<{ id: number; isDefault: boolean }>).filter((c) => c.isDefault).map((c) => c.id);
  };
  const assertOneDefault = async (id: number) => assert.deepEqual(await defaults(), [id]);

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    [defaultId] = (await defaults()) as [number];
  });
  after(async () => {
    await app.close();
  });

  test('a fresh install has exactly one campaign, the default', async () => {
    const res = await a.get('/campaigns');
    assertPage(res, { page: 1, perPage: 50, total: 1 });
    const [only] = res.body.data;
    assert.equal(only.name, 'Default campaign');
    assert.equal(only.isDefault, true);
    assert.equal(only.status, 'active');
    assert.equal(only.archived, false);
    assert.equal(only.id, defaultId);
  });

  test('create → 201 with the object, read, PATCH, DELETE → 204 then 404', async () => {
    const created = await a.post('/campaigns', {
      name: 'Spring sale',
      type: 'manual',
      productIds: ['SKU-1', 'SKU-2'],
      cookieDays: 30,
      overwriteCookie: true,
      approval: 'auto',
      destinationUrl: 'https://shop.example/spring',
    });
    assert.equal(created.status, 201, created.text);
    const c = created.body;
    assert.equal(typeof c.id, 'number');
    assert.equal(c.name, 'Spring sale');
    assert.equal(c.type, 'manual');
    assert.equal(c.isDefault, false);
    assert.equal(c.status, 'active');
    assert.deepEqual(c.productIds, ['SKU-1', 'SKU-2']);
    assert.equal(c.cookieDays, 30);
    assert.equal(c.overwriteCookie, true);
    assert.equal(c.approval, 'auto');
    assert.equal(c.destinationUrl, 'https://shop.example/spring');
    assert.equal(typeof c.secretKey, 'string');
    assert.ok(c.secretKey.length >= 16);
    assert.deepEqual((await a.get(`/campaigns/${c.id}`)).body, c);

    const patched = await a.patch(`/campaigns/${c.id}`, {
      status: 'paused',
      cookieDays: null,
      approval: null,
      productIds: ['SKU-3'],
      destinationUrl: '',
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.status, 'paused');
    assert.equal(patched.body.cookieDays, null);
    assert.equal(patched.body.approval, null);
    assert.deepEqual(patched.body.productIds, ['SKU-3']);
    assert.equal(patched.body.destinationUrl, null);
    assert.equal(patched.body.name, 'Spring sale');
    assert.equal(patched.body.type, 'manual');
    assert.deepEqual((await a.get(`/campaigns/${c.id}`)).body, patched.body);

    assert.equal((await a.delete(`/campaigns/${c.id}`)).status, 204);
    assertError(await a.get(`/campaigns/${c.id}`), 404, 'not_found');
    assertError(await a.delete(`/campaigns/${c.id}`), 404, 'not_found');
  });

  test('defaults for a new campaign inherit the global settings', async () => {
    const res = await a.post('/campaigns', { name: 'Plain' });
    assert.equal(res.status, 201);
    assert.equal(res.body.type, 'public');
    assert.deepEqual(res.body.productIds, []);
    assert.equal(res.body.cookieDays, null);
    assert.equal(res.body.overwriteCookie, null);
    assert.equal(res.body.approval, null);
    assert.equal(res.body.destinationUrl, null);
    await a.delete(`/campaigns/${res.body.id}`);
  });

  test('unknown ids are 404', async () => {
    assertError(await a.get('/campaigns/999999'), 404, 'not_found');
    assertError(await a.patch('/campaigns/999999', { name: 'x' }), 404, 'not_found');
    assertError(await a.delete('/campaigns/999999'), 404, 'not_found');
    assertError(await a.post('/campaigns/999999/regenerate-secret-key'), 404, 'not_found');
    assertError(await a.get('/campaigns/999999/payouts'), 404, 'not_found');
  });

  test('product IDs that differ only in case are kept on every database', async () => {
    const res = await a.post('/campaigns', { name: 'Cased', productIds: ['sku-9', 'SKU-9', 'sku-9'] });
    assert.equal(res.status, 201, res.text);
    const patched = await a.patch(`/campaigns/${res.body.id}`, { productIds: ['Abc', 'ABC'] });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.productIds, ['Abc', 'ABC']);
    await a.delete(`/campaigns/${res.body.id}`);
  });

  test('regenerating the secret key replaces it', async () => {
    const before = (await a.get(`/campaigns/${defaultId}`)).body.secretKey;
    const res = await a.post(`/campaigns/${defaultId}/regenerate-secret-key`);
    assert.equal(res.status, 200);
    assert.notEqual(res.body.secretKey, before);
    assert.equal((await a.get(`/campaigns/${defaultId}`)).body.secretKey, res.body.secretKey);
  });

  describe('exactly one default campaign', () => {
    // Each test starts from the install's default campaign as the default and leaves it so.
    const made: number[] = [];
    /** A campaign made by this test: the new default when `isDefault`. */
    const campaign = async (name: string, isDefault?: boolean): Promise<number> => {
      const res = await a.post('/campaigns', { name, ...(isDefault ? { isDefault } : {}) });
      assert.equal(res.status, 201, res.text);
      made.push(res.body.id);
      return res.body.id;
    };
    afterEach(async () => {
      await a.patch(`/campaigns/${defaultId}`, { isDefault: true });
      for (const id of made.splice(0)) await a.delete(`/campaigns/${id}`);
    });

    test('creating a campaign with isDefault true moves the flag', async () => {
      const res = await a.post('/campaigns', { name: 'New default', isDefault: true });
      assert.equal(res.status, 201);
      assert.equal(res.body.isDefault, true);
      const second: number = res.body.id;
      made.push(second);
      await assertOneDefault(second);
      assert.equal((await a.get(`/campaigns/${defaultId}`)).body.isDefault, false);
    });

    test('PATCH isDefault false on the default is 422 and keeps it', async () => {
      const second = await campaign('New default', true);
      assertFieldError(await a.patch(`/campaigns/${second}`, { isDefault: false }), 'isDefault');
      await assertOneDefault(second);
    });

    test('PATCH isDefault true on another campaign moves the flag back', async () => {
      const second = await campaign('New default', true);
      await assertOneDefault(second);
      const res = await a.patch(`/campaigns/${defaultId}`, { isDefault: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.isDefault, true);
      await assertOneDefault(defaultId);
      const again = await a.patch(`/campaigns/${defaultId}`, { isDefault: true, name: 'Default campaign' });
      assert.equal(again.status, 200, 'setting it again is harmless');
      await assertOneDefault(defaultId);
    });

    test('isDefault false on a campaign that is not the default is harmless', async () => {
      const second = await campaign('Not the default');
      const res = await a.patch(`/campaigns/${second}`, { isDefault: false });
      assert.equal(res.status, 200);
      await assertOneDefault(defaultId);
    });

    test('deleting the default is 409; archiving it is 422', async () => {
      assertError(await a.delete(`/campaigns/${defaultId}`), 409, 'conflict');
      assertFieldError(await a.patch(`/campaigns/${defaultId}`, { archived: true }), 'archived');
      assertFieldError(
        await a.post('/campaigns', { name: 'Archived default', isDefault: true, archived: true }),
        'archived',
      );
      const still = await a.get(`/campaigns/${defaultId}`);
      assert.equal(still.status, 200);
      assert.equal(still.body.archived, false);
      await assertOneDefault(defaultId);
    });

    test('a campaign that is not the default can be deleted', async () => {
      const second = await campaign('Not the default');
      assert.equal((await a.delete(`/campaigns/${second}`)).status, 204);
      await assertOneDefault(defaultId);
    });
  });

  describe('list, pagination and filters', () => {
    const made: Record<string, number> = {};
    before(async () => {
      const rows = {
        pub: { name: 'Public Alpha', type: 'public' },
        man: { name: 'Manual Beta', type: 'manual', status: 'paused' },
        priv: { name: 'Private Gamma', type: 'private' },
        old: { name: 'Old Delta', type: 'public', archived: true },
      };
      for (const [key, body] of Object.entries(rows)) {
        const res = await a.post('/campaigns', body);
        assert.equal(res.status, 201, res.text);
        made[key] = res.body.id;
      }
    });

    test('pages of one', async () => {
      const all = await a.get('/campaigns');
      assertPage(all, { page: 1, perPage: 50, total: 5 });
      const p2 = await a.get('/campaigns?perPage=1&page=2');
      assertPage(p2, { page: 2, perPage: 1, total: 5 });
      assert.equal(p2.body.data.length, 1);
      const p1 = await a.get('/campaigns?perPage=1&page=1');
      assert.notEqual(p1.body.data[0].id, p2.body.data[0].id);
      assert.ok(all.body.data.some((c: { id: number }) => c.id === p2.body.data[0].id));
    });

    test('each filter narrows the list', async () => {
      assert.deepEqual(ids(await a.get('/campaigns?type=manual')), [made.man]);
      assert.deepEqual(ids(await a.get('/campaigns?type=private')), [made.priv]);
      assert.deepEqual(ids(await a.get('/campaigns?status=paused')), [made.man]);
      assert.deepEqual(ids(await a.get('/campaigns?archived=true')), [made.old]);
      assert.equal((await a.get('/campaigns?archived=false')).body.pagination.total, 4);
      assert.deepEqual(ids(await a.get('/campaigns?q=gamma')), [made.priv]);
      assert.deepEqual(
        ids(await a.get('/campaigns?type=public&archived=false')),
        [defaultId, made.pub].sort((x, y) => x! - y!),
      );
    });

    test('unknown enum values in filters are 422', async () => {
      assertFieldError(await a.get('/campaigns?status=bogus'), 'status');
      assertFieldError(await a.get('/campaigns?type=secret'), 'type');
      assertFieldError(await a.get('/campaigns?archived=yes'), 'archived');
    });
  });

  describe('bad input', () => {
    test('wrong types, unknown enums, negative and object values are 422 naming the field', async () => {
      assertFieldError(await a.post('/campaigns', { name: 42 }), 'name');
      assertFieldError(await a.post('/campaigns', { name: { $gt: '' } }), 'name');
      assertFieldError(await a.post('/campaigns', {}), 'name');
      assertFieldError(await a.post('/campaigns', { name: 'x', type: 'secret' }), 'type');
      assertFieldError(await a.post('/campaigns', { name: 'x', status: 'deleted' }), 'status');
      assertFieldError(await a.post('/campaigns', { name: 'x', approval: 'sometimes' }), 'approval');
      assertFieldError(await a.post('/campaigns', { name: 'x', cookieDays: -1 }), 'cookieDays');
      assertFieldError(await a.post('/campaigns', { name: 'x', cookieDays: '30' }), 'cookieDays');
      assertFieldError(await a.post('/campaigns', { name: 'x', cookieDays: 1.5 }), 'cookieDays');
      assertFieldError(await a.post('/campaigns', { name: 'x', isDefault: 'true' }), 'isDefault');
      assertFieldError(await a.post('/campaigns', { name: 'x', productIds: 'SKU-1' }), 'productIds');
      assertFieldError(await a.post('/campaigns', { name: 'x', productIds: [1] }), 'productIds.0');
      assertFieldError(await a.post('/campaigns', { name: 'x', productIds: ['ok', { $ne: 1 }] }), 'productIds.1');
    });

    test('oversized names and non-http URLs are 422', async () => {
      assertFieldError(await a.post('/campaigns', { name: 'n'.repeat(300) }), 'name');
      for (const destinationUrl of [
        'javascript:alert(1)',
        'data:text/html;base64,PHNjcmlwdD4=',
        'ftp://shop.example',
        '//shop.example/x',
      ]) {
        assertFieldError(await a.post('/campaigns', { name: 'x', destinationUrl }), 'destinationUrl');
      }
      assertFieldError(
        await a.patch(`/campaigns/${defaultId}`, { destinationUrl: 'javascript:alert(1)' }),
        'destinationUrl',
      );
    });

    test('a product list too large to store is 422 on every database; a large one that fits is kept', async () => {
      const tooMany = Array.from({ length: 1000 }, (_, i) => `P${String(i).padStart(4, '0')}-${'x'.repeat(70)}`);
      assertFieldError(await a.post('/campaigns', { name: 'x', productIds: tooMany }), 'productIds');
      assertFieldError(await a.patch(`/campaigns/${defaultId}`, { productIds: tooMany }), 'productIds');
      assertFieldError(
        await a.post('/campaigns', { name: 'x', productIds: Array.from({ length: 1001 }, (_, i) => `P${i}`) }),
        'productIds',
      );
      const many = tooMany.slice(0, 800); // about 62 KB of JSON
      const res = await a.post('/campaigns', { name: 'Big catalogue', productIds: many });
      assert.equal(res.status, 201, res.text.slice(0, 300));
      assert.deepEqual((await a.get(`/campaigns/${res.body.id}`)).body.productIds, many);
      const log = await a.get(`/audit-log?objectType=campaign&objectId=${res.body.id}`);
      assert.equal(log.body.data.length, 1, 'the change is audited even when its details are large');
      assert.equal(log.body.data[0].details.name, 'Big catalogue');
      assert.equal((await a.delete(`/campaigns/${res.body.id}`)).status, 204);
    });

    test('refused requests create nothing', async () => {
      assert.equal(
        (await a.get('/campaigns?q=x&archived=false')).body.data.filter((c: { name: string }) => c.name === 'x').length,
        0,
      );
    });

    test('malformed JSON is 400 and a body over 100 kb is 413', async () => {
      assertError(await a.raw('POST', '/campaigns', undefined, { raw: '{"name":"x",}' }), 400, 'invalid_json');
      assertError(await a.raw('PATCH', `/campaigns/${defaultId}`, undefined, { raw: '{' }), 400, 'invalid_json');
      const productIds = Array.from({ length: 900 }, (_, i) => `SKU-${i}-${'p'.repeat(120)}`);
      assertError(await a.post('/campaigns', { name: 'Huge', productIds }), 413, 'payload_too_large');
    });
  });

  test('SQL-looking values are stored and returned as plain text', async () => {
    const name = "x'; DROP TABLE campaigns; --";
    const res = await a.post('/campaigns', { name, productIds: ["1' OR '1'='1"] });
    assert.equal(res.status, 201);
    assert.equal(res.body.name, name);
    const read = await a.get(`/campaigns/${res.body.id}`);
    assert.equal(read.body.name, name);
    assert.deepEqual(read.body.productIds, ["1' OR '1'='1"]);
    assert.ok((await a.get('/campaigns')).body.pagination.total >= 2, 'the table is still there');
  });

  test('every change is in the audit log with the actor email', async () => {
    const c = await a.post('/campaigns', { name: 'Audited' });
    await a.patch(`/campaigns/${c.body.id}`, { name: 'Audited 2' });
    await a.post(`/campaigns/${c.body.id}/regenerate-secret-key`);
    await a.delete(`/campaigns/${c.body.id}`);
    const log = await a.get(`/audit-log?objectType=campaign&objectId=${c.body.id}`);
    const entries = log.body.data as Array<{ action: string; actor: string }>;
    assert.deepEqual(entries.map((e) => e.action).sort(), [
      'campaign.created',
      'campaign.deleted',
      'campaign.secretKeyRegenerated',
      'campaign.updated',
    ]);
    for (const e of entries) assert.equal(e.actor, OWNER.email);
  });
});
