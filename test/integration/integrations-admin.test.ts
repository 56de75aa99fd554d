import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor, type Agent } from '../helpers/http.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';
import {
  enableIntegrations,
  postWebhook,
  sendShopify,
  sendStripe,
  sendWooCommerce,
  stripeSignature,
} from '../helpers/integrations.js';

/* The admin side of the store integrations (SPEC §14): setup on the Integration page, the delivery log. */

type Api = ReturnType<typeof api>;

/** The page's text without tags, entities decoded, spaces collapsed. */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** The delivery log's rows: platform, event type, event id and outcome per row. */
const rowsOf = (html: string) =>
  [...html.matchAll(/<tr data-delivery="(\d+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => ({
    id: Number(m[1]),
    text: text(m[2] ?? ''),
    html: m[2] ?? '',
  }));

describe('store integrations in the admin', () => {
  let app: TestApp;
  let agent: Agent;
  let owner: Api;

  before(async () => {
    app = await startTestApp({ env: { PUBLIC_URL: 'https://track.example.com/' } });
    agent = await setupOwner(app.url);
    owner = api(app.url, await tokenFor(app.url, OWNER.email, OWNER.password));
  });
  after(() => app.close());

  test('the Integration page tells how to connect each platform, with the webhook URL to paste', async () => {
    const page = await agent.get('/admin/integration');
    assert.equal(page.status, 200);
    const t = text(page.text);
    for (const platform of ['stripe', 'shopify', 'woocommerce'])
      assert.ok(t.includes(`https://track.example.com/integrations/${platform}/webhook`), `${platform} URL`);
    for (const event of [
      'checkout.session.completed',
      'invoice.paid',
      'charge.refunded',
      'charge.dispute.created',
      'orders/paid',
      'refunds/create',
      'order.created',
      'order.updated',
    ])
      assert.ok(t.includes(event), `the event ${event} to tick`);
    assert.match(t, /client_reference_id/);
    assert.match(t, /cart attribute affix_vid/);
    assert.match(t, /order meta affix_vid/);
    assert.match(t, /Store integrations plugin is not active/);
    assert.match(page.text, /href="\/admin\/plugins#plugin-integrations"/);

    await enableIntegrations(owner);
    assert.equal((await owner.patch('/plugins/integrations', { settings: { shopifyEnabled: false } })).status, 200);
    const html = (await agent.get('/admin/integration')).text;
    const platform = (key: string) =>
      text(new RegExp(`<section[^>]*data-platform="${key}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? '');
    assert.doesNotMatch(text(html), /plugin is not active/);
    assert.match(platform('stripe'), /receiving webhooks/);
    assert.match(platform('shopify'), /switched off/);
    assert.match(platform('woocommerce'), /receiving webhooks/);
    assert.ok(!html.includes('whsec_test'), 'no secret on the page');
    assert.equal((await owner.patch('/plugins/integrations', { settings: { shopifyEnabled: true } })).status, 200);
  });

  test('the Plugins page shows one settings section per platform', async () => {
    await enableIntegrations(owner);
    const page = await agent.get('/admin/plugins');
    const section = /data-plugin="integrations"[\s\S]*?<\/section>/.exec(page.text)?.[0] ?? '';
    const headings = [...section.matchAll(/<h3[^>]*>([^<]+)<\/h3>/g)].map((m) => m[1]?.trim());
    assert.deepEqual(headings, ['Stripe', 'Shopify', 'WooCommerce']);
    assert.match(section, /name="settings\.stripeSecret"/);
  });

  test('the delivery log lists each delivery with its outcome, links the sale, filters by platform and pages', async () => {
    await enableIntegrations(owner);
    const event = fixture('stripe/checkout.session.completed.json');
    event.id = `evt_admin_${process.pid}`;
    event.data.object.payment_intent = `pi_admin_${process.pid}`;
    const sale = await sendStripe(app.url, event);
    assert.equal(sale.status, 200, sale.text);
    await sendStripe(app.url, event);
    const payload = '{"id": "evt_forged"}';
    await postWebhook(app.url, 'stripe', payload, { 'Stripe-Signature': stripeSignature(payload, 'whsec_wrong') });
    await sendShopify(app.url, 'products/update', fixtureText('shopify/orders-paid.json'), 'shopify-hook-1');
    await sendWooCommerce(
      app.url,
      'order.updated',
      { ...fixture('woocommerce/order.json'), status: 'pending' },
      'wc-1',
    );

    const page = await agent.get('/admin/integrations/deliveries');
    assert.equal(page.status, 200, page.text.slice(0, 300));
    const rows = rowsOf(page.text);
    assert.ok(rows.length >= 5, page.text.slice(0, 500));
    const stripeSale = rows.find((r) => r.text.includes(event.id) && /\bsale\b/.test(r.text));
    assert.ok(stripeSale, 'the stored sale');
    assert.match(stripeSale.text, /Stripe/);
    assert.match(stripeSale.text, /checkout\.session\.completed/);
    assert.match(stripeSale.html, new RegExp(`href="/admin/sales/${sale.body.saleId}"`));
    assert.ok(
      rows.some((r) => r.text.includes(event.id) && /duplicate/.test(r.text)),
      'the replay',
    );
    assert.ok(
      rows.some((r) => /bad signature/.test(r.text)),
      'the forged delivery',
    );
    assert.ok(rows.some((r) => /Shopify/.test(r.text) && /ignored/.test(r.text)));
    assert.ok(rows.some((r) => /WooCommerce/.test(r.text) && /ignored/.test(r.text)));

    const shopify = rowsOf((await agent.get('/admin/integrations/deliveries?platform=shopify')).text);
    assert.ok(shopify.length >= 1);
    assert.ok(shopify.every((r) => /Shopify/.test(r.text) && !/Stripe|WooCommerce/.test(r.text)));

    const first = await agent.get('/admin/integrations/deliveries?platform=stripe&perPage=2');
    assert.equal(rowsOf(first.text).length, 2);
    const next = text(/<a href="([^"]+)" rel="next"/.exec(first.text)?.[1] ?? '').trim();
    assert.ok(next, 'a next page');
    assert.match(next, /platform=stripe/);
    const second = rowsOf((await agent.get(next)).text);
    assert.ok(second.length >= 1);
    assert.ok(
      second.every((r) => !rowsOf(first.text).some((f) => f.id === r.id)),
      'another page of rows',
    );

    const unknownFilter = await agent.get('/admin/integrations/deliveries?platform=paypal');
    assert.equal(unknownFilter.status, 200, 'an unknown platform filter shows every platform');
  });

  test('the Integration page links the delivery log', async () => {
    const page = await agent.get('/admin/integration');
    assert.match(page.text, /href="\/admin\/integrations\/deliveries"/);
  });
});

describe('the Integration page without PUBLIC_URL', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(() => app.close());

  test('takes the webhook URLs from the request origin', async () => {
    const agent = await setupOwner(app.url);
    const t = text((await agent.get('/admin/integration')).text);
    assert.ok(t.includes(`${app.url}/integrations/stripe/webhook`), t.slice(0, 300));
  });
});
