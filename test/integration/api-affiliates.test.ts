import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { assertError, assertFieldError, assertPage, ids } from '../helpers/assert.js';

type Api = ReturnType<typeof api>;

describe('/api/v1/affiliates', () => {
  let app: TestApp;
  let a: Api;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(async () => {
    await app.close();
  });

  test('a fresh install has no affiliates', async () => {
    assertPage(await a.get('/affiliates'), { page: 1, perPage: 50, total: 0 });
  });

  test('create → 201 with the object, read, PATCH, DELETE → 204 then 404', async () => {
    const created = await a.post('/affiliates', {
      name: 'Alice Example',
      email: 'alice@example.com',
      refId: 'alice',
      postbackUrl: 'https://alice.example/postback?tx={transaction}',
      overwriteCookie: true,
    });
    assert.equal(created.status, 201, created.text);
    const alice = created.body;
    assert.equal(typeof alice.id, 'number');
    assert.equal(alice.refId, 'alice');
    assert.equal(alice.name, 'Alice Example');
    assert.equal(alice.email, 'alice@example.com');
    assert.equal(alice.status, 'approved', 'an affiliate added by the merchant is approved unless told otherwise');
    assert.equal(alice.parentId, null);
    assert.equal(alice.overwriteCookie, true);
    assert.equal(alice.postbackUrl, 'https://alice.example/postback?tx={transaction}');
    assert.equal(alice.archived, false);
    assert.ok(!Number.isNaN(Date.parse(alice.createdAt)));

    const read = await a.get(`/affiliates/${alice.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, alice);

    const patched = await a.patch(`/affiliates/${alice.id}`, {
      name: 'Alice Renamed',
      status: 'declined',
      overwriteCookie: null,
      postbackUrl: null,
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.name, 'Alice Renamed');
    assert.equal(patched.body.status, 'declined');
    assert.equal(patched.body.overwriteCookie, null);
    assert.equal(patched.body.postbackUrl, null);
    assert.equal(patched.body.refId, 'alice', 'fields left out of a PATCH keep their values');
    assert.equal(patched.body.email, 'alice@example.com');
    assert.deepEqual((await a.get(`/affiliates/${alice.id}`)).body, patched.body);

    const del = await a.delete(`/affiliates/${alice.id}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assertError(await a.get(`/affiliates/${alice.id}`), 404, 'not_found');
    assertError(await a.patch(`/affiliates/${alice.id}`, { name: 'Ghost' }), 404, 'not_found');
    assertError(await a.delete(`/affiliates/${alice.id}`), 404, 'not_found');
  });

  test('a refId is generated when none is given', async () => {
    const res = await a.post('/affiliates', { name: 'No Ref', email: 'noref@example.com' });
    assert.equal(res.status, 201);
    assert.match(res.body.refId, /^[A-Za-z0-9_.-]{4,64}$/);
    assert.equal(res.body.password, undefined);
    await a.delete(`/affiliates/${res.body.id}`);
  });

  test('unknown ids are 404; ids that are not ids are 422', async () => {
    assertError(await a.get('/affiliates/999999'), 404, 'not_found');
    assertError(await a.patch('/affiliates/999999', { name: 'x' }), 404, 'not_found');
    assertError(await a.delete('/affiliates/999999'), 404, 'not_found');
    assertError(await a.post('/affiliates/999999/approve'), 404, 'not_found');
    assertFieldError(await a.get('/affiliates/abc'), 'id');
    assertFieldError(await a.get('/affiliates/1.5'), 'id');
    assertFieldError(await a.get('/affiliates/-1'), 'id');
  });

  test('approve and decline set the status', async () => {
    const res = await a.post('/affiliates', { name: 'Pending Pat', email: 'pat@example.com', status: 'pending' });
    assert.equal(res.body.status, 'pending');
    const approved = await a.post(`/affiliates/${res.body.id}/approve`);
    assert.equal(approved.status, 200);
    assert.equal(approved.body.status, 'approved');
    const declined = await a.post(`/affiliates/${res.body.id}/decline`);
    assert.equal(declined.body.status, 'declined');
    assert.equal((await a.get(`/affiliates/${res.body.id}`)).body.status, 'declined');
    await a.delete(`/affiliates/${res.body.id}`);
  });

  describe('list, pagination and filters', () => {
    const made: Record<string, number> = {};
    before(async () => {
      const rows = [
        { key: 'p1', name: 'Parent One', email: 'p1@example.com', refId: 'parent1', status: 'approved' },
        { key: 'c1', name: 'Child 100% Sure', email: 'c1@example.com', refId: 'child1', status: 'pending' },
        { key: 'c2', name: 'Child Two', email: 'c2@shop.example', refId: 'child2', status: 'declined' },
        { key: 'x', name: 'Archived Xavier', email: 'x@example.com', refId: 'xav', status: 'approved', archived: true },
      ];
      for (const { key, ...body } of rows) {
        const res = await a.post('/affiliates', body);
        assert.equal(res.status, 201, res.text);
        made[key] = res.body.id;
      }
      for (const child of ['c1', 'c2']) {
        const res = await a.patch(`/affiliates/${made[child]}`, { parentId: made.p1 });
        assert.equal(res.status, 200, res.text);
      }
    });

    test('the list has the page shape and every affiliate', async () => {
      const res = await a.get('/affiliates');
      assertPage(res, { page: 1, perPage: 50, total: 4 });
      assert.deepEqual(
        ids(res),
        Object.values(made).sort((x, y) => x - y),
      );
    });

    test('perPage=1 walks the list one affiliate per page', async () => {
      const seen: number[] = [];
      for (let page = 1; page <= 4; page++) {
        const res = await a.get(`/affiliates?perPage=1&page=${page}`);
        assertPage(res, { page, perPage: 1, total: 4 });
        assert.equal(res.body.data.length, 1);
        seen.push(res.body.data[0].id);
      }
      assert.deepEqual(
        seen.sort((x, y) => x - y),
        Object.values(made).sort((x, y) => x - y),
        'no affiliate twice, none left out',
      );
      const beyond = await a.get('/affiliates?perPage=1&page=9');
      assertPage(beyond, { page: 9, perPage: 1, total: 4 });
      assert.deepEqual(beyond.body.data, []);
    });

    test('each filter narrows the list', async () => {
      assert.deepEqual(ids(await a.get('/affiliates?status=pending')), [made.c1]);
      assert.deepEqual(ids(await a.get('/affiliates?status=declined')), [made.c2]);
      assert.deepEqual(
        ids(await a.get(`/affiliates?parentId=${made.p1}`)),
        [made.c1, made.c2].sort((x, y) => x! - y!),
      );
      assert.deepEqual(ids(await a.get('/affiliates?archived=true')), [made.x]);
      assert.equal((await a.get('/affiliates?archived=false')).body.pagination.total, 3);
      assert.deepEqual(ids(await a.get('/affiliates?q=xavier')), [made.x], 'q searches names, ignoring case');
      assert.deepEqual(ids(await a.get('/affiliates?q=shop.example')), [made.c2], 'q searches emails');
      assert.deepEqual(ids(await a.get('/affiliates?q=parent1')), [made.p1], 'q searches refIds');
      assert.deepEqual(ids(await a.get('/affiliates?q=100%25')), [made.c1], '% is matched literally');
      assert.deepEqual(ids(await a.get('/affiliates?q=_')), [], '_ is matched literally');
      assert.deepEqual(ids(await a.get('/affiliates?status=approved&archived=false')), [made.p1]);
    });

    test('bad query values are 422 naming the parameter', async () => {
      assertFieldError(await a.get('/affiliates?status=bogus'), 'status');
      assertFieldError(await a.get('/affiliates?status=approved&status=pending'), 'status');
      assertFieldError(await a.get('/affiliates?archived=maybe'), 'archived');
      assertFieldError(await a.get('/affiliates?parentId=abc'), 'parentId');
      assertFieldError(await a.get('/affiliates?page=0'), 'page');
      assertFieldError(await a.get('/affiliates?perPage=0'), 'perPage');
      assertFieldError(await a.get('/affiliates?perPage=201'), 'perPage');
      assertFieldError(await a.get(`/affiliates?q=${'x'.repeat(300)}`), 'q');
    });

    test('SQL-looking filter values are plain text', async () => {
      const res = await a.get(`/affiliates?q=${encodeURIComponent("' OR 1=1 --")}`);
      assertPage(res, { page: 1, perPage: 50, total: 0 });
    });

    test('a parent chain cannot loop', async () => {
      assertFieldError(await a.patch(`/affiliates/${made.p1}`, { parentId: made.c1 }), 'parentId');
      assertFieldError(await a.patch(`/affiliates/${made.p1}`, { parentId: made.p1 }), 'parentId');
      assert.equal((await a.get(`/affiliates/${made.p1}`)).body.parentId, null);
    });
  });

  describe('bad input', () => {
    const valid = { name: 'Valid Name', email: 'valid@example.com' };

    test('wrong types, unknown enums and object values are 422 naming the field', async () => {
      assertFieldError(await a.post('/affiliates', { ...valid, name: 12345 }), 'name');
      assertFieldError(await a.post('/affiliates', { ...valid, email: 42 }), 'email');
      assertFieldError(await a.post('/affiliates', { ...valid, status: 'superstar' }), 'status');
      assertFieldError(await a.post('/affiliates', { ...valid, name: { $gt: '' } }), 'name');
      assertFieldError(await a.post('/affiliates', { ...valid, refId: { $ne: null } }), 'refId');
      assertFieldError(await a.post('/affiliates', { ...valid, overwriteCookie: 'yes' }), 'overwriteCookie');
      assertFieldError(await a.post('/affiliates', { ...valid, parentId: 'one' }), 'parentId');
      assertFieldError(await a.post('/affiliates', { ...valid, email: 'not-an-email' }), 'email');
      assertFieldError(await a.post('/affiliates', { email: 'valid@example.com' }), 'name');
      assertFieldError(await a.post('/affiliates', { ...valid, name: '   ' }), 'name');
      assertFieldError(await a.post('/affiliates', { ...valid, password: 'short' }), 'password');
    });

    test('oversized strings are 422', async () => {
      assertFieldError(await a.post('/affiliates', { ...valid, name: 'n'.repeat(300) }), 'name');
      assertFieldError(await a.post('/affiliates', { ...valid, refId: 'r'.repeat(70) }), 'refId');
      assertFieldError(await a.post('/affiliates', { ...valid, refId: 'has space' }), 'refId');
      assertFieldError(await a.post('/affiliates', { ...valid, email: `${'e'.repeat(190)}@example.com` }), 'email');
    });

    test('non-http postback URLs are refused', async () => {
      for (const postbackUrl of ['javascript:alert(1)', 'data:text/html,hi', 'ftp://example.com/x', 'not a url']) {
        assertFieldError(await a.post('/affiliates', { ...valid, postbackUrl }), 'postbackUrl');
      }
    });

    test('a parent that does not exist is 422 naming parentId', async () => {
      assertFieldError(await a.post('/affiliates', { ...valid, parentId: 999999 }), 'parentId');
    });

    test('PATCH validates the same way', async () => {
      const res = await a.post('/affiliates', { ...valid, refId: 'patchme' });
      const id = res.body.id;
      assertFieldError(await a.patch(`/affiliates/${id}`, { status: 'bogus' }), 'status');
      assertFieldError(await a.patch(`/affiliates/${id}`, { name: 300 }), 'name');
      assertFieldError(await a.patch(`/affiliates/${id}`, { postbackUrl: 'javascript:alert(1)' }), 'postbackUrl');
      assertFieldError(await a.patch(`/affiliates/${id}`, { parentId: 999999 }), 'parentId');
      assert.deepEqual((await a.get(`/affiliates/${id}`)).body, res.body, 'refused PATCHes change nothing');
      await a.delete(`/affiliates/${id}`);
    });

    test('nothing was created by the refused requests', async () => {
      const res = await a.get('/affiliates?q=valid@example.com');
      assert.equal(res.body.pagination.total, 0);
    });

    test('a duplicate refId is 422 naming refId, also with other case', async () => {
      const first = await a.post('/affiliates', { name: 'Dup One', email: 'dup1@example.com', refId: 'dupref' });
      assert.equal(first.status, 201);
      assertFieldError(
        await a.post('/affiliates', { name: 'Dup Two', email: 'dup2@example.com', refId: 'dupref' }),
        'refId',
      );
      assertFieldError(
        await a.post('/affiliates', { name: 'Dup Two', email: 'dup2@example.com', refId: 'DUPREF' }),
        'refId',
      );
      const second = await a.post('/affiliates', { name: 'Dup Two', email: 'dup2@example.com', refId: 'dupref2' });
      assert.equal(second.status, 201);
      assertFieldError(await a.patch(`/affiliates/${second.body.id}`, { refId: 'dupref' }), 'refId');
      const same = await a.patch(`/affiliates/${first.body.id}`, { refId: 'DupRef' });
      assert.equal(same.status, 200, 'an affiliate may change the case of its own refId');
      assert.equal(same.body.refId, 'DupRef');
    });

    test('an affiliate login cannot reuse an existing account email', async () => {
      const res = await a.post('/affiliates', {
        name: 'Owner Clone',
        email: OWNER.email.toUpperCase(),
        password: 'some password 1',
      });
      assertFieldError(res, 'email');
    });

    test('malformed JSON is 400 invalid_json', async () => {
      for (const raw of ['{"name": ', '{name: "x"}', "{'name': 'x'}", 'null', '']) {
        const res = await a.raw('POST', '/affiliates', undefined, { raw });
        if (raw === '') assertFieldError(res, 'name');
        else assertError(res, 400, 'invalid_json');
      }
    });

    test('a body over 100 kb is 413', async () => {
      const res = await a.post('/affiliates', { ...valid, name: 'x'.repeat(110 * 1024) });
      assertError(res, 413, 'payload_too_large');
    });

    test('a JSON array or string body is 422', async () => {
      assertError(await a.raw('POST', '/affiliates', undefined, { raw: '[]' }), 422, 'validation_failed');
      assertError(
        await a.raw('POST', '/affiliates', undefined, { raw: 'just text', headers: { 'content-type': 'text/plain' } }),
        422,
        'validation_failed',
      );
    });
  });

  test('SQL-looking values are stored and returned as plain text', async () => {
    const name = "x'; DROP TABLE affiliates; --";
    const email = "robert');DROP TABLE users;--@example.com";
    const res = await a.post('/affiliates', { name, email: 'bobby@example.com' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.name, name);
    assert.equal((await a.get(`/affiliates/${res.body.id}`)).body.name, name);
    const found = await a.get(`/affiliates?q=${encodeURIComponent('DROP TABLE')}`);
    assert.deepEqual(ids(found), [res.body.id]);
    assert.equal(found.body.data[0].name, name);
    assert.ok((await a.get('/affiliates')).body.pagination.total > 0, 'the affiliates table is still there');
    // An email that is not an address is refused, whatever it contains.
    assertFieldError(await a.post('/affiliates', { name: 'Bobby', email }), 'email');
    assert.equal((await a.get('/me')).status, 200, 'the users table is still there');
  });

  test('every change is in the audit log with the actor email', async () => {
    const created = await a.post('/affiliates', {
      name: 'Audited Ann',
      email: 'audited@example.com',
      password: 'secret password 1',
    });
    await a.patch(`/affiliates/${created.body.id}`, { name: 'Audited Anne', password: 'another secret 1' });
    await a.delete(`/affiliates/${created.body.id}`);
    const log = await a.get(`/audit-log?objectType=affiliate&objectId=${created.body.id}`);
    assert.equal(log.status, 200);
    const entries = log.body.data as Array<{ action: string; actor: string; details: Record<string, unknown> }>;
    assert.deepEqual(entries.map((e) => e.action).sort(), [
      'affiliate.created',
      'affiliate.deleted',
      'affiliate.updated',
    ]);
    for (const e of entries) assert.equal(e.actor, OWNER.email);
    const text = JSON.stringify(entries);
    assert.doesNotMatch(text, /secret password 1|another secret 1/, 'passwords are not logged');
    assert.equal(entries.find((e) => e.action === 'affiliate.updated')?.details.name, 'Audited Anne');
  });
});
