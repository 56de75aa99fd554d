import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, request, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * Issue 8.17 / SPEC §16: `uniqueness_marks` and `impression_visitors` grow with every visitor, so
 * they are pruned by age — marks older than the longest uniqueness TTL of any campaign, impression
 * visitors of days before yesterday — in small batches, by a background job.
 */

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 2, 10, 12);

describe(`pruning of uniqueness marks and impression visitors (issue 8.17) on ${dialectName()}`, () => {
  let app: TestApp;
  let a: ReturnType<typeof api>;
  const t0 = Date.now();

  before(async () => {
    app = await startTestApp({ clock: () => NOW + (Date.now() - t0) });
    await setupOwner(app.url);
    a = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    created(await a.post('/campaigns', { name: 'Day', alias: 'day', uniquenessTtlHours: 24 }), 'campaign');
    created(await a.post('/campaigns', { name: 'Three days', alias: 'three', uniquenessTtlHours: 72 }), 'campaign');
  });
  after(async () => {
    await app?.close();
  });

  test('uniqueness marks older than the longest TTL are deleted, younger ones kept', async () => {
    const db = app.services.db;
    const rows = (prefix: string, n: number, seenAt: number) =>
      Array.from({ length: n }, (_, i) => ({ scope: 'g', device_key: `${prefix}-${i}`, seen_at: seenAt }));
    // More old rows than one batch holds, so the job goes batch by batch.
    const old = rows('old', 1234, NOW - 80 * HOUR);
    for (let i = 0; i < old.length; i += 300) await db('uniqueness_marks').insert(old.slice(i, i + 300));
    await db('uniqueness_marks').insert(rows('within-72h', 5, NOW - 50 * HOUR));
    await db('uniqueness_marks').insert(rows('fresh', 5, NOW - HOUR));

    const result = await app.services.pruner.pruneOnce();
    assert.equal(result.uniquenessMarks, 1234);
    const left = ((await db('uniqueness_marks').select('device_key')) as Array<{ device_key: string }>).map(
      (r) => r.device_key,
    );
    assert.equal(left.filter((k) => k.startsWith('old-')).length, 0);
    assert.equal(left.filter((k) => k.startsWith('within-72h-')).length, 5, 'a 72-hour TTL still needs them');
    assert.equal(left.filter((k) => k.startsWith('fresh-')).length, 5);
  });

  test('a repeat campaign-URL visit within the TTL is still not unique after pruning', async () => {
    const campaign = created(
      await a.post('/campaigns', { name: 'Repeat', alias: 'repeat', uniquenessTtlHours: 24 }),
      'campaign',
    );
    created(
      await a.post(`/campaigns/${campaign}/flows`, {
        name: 'Offer',
        type: 'default',
        offers: [{ url: 'https://offer.example/?s={subid}', weight: 100 }],
      }),
      'flow',
    );
    const visit = async () => {
      const res = await request(app.url, 'GET', '/repeat', {
        headers: { 'user-agent': 'Repeat visitor', 'x-forwarded-for': '10.1.2.3' },
      });
      assert.equal(res.status, 302, res.text);
      const subid = new URL(res.headers.get('location')!).searchParams.get('s');
      const row = (await app.services.db('clicks').where({ click_id: subid }).first()) as { unique_campaign: unknown };
      return Number(row.unique_campaign);
    };
    assert.equal(await visit(), 1);
    await app.services.pruner.pruneOnce();
    assert.equal(await visit(), 0, 'the mark of the first visit was kept');
  });

  test('impression visitors of days before yesterday are deleted; yesterday and today are kept', async () => {
    const db = app.services.db;
    const visitors = (day: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ day, banner_id: 1, visitor_key: `${day}-${i}` }));
    for (const [day, n] of [
      ['2026-03-01', 700],
      ['2026-03-08', 3],
      ['2026-03-09', 4],
      ['2026-03-10', 5],
    ] as const)
      for (const chunk of [visitors(day, n)])
        for (let i = 0; i < chunk.length; i += 300) await db('impression_visitors').insert(chunk.slice(i, i + 300));

    const result = await app.services.pruner.pruneOnce();
    assert.equal(result.impressionVisitors, 703);
    const days = (await db('impression_visitors').select('day').groupBy('day').orderBy('day')) as Array<{
      day: string;
    }>;
    assert.deepEqual(
      days.map((d) => d.day),
      ['2026-03-09', '2026-03-10'],
    );
  });

  test('the job runs with the other background workers', async () => {
    const withWorkers = await startTestApp({
      clock: () => NOW,
      startWorkers: true,
      pruning: { firstRunMs: 10, intervalMs: 60_000 },
    });
    try {
      await withWorkers.services
        .db('impression_visitors')
        .insert({ day: '2026-01-01', banner_id: 1, visitor_key: 'v' });
      const deadline = Date.now() + 10_000;
      while ((await withWorkers.services.db('impression_visitors')).length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal((await withWorkers.services.db('impression_visitors')).length, 0);
    } finally {
      await withWorkers.close();
    }
  });

  test('clickRetentionDays: raw clicks older than it are deleted in batches, the rollups keep counting them', async () => {
    const db = app.services.db;
    // The app's clock runs at NOW: these clicks are made "now", then aged in the database.
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      const res = await request(app.url, 'POST', '/t/click', {
        body: { url: `https://shop.example/?i=${i}` },
        headers: { 'x-forwarded-for': `10.44.0.${i + 1}` },
      });
      assert.equal(res.status, 200, res.text);
      ids.push(res.body.clickId as string);
    }
    const old = ids.slice(0, 17);
    await db('clicks')
      .whereIn('click_id', old)
      .update({ at: NOW - 40 * 24 * HOUR });
    const rollup = async () =>
      Number(((await db('daily_stats').sum({ n: 'clicks' }).first()) as { n: number | string | null }).n ?? 0);
    const before = await rollup();
    assert.ok(before >= 23);

    // 0 (the default) keeps every click.
    assert.equal((await app.services.pruner.pruneOnce()).clicks, 0);
    const set = await a.patch('/settings', { clickRetentionDays: 30 });
    assert.equal(set.status, 200, set.text);
    assert.equal((await a.patch('/settings', { clickRetentionDays: -1 })).status, 422);
    assert.equal((await a.patch('/settings', { clickRetentionDays: 1.5 })).status, 422);

    const { Pruner } = await import('../../server/services/pruning.js');
    const small = new Pruner(db, app.services.cache, app.services.log, () => NOW, { batchSize: 5 });
    assert.equal((await small.pruneOnce()).clicks, 17, 'four batches of at most 5');
    const left = ((await db('clicks').whereIn('click_id', ids).select('click_id')) as Array<{ click_id: string }>).map(
      (r) => r.click_id,
    );
    assert.deepEqual(left.sort(), ids.slice(17).sort(), 'the clicks within 30 days stay');
    assert.equal(await rollup(), before, 'the reports still count the deleted clicks');
  });
});
