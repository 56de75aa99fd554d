import { BlockList, isIP } from 'node:net';
import { isbot } from 'isbot';
import type { AffixPlugin } from '../types.js';
import type { FraudSubject, FraudVerdict, TrafficContext } from '../../services/fraud.js';
import type { Settings } from '../../domain/settings.js';
import { MemorySharedStore, SharedState } from '../../services/shared-state.js';

type FraudSettings = Settings['fraud'];

/** A BlockList of the configured IPs and CIDR ranges, rebuilt when the list changes. */
function blockListOf(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : null;
    if (!family) continue;
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

const plainIp = (ip: string) => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/**
 * Fraud protection (SPEC §5.5). Its rules and their actions are the global `fraud.*` settings
 * (admin Settings page); each rule declines (stored as declined with the reason) or drops (not
 * stored; counted). Duplicate clicks and orders are remembered in the shared state (SPEC §16):
 * Redis or the database, so a repeat is caught whichever process the first one reached.
 */
export function createFraudProtection(shared: SharedState = new SharedState(new MemorySharedStore())): AffixPlugin {
  let cached: { key: string; list: BlockList } | null = null;
  const blocked = (f: FraudSettings, ip: string) => {
    const key = f.blockedIps.join(',');
    if (cached?.key !== key) cached = { key, list: blockListOf(f.blockedIps) };
    const address = plainIp(ip);
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return isIP(address) !== 0 && cached.list.check(address, family);
  };

  const check = async (t: TrafficContext, s: FraudSubject): Promise<FraudVerdict> => {
    const f = s.fraud;
    const verdict = (rule: string, action: FraudSettings['botsAction'], reason: string): FraudVerdict => ({
      action,
      rule,
      reason,
    });
    if (f.blockedIps.length && blocked(f, t.ip))
      return verdict('blockedIps', f.blockedIpsAction, `IP ${t.ip} is blocked`);
    if (f.blockedCountries.length && t.country && f.blockedCountries.includes(t.country)) {
      return verdict('blockedCountries', f.blockedCountriesAction, `country ${t.country} is blocked`);
    }
    if (s.kind === 'click') {
      if (f.bots && t.userAgent && isbot(t.userAgent)) return verdict('bots', f.botsAction, 'the user agent is a bot');
      if (f.refererDeny.length && t.referrer) {
        const ref = t.referrer.toLowerCase();
        const hit = f.refererDeny.find((p) => ref.includes(p.toLowerCase()));
        if (hit) return verdict('refererDeny', f.refererDenyAction, `referrer matches "${hit}"`);
      }
      if (f.duplicateClickSeconds > 0) {
        const key = f.duplicateClickPerBanner ? `${t.ip}|${s.bannerId ?? ''}` : t.ip;
        const previous = await shared.touch('click', key, t.at, f.duplicateClickSeconds * 1000);
        if (previous !== undefined && t.at - previous < f.duplicateClickSeconds * 1000) {
          return verdict(
            'duplicateClick',
            f.duplicateClickAction,
            `repeated click from ${t.ip} within ${f.duplicateClickSeconds} s`,
          );
        }
      }
    } else {
      if (
        f.selfReferral &&
        s.affiliateEmail &&
        s.customerId &&
        s.customerId.trim().toLowerCase() === s.affiliateEmail.toLowerCase()
      ) {
        return verdict('selfReferral', f.selfReferralAction, 'the customer is the referring affiliate');
      }
      // Repeated orders are a storefront pattern: one shopper (IP plus customer, else visitor)
      // ordering again. Server-to-server sales come from the store's own address and postback
      // sales carry none, so they are never compared.
      if (f.duplicateOrderSeconds > 0 && s.source === 'snippet') {
        const shopper = s.customerId ?? s.visitorId ?? '';
        const previous = await shared.touch('order', `${t.ip}|${shopper}`, t.at, f.duplicateOrderSeconds * 1000);
        if (previous !== undefined && t.at - previous < f.duplicateOrderSeconds * 1000) {
          return verdict(
            'duplicateOrder',
            f.duplicateOrderAction,
            `another order from ${t.ip} within ${f.duplicateOrderSeconds} s`,
          );
        }
      }
    }
    return { action: 'allow' };
  };

  return {
    name: 'fraud-protection',
    title: 'Fraud protection',
    description:
      'Declines or drops clicks and sales from blocked IPs and countries, bots, denied referrers, repeated clicks, self-referrals and repeated orders. Configure the rules under Settings → Fraud protection.',
    register(hooks) {
      for (const kind of ['click', 'sale'] as const) {
        hooks.addFilter(`${kind}.fraudCheck`, (current, traffic, subject) =>
          current.action === 'allow' ? check(traffic, subject) : current,
        );
      }
    },
  };
}
