import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/*
 * A small demo store that embeds the Affix snippet on every page: products, a cart kept in
 * memory per visitor cookie, a coupon field, and a thank-you page that reports the sale with
 * the real cart contents. Plain server-rendered HTML; amounts are integer cents.
 */

export interface Product {
  id: string;
  name: string;
  category: string;
  /** Price in cents. */
  price: number;
  blurb: string;
}

export const PRODUCTS: readonly Product[] = [
  { id: 'shoe-trail', name: 'Trail runner', category: 'shoes', price: 8990, blurb: 'Grippy soles for muddy paths.' },
  {
    id: 'shoe-city',
    name: 'City sneaker',
    category: 'shoes',
    price: 6450,
    blurb: 'Light, white, goes with everything.',
  },
  {
    id: 'book-affiliate',
    name: 'The Affiliate Handbook',
    category: 'books',
    price: 2400,
    blurb: 'Links, cookies and commissions explained.',
  },
  { id: 'mug-coffee', name: 'Coffee mug', category: 'kitchen', price: 1200, blurb: 'Holds exactly one large coffee.' },
];

export interface DemoStoreOptions {
  /** The Affix origin that serves /snippet.js, e.g. http://localhost:3000. */
  trackerUrl: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  currency?: string;
  /** Coupon codes the store honours, with their discount in percent (codes are case-insensitive). */
  discounts?: Record<string, number>;
}

interface OrderLine {
  product: Product;
  quantity: number;
  /** Line total in cents, after any discount. */
  total: number;
}

export interface Order {
  orderId: string;
  lines: OrderLine[];
  total: number;
  coupon: string | null;
  currency: string;
}

const CART_COOKIE = 'demo_cart';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

/** JSON that is safe inside an inline <script>. */
const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

