import type { Knex } from 'knex';
import type { ConfigCache } from './config-cache.js';
import { clickMacros, fillMacros } from '../domain/macros.js';
import { pickWeighted } from '../domain/flows.js';
import { parseJson } from '../store/rows.js';
import { clickBySubid, setClickOffer } from '../store/clicks.js';
import { URL_LENGTH, clip } from '../domain/limits.js';
import { dayIn } from '../domain/time.js';
import { asUnits } from '../domain/money.js';

/**
 * The landing → offer step (SPEC §7.2): `GET /lp/offer?subid=…` keeps the click of the landing
 * page, picks (or keeps, when bound) its offer, records which offer and when, and answers the
 * offer URL with macros filled.
 */
export class LandingOffers {
  constructor(
    private readonly db: Knex,
    private readonly cache: ConfigCache,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  async offerFor(subid: string): Promise<string | null> {
    if (!/^[A-Za-z0-9_-]{8,32}$/.test(subid)) return null;
    const click = await clickBySubid(this.db, subid);
    if (!click || click.flow_id === null) return null;
    const snap = await this.cache.snapshot();
    const flow = (snap.flows.get(click.campaign_id) ?? []).find((f) => f.id === click.flow_id);
    if (!flow || !flow.offers.length) return null;
    let index = click.offer_index !== null && flow.offers[click.offer_index] ? click.offer_index : null;
    if (index === null)
      index =
        pickWeighted(
          flow.offers.map((o, i) => ({ ...o, i })),
          this.random,
        )?.i ?? null;
    if (index === null) return null;
    const offer = flow.offers[index]!;
    const url = fillMacros(
      offer.url,
      clickMacros({
        subid,
        campaignId: click.campaign_id,
        flowId: click.flow_id,
        affiliateId: click.affiliate_id,
        source: click.source_id ? (snap.sources.get(click.source_id)?.name ?? null) : null,
        cost: asUnits(Number(click.cost)),
        country: click.country,
        ip: click.ip,
        externalId: click.external_id,
        subIds: parseJson<Record<string, string>>(click.sub_ids, {}),
        keitaro: {
          campaignName: snap.campaigns.get(click.campaign_id)?.name ?? null,
          os: click.os,
          browser: click.browser,
          language: click.language,
          referrer: click.referrer,
          keyword: parseJson<Record<string, string>>(click.sub_ids, {}).keyword ?? null,
          landingIndex: click.landing_index,
          offerIndex: index,
          date: dayIn(this.clock(), snap.settings.timezone),
          random: this.random,
          userAgent: click.user_agent,
          deviceType: click.device,
        },
      }),
    );
    await setClickOffer(this.db, click.id, {
      offer_index: index,
      offer_url: clip(url, URL_LENGTH),
      offer_at: this.clock(),
    });
    return url;
  }
}
