import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestApp, dialectName, type TestApp } from '../helpers/app.js';
import { OWNER, api, setupOwner, tokenFor } from '../helpers/http.js';
import { created } from '../helpers/assert.js';
import { SECRETS, enableIntegrations, hmacBase64, stripeSignature } from '../helpers/integrations.js';
import { fixture } from '../helpers/fixtures.js';

/*
 * Errors for machines are JSON (SPEC §9), whatever they send as Accept: the store platforms'
 * webhooks (SPEC §14) send `*\/*` or nothing, and a method a path does not take is a JSON
 * `405 method_not_allowed` with its `Allow` header — through the whole app (hot front included).
 * The visitor page stays for people following links (SPEC §13).
 */

type Api = ReturnType<typeof api>;

interface Answer {
  status: number;
  type: string;
  allow: string | undefined;
  text: string;
  json: any;
}

/**
 * One request with exactly these headers (fetch would add `Accept: *\/*` of its own): `accept`
 * undefined sends no Accept header at all.
 */
function send(
  base: string,
  method: string,
  path: string,
  opts: { accept?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.accept !== undefined) headers.accept = opts.accept;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* a page, or nothing */
        }
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          allow: res.headers.allow,
          text,
          json,
        });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The SPEC §9 shape, as JSON, with this status and code. */
function assertJsonError(res: Answer, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.match(res.type, /^application\/json/, `${what}: ${res.type} ${res.text.slice(0, 120)}`);
  assert.equal(res.json?.error?.code, code, `${what}: ${res.text.slice(0, 200)}`);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
}

const ACCEPTS: Array<[string, string | undefined]> = [
  ['Accept: */*', '*/*'],
  ['no Accept header', undefined],
];