function cookieOf(req: Request, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The sale call of SPEC §4.1 for an order. */
export function saleData(order: Order) {
  return {
    orderId: order.orderId,
    totalCost: order.total / 100,
    currency: order.currency,
    productId: order.lines[0]?.product.id,
    ...(order.coupon ? { coupon: order.coupon } : {}),
    items: order.lines.map((l) => ({
      productId: l.product.id,
      category: l.product.category,
      totalCost: l.total / 100,
      quantity: l.quantity,
    })),
  };
}

export function createDemoStore(opts: DemoStoreOptions): Promise<Server> {
  const tracker = opts.trackerUrl.replace(/\/+$/, '');
  const currency = opts.currency ?? 'USD';
  const discounts = new Map(Object.entries(opts.discounts ?? { SPRING: 10 }).map(([k, v]) => [k.toUpperCase(), v]));
  const carts = new Map<string, Map<string, number>>();
  const orders = new Map<string, Order>();
  let orderNumber = 1000;

  /** The visitor's cart; a new one (and its cookie) only when something is added. */
  const cartOf = (req: Request, res: Response, create = false): Map<string, number> => {
    const id = cookieOf(req, CART_COOKIE);
    const existing = id ? carts.get(id) : undefined;
    if (existing || !create) return existing ?? new Map();
    const newId = randomBytes(12).toString('base64url');
    const cart = new Map<string, number>();
    carts.set(newId, cart);
    res.cookie(CART_COOKIE, newId, { httpOnly: true, sameSite: 'lax', path: '/' });
    return cart;
  };
  const count = (cart: Map<string, number>) => [...cart.values()].reduce((a, b) => a + b, 0);

  const page = (title: string, cart: Map<string, number>, body: string, script = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Affix demo store</title>
<style>
body{font-family:system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:1rem;color:#222}
header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd;margin-bottom:1rem}
.products{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:1rem}
.product{border:1px solid #ddd;border-radius:.5rem;padding:1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.4rem;text-align:left}
button{cursor:pointer}
</style>
<script async src="${escapeHtml(tracker)}/snippet.js"></script>
<script>window.affix = window.affix || function () { (affix.q = affix.q || []).push(arguments) };</script>
${script}
</head>
<body>
<header><h1><a href="/">Demo store</a></h1><nav><a href="/">Products</a> · <a href="/cart">Cart (<span data-cart-count>${count(cart)}</span>)</a></nav></header>
<main>
${body}
</main>
</body>
</html>`;

  const addForm = (p: Product) =>
    `<form method="post" action="/cart/add" data-product="${escapeHtml(p.id)}"><input type="hidden" name="productId" value="${escapeHtml(p.id)}"><button type="submit">Add to cart</button></form>`;

  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '10kb' }));

  app.get('/', (req, res) => {
    const cart = cartOf(req, res);
    const cards = PRODUCTS.map(
      (p) => `<article class="product"><h2><a href="/product/${encodeURIComponent(p.id)}">${escapeHtml(p.name)}</a></h2>
<p>${escapeHtml(p.blurb)}</p><p><strong>${money(p.price, currency)}</strong></p>${addForm(p)}</article>`,
    ).join('\n');
    res.type('html').send(page('Products', cart, `<section class="products">${cards}</section>`));
  });

  app.get('/product/:id', (req, res) => {
    const cart = cartOf(req, res);
    const p = PRODUCTS.find((x) => x.id === req.params.id);
    if (!p) {
      res
        .status(404)
        .type('html')
        .send(page('Not found', cart, '<p>No such product.</p>'));
      return;
    }
    res
      .type('html')
      .send(
        page(
          p.name,
          cart,
          `<h2>${escapeHtml(p.name)}</h2><p>${escapeHtml(p.blurb)}</p><p><strong>${money(p.price, currency)}</strong></p>${addForm(p)}`,
        ),
      );
  });

  app.post('/cart/add', (req, res) => {
    const cart = cartOf(req, res, true);
    const id = typeof req.body?.productId === 'string' ? req.body.productId : '';
    if (PRODUCTS.some((p) => p.id === id)) cart.set(id, (cart.get(id) ?? 0) + 1);
    res.redirect(303, '/cart');
  });

  app.post('/cart/remove', (req, res) => {
    const cart = cartOf(req, res);
    if (typeof req.body?.productId === 'string') cart.delete(req.body.productId);
    res.redirect(303, '/cart');
  });

  app.get('/cart', (req, res) => {
    const cart = cartOf(req, res);
    if (!cart.size) {
      res
        .type('html')
        .send(
          page(
            'Cart',
            cart,
            '<h2>Your cart</h2><p class="empty">Your cart is empty. <a href="/">Browse the products</a>.</p>',
          ),
        );
      return;
    }
    let total = 0;
    const rows = [...cart].map(([id, quantity]) => {
      const p = PRODUCTS.find((x) => x.id === id) as Product;
      total += p.price * quantity;
      return `<tr><td>${escapeHtml(p.name)}</td><td>${quantity}</td><td>${money(p.price * quantity, currency)}</td>
<td><form method="post" action="/cart/remove"><input type="hidden" name="productId" value="${escapeHtml(p.id)}"><button type="submit">Remove</button></form></td></tr>`;
    });
    res.type('html').send(
      page(
        'Cart',
        cart,
        `<h2>Your cart</h2>
<table><thead><tr><th>Product</th><th>Quantity</th><th>Total</th><th></th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p>Total: <strong data-total>${money(total, currency)}</strong></p>
<form method="post" action="/checkout">
<label for="coupon">Coupon code</label> <input id="coupon" name="coupon" autocomplete="off" maxlength="64">
<button type="submit">Place order</button>
</form>`,
      ),
    );
  });

  app.post('/checkout', (req, res) => {
    const cart = cartOf(req, res);
    if (!cart.size) {
      res.redirect(303, '/cart');
      return;
    }
    const coupon = typeof req.body?.coupon === 'string' ? req.body.coupon.trim().slice(0, 64) : '';
    const percent = discounts.get(coupon.toUpperCase()) ?? 0;
    const lines: OrderLine[] = [...cart].map(([id, quantity]) => {
      const product = PRODUCTS.find((x) => x.id === id) as Product;
      return { product, quantity, total: Math.round((product.price * quantity * (100 - percent)) / 100) };
    });
    const orderId = `D-${++orderNumber}-${randomBytes(3).toString('hex')}`;
    orders.set(orderId, {
      orderId,
      lines,
      total: lines.reduce((a, l) => a + l.total, 0),
      coupon: coupon || null,
      currency,
    });
    cart.clear();
    res.redirect(303, `/thank-you/${encodeURIComponent(orderId)}`);
  });

  app.get('/thank-you/:orderId', (req, res) => {
    const cart = cartOf(req, res);
    const order = orders.get(req.params.orderId);
    if (!order) {
      res
        .status(404)
        .type('html')
        .send(page('Not found', cart, '<p>No such order.</p>'));
      return;
    }
    const rows = order.lines
      .map(
        (l) =>
          `<tr><td>${escapeHtml(l.product.name)}</td><td>${l.quantity}</td><td>${money(l.total, currency)}</td></tr>`,
      )
      .join('\n');
    res.type('html').send(
      page(
        'Thank you',
        cart,
        `<h2>Thank you for your order</h2>
<p>Order <strong data-order-id="${escapeHtml(order.orderId)}">${escapeHtml(order.orderId)}</strong>${order.coupon ? ` with coupon <code>${escapeHtml(order.coupon)}</code>` : ''}.</p>
<table><tbody>${rows}</tbody></table>
<p>Total paid: <strong>${money(order.total, currency)}</strong></p>
<p><a href="/">Continue shopping</a></p>`,
        `<script>affix('sale', ${scriptJson(saleData(order))});</script>`,
      ),
    );
  });

  return new Promise((resolve, reject) => {
    const server = app.listen(opts.port, opts.host ?? '127.0.0.1');
    server.once('error', reject);
    server.once('listening', () => resolve(server));
  });
}

export const storePort = (server: Server) => (server.address() as AddressInfo).port;

// `tsx storefront-snippet/demo/server.ts` runs the store alone against TRACKER_URL.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const trackerUrl = process.env.TRACKER_URL ?? 'http://localhost:3000';
  const port = Number(process.env.STORE_PORT ?? 3100);
  createDemoStore({ trackerUrl, port, host: '0.0.0.0' }).then(
    () => process.stdout.write(`Demo store on http://localhost:${port} (tracker ${trackerUrl})\n`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
