import { form } from './render.js';
import { valueAt } from './form-values.js';
import type { Affiliate } from '../../store/affiliates.js';

type Body = Record<string, unknown>;

/** The profile form's values as the page shows them (the details of every method, flat). */
export interface ProfileFormValues {
  website: string;
  promotionMethod: string;
  taxId: string;
  payoutMethod: string;
  paypalEmail: string;
  accountName: string;
  iban: string;
  bic: string;
  payoutText: string;
}

export function profileValues(a: Affiliate): ProfileFormValues {
  const d = a.payoutDetails ?? {};
  return {
    website: a.website ?? '',
    promotionMethod: a.promotionMethod ?? '',
    taxId: a.taxId ?? '',
    payoutMethod: a.payoutMethod ?? '',
    paypalEmail: d.paypalEmail ?? '',
    accountName: d.accountName ?? '',
    iban: d.iban ?? '',
    bic: d.bic ?? '',
    payoutText: d.text ?? '',
  };
}

export function profileValuesFromBody(body: Body): ProfileFormValues {
  const t = (field: string) => form.text(valueAt(body, field)) ?? '';
  return {
    website: t('website'),
    promotionMethod: t('promotionMethod'),
    taxId: t('taxId'),
    payoutMethod: t('payoutMethod'),
    paypalEmail: t('paypalEmail'),
    accountName: t('accountName'),
    iban: t('iban'),
    bic: t('bic'),
    payoutText: t('payoutText'),
  };
}

/**
 * The posted profile form as the API's JSON shape: only the chosen method's detail fields are
 * sent (a form shows them all), empty text is null, no method means no details.
 */
export function profileInputFromForm(v: ProfileFormValues): Record<string, unknown> {
  const method = v.payoutMethod || null;
  const pick = (entries: Array<[string, string]>) => {
    const out: Record<string, string> = {};
    for (const [k, val] of entries) if (val) out[k] = val;
    return Object.keys(out).length ? out : null;
  };
  const details =
    method === 'paypal'
      ? pick([['paypalEmail', v.paypalEmail]])
      : method === 'bank'
        ? pick([
            ['accountName', v.accountName],
            ['iban', v.iban],
            ['bic', v.bic],
          ])
        : method === 'other'
          ? pick([['text', v.payoutText]])
          : null;
  return {
    website: v.website || null,
    promotionMethod: v.promotionMethod || null,
    taxId: v.taxId || null,
    payoutMethod: method,
    payoutDetails: details,
  };
}
