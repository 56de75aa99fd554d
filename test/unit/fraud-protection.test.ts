import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Hooks } from '../../server/plugins/hooks.js';
import { createFraudProtection } from '../../server/plugins/fraud-protection/index.js';
import { defaultSettings, type Settings } from '../../server/domain/settings.js';
import type { FraudSubject, FraudVerdict, TrafficContext } from '../../server/services/fraud.js';
import type { PluginContext } from '../../server/plugins/types.js';
import { GOOGLEBOT, CHROME } from '../helpers/http.js';

type Fraud = Settings['fraud'];
type Action = 'decline' | 'drop';

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

const errors: unknown[] = [];

/** The plugin registered on a real Hooks, as the registry does. */
async function harness() {
  const hooks = new Hooks({ error: (obj: unknown) => errors.push(obj) });
  const plugin = createFraudProtection();
  const ctx: PluginContext = {
    settings: () => ({}),
    log: { debug() {}, info() {}, warn() {}, error: (o) => errors.push(o) },
  };
  await plugin.register(hooks.forOwner(plugin.name), ctx);
  return {
    plugin,
    hooks,
    run: (
      kind: 'click' | 'sale',
      traffic: Partial<TrafficContext>,
      subject: Omit<Partial<FraudSubject>, 'fraud'> & { fraud?: Partial<Fraud> },
    ) =>
      hooks.applyFilters(
        `${kind}.fraudCheck`,
        { action: 'allow' },
        { ip: '203.0.113.5', userAgent: CHROME, referrer: null, country: null, at: T0, ...traffic },
        {
          kind,
          source: 'snippet',
          campaignId: 1,
          affiliateId: 10,
          bannerId: null,
          visitorId: 'visitor-0123456789abcdef',
          ...subject,
          fraud: { ...defaultSettings('k'.repeat(32)).fraud, ...subject.fraud },
        },
      ),
  };
}

function assertVerdict(v: FraudVerdict, action: FraudVerdict['action'], rule?: string, reason?: RegExp): void {
  assert.equal(v.action, action, JSON.stringify(v));
  if (v.action !== 'allow') {
    if (rule) assert.equal(v.rule, rule);
    if (reason) assert.match(v.reason, reason);
  }
}

const ACTIONS: Action[] = ['decline', 'drop'];

