import { startTestApp } from '../test/helpers/app.js';
import { systemActor } from '../server/services/actor.js';
const app = await startTestApp();
const s = app.services;
const c = await s.campaigns.create({ name: 'T', alias: 'bench', flowRotation: 'weight', costModel: 'CPC', costValue: 500 }, systemActor);
await s.flows.create(c.id, { name: 'DE', type: 'forced', filters: [{ name: 'country', mode: 'is', values: ['DE'] }, { name: 'device', mode: 'is', values: ['mobile'] }], schema: 'redirect', url: 'https://o/?s={subid}' }, systemActor);
for (const [n, w] of [['A', 70], ['B', 30]] as const) await s.flows.create(c.id, { name: n, type: 'regular', weight: w, filters: [{ name: 'bot', mode: 'is_not', values: [] }], schema: 'landings_offers', landings: [{ url: `https://lp/${n}?s={subid}`, weight: 1 }], offers: [{ url: 'https://o/', weight: 1 }] }, systemActor);
const aff = await s.affiliates.create({ name: 'A', email: 'a@x.com', refId: 'bench' }, systemActor);
const camp = await s.campaigns.create({ name: 'S', productIds: ['sku-1'], approval: 'auto' }, systemActor);
await s.payouts.create(camp.id, { kind: 'general', title: '10', type: 'CPS', affiliateCommission: { value: 100000, unit: 'percent' } }, systemActor);
const mode = process.argv[2] ?? 'alias';
const N = 10000;
let i = 0;
const t0 = performance.now();
async function worker() {
  while (i < N) {
    const k = i++;
    if (mode === 'alias') {
      const snap = await s.cache.snapshot();
      const { campaign } = s.runner.resolve(snap, '127.0.0.1', 'bench');
      await s.runner.run(campaign!, { ip: `10.0.${k % 250}.${k % 200}`, userAgent: 'Mozilla/5.0 (Windows NT 10.0) Chrome/120', acceptLanguage: 'en', referrer: null, params: { sub_id_1: 'z' }, uniquenessCookie: null }, snap);
    } else {
      await s.sales.record({ kind: 'sale', body: { orderId: `o${k}`, totalCost: 100, productId: 'sku-1' }, signed: false, ip: '1.2.3.4', userAgent: 'x', cookieVisitorId: null, source: 'snippet' });
    }
  }
}
await Promise.all(Array.from({ length: 50 }, worker));
const ms = performance.now() - t0;
console.log(`${mode}: ${N} in ${ms.toFixed(0)} ms → ${(N / ms * 1000).toFixed(0)}/s`);
await app.close();