describe(`errors for machines are JSON on ${dialectName()}`, () => {
  let app: TestApp;
  let owner: Api;
  let ownerToken: string;
  let postbackKey: string;
  let affiliateId: number;

  before(async () => {
    app = await startTestApp();
    await setupOwner(app.url);
    ownerToken = await tokenFor(app.url, OWNER.email, OWNER.password);
    owner = api(app.url, ownerToken);
    await enableIntegrations(owner);
    postbackKey = app.services.settings.get().postbackKey;
    affiliateId = created(
      await owner.post('/affiliates', { name: 'Ann', email: 'ann@example.com', refId: 'ann', status: 'approved' }),
      'affiliate',
    );
  });
  after(async () => {
    await app?.close();
  });

  describe('store webhooks (SPEC §14)', () => {
    const counts = async () => ({
      sales: Number(((await app.services.db('sales').count({ n: '*' }).first()) as { n: number | string }).n),
    });

    for (const [label, accept] of ACCEPTS) {
      test(`${label}: a wrong signature is a JSON 401 on each platform`, async () => {
        const before = await counts();
        const payload = JSON.stringify(fixture('stripe/checkout.session.completed.json'));
        const deliveries: Array<[string, Record<string, string>]> = [
          ['stripe', { 'Stripe-Signature': stripeSignature(payload, 'whsec_wrong') }],
          ['shopify', { 'X-Shopify-Topic': 'orders/paid', 'X-Shopify-Hmac-Sha256': hmacBase64(payload, 'wrong') }],
          [
            'woocommerce',
            { 'X-WC-Webhook-Topic': 'order.created', 'X-WC-Webhook-Signature': hmacBase64(payload, 'wrong') },
          ],
        ];
        for (const [platform, headers] of deliveries) {
          const res = await send(app.url, 'POST', `/integrations/${platform}/webhook`, {
            accept,
            headers: { 'content-type': 'application/json', ...headers },
            body: payload,
          });
          assertJsonError(res, 401, 'unauthorized', `${platform}, ${label}`);
          assert.doesNotMatch(res.text, /Continue to|cannot be followed/);
        }
        assert.deepEqual(await counts(), before);
      });

      test(`${label}: a signed payload missing a required field is a JSON 422 naming it`, async () => {
        const event = fixture('stripe/checkout.session.completed.json');
        event.id = `evt_missing_${accept ? 'any' : 'none'}`;
        delete event.data.object.amount_total;
        const stripe = JSON.stringify(event);
        const shopify = '{"total_price": "10.00", "currency": "USD"}';
        const deliveries: Array<[string, string, Record<string, string>, string]> = [
          ['stripe', stripe, { 'Stripe-Signature': stripeSignature(stripe) }, 'data.object.amount_total'],
          [
            'shopify',
            shopify,
            {
              'X-Shopify-Topic': 'orders/paid',
              'X-Shopify-Hmac-Sha256': hmacBase64(shopify, SECRETS.shopify),
              'X-Shopify-Webhook-Id': `missing-id-${accept ? 'any' : 'none'}`,
            },
            'id',
          ],
        ];
        for (const [platform, payload, headers, field] of deliveries) {
          const res = await send(app.url, 'POST', `/integrations/${platform}/webhook`, {
            accept,
            headers: { 'content-type': 'application/json', ...headers },
            body: payload,
          });
          assertJsonError(res, 422, 'validation_failed', `${platform}, ${label}`);
          assert.equal(res.json.error.details[0].field, field);
        }
      });

      test(`${label}: a plugin path's wrong method is a JSON 405 with Allow`, async () => {
        const res = await send(app.url, 'GET', '/integrations/stripe/webhook', { accept });
        assertJsonError(res, 405, 'method_not_allowed', 'GET webhook');
        assert.equal(res.allow, 'POST');
      });
    }

    test('with the plugin inactive, the endpoint is a JSON 404, and again JSON once it is back', async () => {
      assert.equal((await owner.patch('/plugins/integrations', { active: false })).status, 200);
      try {
        for (const [label, accept] of ACCEPTS) {
          const res = await send(app.url, 'POST', '/integrations/stripe/webhook', {
            accept,
            headers: { 'content-type': 'application/json', 'Stripe-Signature': 't=1,v1=00' },
            body: '{}',
          });
          assertJsonError(res, 404, 'not_found', `inactive, ${label}`);
        }
      } finally {
        await enableIntegrations(owner);
      }
    });
  });

  describe('a method a path does not take (405)', () => {
    const cases = (): Array<[string, string, string]> => [
      ['PUT', `/api/v1/affiliates/${affiliateId}`, 'HEAD, GET, PATCH, DELETE'],
      ['GET', '/t/click', 'POST'],
      ['GET', '/t/sale', 'POST'],
      ['POST', '/t/impression', 'HEAD, GET'],
      ['POST', '/r', 'HEAD, GET'],
      ['PUT', '/r', 'HEAD, GET'],
      ['DELETE', `/postback/${postbackKey}`, 'HEAD, GET, POST'],
      ['PUT', '/click_api/v3', 'HEAD, GET, POST'],
      ['POST', '/lp/offer', 'HEAD, GET'],
      ['PUT', '/healthz', 'HEAD, GET'],
      ['POST', '/snippet.js', 'HEAD, GET'],
    ];

    for (const [label, accept] of [...ACCEPTS, ['Accept: text/html', 'text/html'] as [string, string]]) {
      test(`${label}: the JSON error shape, code method_not_allowed, Allow kept`, async () => {
        for (const [method, path, allow] of cases()) {
          const res = await send(app.url, method, path, { accept });
          assertJsonError(res, 405, 'method_not_allowed', `${method} ${path}`);
          assert.equal(res.allow, allow, `${method} ${path}: Allow`);
          assert.match(res.json.error.message, new RegExp(`^${method} is not allowed here: use ${allow}$`));
        }
      });
    }

    test('the affiliate is still there: a PUT changed nothing', async () => {
      const res = await send(app.url, 'PUT', `/api/v1/affiliates/${affiliateId}`, {
        accept: 'application/json',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` },
        body: JSON.stringify({ name: 'Changed' }),
      });
      assertJsonError(res, 405, 'method_not_allowed', 'PUT with a body');
      assert.equal((await owner.get(`/affiliates/${affiliateId}`)).body.name, 'Ann');
    });

    test('a method Affix does not know stays a JSON 405', async () => {
      const res = await send(app.url, 'PROPFIND', '/api/v1/affiliates', { accept: '*/*' });
      assertJsonError(res, 405, 'method_not_allowed', 'PROPFIND');
    });
  });

  describe('people following links keep their pages (SPEC §13)', () => {
    for (const [label, accept] of [...ACCEPTS, ['Accept: text/html', 'text/html'] as [string, string]]) {
      test(`${label}: a link with nowhere to go and an unknown campaign URL are pages`, async () => {
        for (const path of ['/r?a_aid=nobody', '/no-such-campaign', '/lp/offer?subid=AAAAAAAAAAAAAAAAAAAAAAAA']) {
          const res = await send(app.url, 'GET', path, { accept });
          assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
          assert.match(res.type, /^text\/html/, `${path}: ${res.type}`);
          assert.match(res.text, /<!doctype html>/i);
        }
      });
    }

    test('Accept: application/json still gets JSON on those paths', async () => {
      const res = await send(app.url, 'GET', '/no-such-campaign', { accept: 'application/json' });
      assertJsonError(res, 404, 'not_found', 'unknown campaign URL');
    });

    test('an admin page asked by a browser is still the admin error page', async () => {
      const res = await send(app.url, 'GET', '/admin/no-such-page', { accept: 'text/html' });
      assert.equal(res.status, 404);
      assert.match(res.type, /^text\/html/);
      assert.match(res.text, /Back to Affix/);
    });
  });
});