describe('fraud-protection plugin (SPEC §5.5)', () => {
  test('registers filters for click.fraudCheck and sale.fraudCheck, owned by the plugin', async () => {
    const { hooks, plugin } = await harness();
    assert.equal(plugin.name, 'fraud-protection');
    assert.equal(hooks.count('click.fraudCheck'), 1);
    assert.equal(hooks.count('sale.fraudCheck'), 1);
    hooks.removeOwner('fraud-protection');
    assert.equal(hooks.has('click.fraudCheck'), false);
  });

  test('an ordinary click from a browser is allowed with the default settings', async () => {
    const { run } = await harness();
    assertVerdict(await run('click', {}, {}), 'allow');
    assertVerdict(await run('sale', {}, { kind: 'sale' }), 'allow');
  });

  test('a verdict already made by an earlier filter is kept', async () => {
    const { hooks } = await harness();
    const earlier: FraudVerdict = { action: 'drop', rule: 'custom', reason: 'another plugin' };
    const v = await hooks.applyFilters(
      'click.fraudCheck',
      earlier,
      { ip: '203.0.113.5', userAgent: GOOGLEBOT, referrer: null, country: null, at: T0 },
      {
        kind: 'click',
        source: 'snippet',
        campaignId: 1,
        affiliateId: null,
        visitorId: null,
        fraud: defaultSettings('k'.repeat(32)).fraud,
      },
    );
    assert.deepEqual(v, earlier);
  });

  for (const action of ACTIONS) {
    describe(`action ${action}`, () => {
      test('blocked IP address', async () => {
        const { run } = await harness();
        const fraud = { blockedIps: ['198.51.100.7', '2001:db8::1'], blockedIpsAction: action };
        assertVerdict(
          await run('click', { ip: '198.51.100.7' }, { fraud }),
          action,
          'blockedIps',
          /198\.51\.100\.7 is blocked/,
        );
        assertVerdict(await run('click', { ip: '198.51.100.8' }, { fraud }), 'allow');
        assertVerdict(await run('click', { ip: '2001:db8::1' }, { fraud }), action, 'blockedIps');
        assertVerdict(await run('click', { ip: '2001:db8::2' }, { fraud }), 'allow');
        assertVerdict(await run('sale', { ip: '198.51.100.7' }, { kind: 'sale', fraud }), action, 'blockedIps');
      });

      test('blocked CIDR range, also for an IPv4-mapped IPv6 address', async () => {
        const { run } = await harness();
        const fraud = { blockedIps: ['10.0.0.0/8', '192.168.4.0/24', '2001:db8:abcd::/48'], blockedIpsAction: action };
        for (const ip of [
          '10.1.2.3',
          '10.255.255.255',
          '192.168.4.200',
          '::ffff:10.9.8.7',
          '::FFFF:192.168.4.1',
          '2001:db8:abcd:12::5',
        ]) {
          assertVerdict(await run('click', { ip }, { fraud }), action, 'blockedIps', undefined);
        }
        for (const ip of ['11.0.0.1', '192.168.5.1', '::ffff:11.0.0.1', '2001:db8:abce::1', '', 'not-an-ip']) {
          assertVerdict(await run('click', { ip }, { fraud }), 'allow');
        }
      });

      test('blocked country', async () => {
        const { run } = await harness();
        const fraud = { blockedCountries: ['RU', 'KP'], blockedCountriesAction: action };
        assertVerdict(await run('click', { country: 'RU' }, { fraud }), action, 'blockedCountries', /country RU/);
        assertVerdict(await run('sale', { country: 'KP' }, { kind: 'sale', fraud }), action, 'blockedCountries');
        assertVerdict(await run('click', { country: 'DE' }, { fraud }), 'allow');
        assertVerdict(await run('click', { country: null }, { fraud }), 'allow');
      });

      test('bot user agent (Googlebot) vs a normal Chrome user agent', async () => {
        const { run } = await harness();
        const fraud = { bots: true, botsAction: action };
        assertVerdict(await run('click', { userAgent: GOOGLEBOT }, { fraud }), action, 'bots', /bot/);
        assertVerdict(await run('click', { userAgent: 'curl/8.5.0' }, { fraud }), action, 'bots');
        assertVerdict(await run('click', { userAgent: CHROME }, { fraud }), 'allow');
        assertVerdict(
          await run('click', { userAgent: GOOGLEBOT }, { fraud: { bots: false, botsAction: action } }),
          'allow',
        );
      });

      test('referrer deny list (case-insensitive substring)', async () => {
        const { run } = await harness();
        const fraud = { refererDeny: ['spam-traffic.example', 'CheapClicks'], refererDenyAction: action };
        assertVerdict(
          await run('click', { referrer: 'https://www.spam-traffic.example/page' }, { fraud }),
          action,
          'refererDeny',
          /spam-traffic/,
        );
        assertVerdict(await run('click', { referrer: 'http://cheapclicks.biz/' }, { fraud }), action, 'refererDeny');
        assertVerdict(await run('click', { referrer: 'https://blog.example/review' }, { fraud }), 'allow');
        assertVerdict(await run('click', { referrer: null }, { fraud }), 'allow');
      });

      test('duplicate clicks from one IP within N seconds', async () => {
        const { run } = await harness();
        const fraud = { duplicateClickSeconds: 10, duplicateClickAction: action };
        const ip = '203.0.113.50';
        assertVerdict(await run('click', { ip, at: T0 }, { fraud }), 'allow');
        assertVerdict(await run('click', { ip, at: T0 + 5_000 }, { fraud }), action, 'duplicateClick', /within 10 s/);
        assertVerdict(await run('click', { ip: '203.0.113.51', at: T0 + 5_000 }, { fraud }), 'allow');
        // The window runs from the last click seen.
        assertVerdict(await run('click', { ip, at: T0 + 14_000 }, { fraud }), action, 'duplicateClick');
        assertVerdict(await run('click', { ip, at: T0 + 25_000 }, { fraud }), 'allow');
        // 0 switches the rule off.
        assertVerdict(
          await run(
            'click',
            { ip, at: T0 + 25_001 },
            { fraud: { duplicateClickSeconds: 0, duplicateClickAction: action } },
          ),
          'allow',
        );
      });

      test('duplicate clicks per banner', async () => {
        const { run } = await harness();
        const fraud = { duplicateClickSeconds: 10, duplicateClickPerBanner: true, duplicateClickAction: action };
        const ip = '203.0.113.60';
        assertVerdict(await run('click', { ip, at: T0 }, { bannerId: 1, fraud }), 'allow');
        assertVerdict(await run('click', { ip, at: T0 + 1000 }, { bannerId: 2, fraud }), 'allow');
        assertVerdict(await run('click', { ip, at: T0 + 2000 }, { bannerId: 1, fraud }), action, 'duplicateClick');
        assertVerdict(await run('click', { ip, at: T0 + 3000 }, { bannerId: 2, fraud }), action, 'duplicateClick');
      });

      test('self-referral: the customer is the affiliate (by email)', async () => {
        const { run } = await harness();
        const fraud = { selfReferral: true, selfReferralAction: action };
        const sale = { kind: 'sale' as const, affiliateEmail: 'Ann@Example.com', fraud };
        assertVerdict(
          await run('sale', {}, { ...sale, customerId: ' ann@example.com ' }),
          action,
          'selfReferral',
          /referring affiliate/,
        );
        assertVerdict(await run('sale', {}, { ...sale, customerId: 'bob@example.com' }), 'allow');
        assertVerdict(await run('sale', {}, { ...sale, customerId: null }), 'allow');
        assertVerdict(await run('sale', {}, { ...sale, affiliateEmail: null, customerId: 'ann@example.com' }), 'allow');
        assertVerdict(
          await run(
            'sale',
            {},
            { ...sale, customerId: 'ann@example.com', fraud: { selfReferral: false, selfReferralAction: action } },
          ),
          'allow',
        );
      });

      test('duplicate order from one IP within N seconds', async () => {
        const { run } = await harness();
        const fraud = { duplicateOrderSeconds: 60, duplicateOrderAction: action };
        const ip = '203.0.113.70';
        assertVerdict(await run('sale', { ip, at: T0 }, { kind: 'sale', orderId: 'A-1', fraud }), 'allow');
        assertVerdict(
          await run('sale', { ip, at: T0 + 30_000 }, { kind: 'sale', orderId: 'A-2', fraud }),
          action,
          'duplicateOrder',
          /within 60 s/,
        );
        assertVerdict(
          await run('sale', { ip: '203.0.113.71', at: T0 + 30_000 }, { kind: 'sale', orderId: 'A-3', fraud }),
          'allow',
        );
        assertVerdict(await run('sale', { ip, at: T0 + 200_000 }, { kind: 'sale', orderId: 'A-4', fraud }), 'allow');
      });

      test('duplicate order: storefront orders only, one shopper (IP plus customer, else visitor)', async () => {
        const { run } = await harness();
        const fraud = { duplicateOrderSeconds: 60, duplicateOrderAction: action };
        const ip = '203.0.113.80';
        const order = (at: number, extra: Partial<FraudSubject>) =>
          run('sale', { ip, at }, { kind: 'sale', orderId: `B-${at}`, fraud, ...extra });
        assertVerdict(await order(T0, { visitorId: 'visitor-one-0000000000' }), 'allow');
        assertVerdict(await order(T0 + 1, { visitorId: 'visitor-two-0000000000' }), 'allow');
        assertVerdict(await order(T0 + 2, { visitorId: 'visitor-one-0000000000' }), action, 'duplicateOrder');
        assertVerdict(await order(T0 + 3, { visitorId: 'visitor-one-0000000000', customerId: 'c-9' }), 'allow');
        assertVerdict(await order(T0 + 4, { visitorId: null, customerId: 'c-9' }), action, 'duplicateOrder');
        for (const source of ['api', 'postback'] as const) {
          assertVerdict(await order(T0 + 5, { source, visitorId: null }), 'allow');
          assertVerdict(await order(T0 + 6, { source, visitorId: null }), 'allow');
        }
      });
    });
  }

  test('click-only rules do not apply to sales', async () => {
    const { run } = await harness();
    const fraud = { bots: true, refererDeny: ['bad.example'], duplicateClickSeconds: 10 };
    assertVerdict(
      await run('sale', { userAgent: GOOGLEBOT, referrer: 'https://bad.example' }, { kind: 'sale', fraud }),
      'allow',
    );
    assertVerdict(await run('sale', { userAgent: GOOGLEBOT }, { kind: 'sale', fraud }), 'allow');
  });

  test('each rule has its own action', async () => {
    const { run } = await harness();
    const fraud: Partial<Fraud> = {
      blockedIps: ['198.51.100.0/24'],
      blockedIpsAction: 'drop',
      bots: true,
      botsAction: 'decline',
    };
    assertVerdict(await run('click', { ip: '198.51.100.1', userAgent: GOOGLEBOT }, { fraud }), 'drop', 'blockedIps');
    assertVerdict(await run('click', { ip: '203.0.113.1', userAgent: GOOGLEBOT }, { fraud }), 'decline', 'bots');
  });

  test('no plugin error was logged', () => {
    assert.deepEqual(errors, []);
  });
});
