import { isIP } from 'node:net';
import { z } from 'zod';
import { DEVICE_TYPES, FILTER_NAMES } from '../domain/flows.js';
import { httpUrl, id, optionalHttpUrl, optionalText, shortText } from '../validation.js';
import { KEY_LENGTH, TEXT_BYTES, fitsText } from '../domain/limits.js';

/*
 * Request bodies for the traffic objects of SPEC §7: domains, sources, groups and flows, strict
 * at every depth (SPEC §10a). As in programme.ts, top-level fields carry no defaults so one
 * shape serves create and PATCH; rules that join several fields (a flow's schema and its URLs)
 * are checked by the service on the merged object, so a PATCH is judged by what the flow will be.
 */

export const SOURCE_PARAM_KEYS = [
  ...Array.from({ length: 15 }, (_, i) => `sub_id_${i + 1}`),
  'cost',
  'currency',
  'external_id',
] as const;

export const FLOW_TYPES = ['forced', 'regular', 'default'] as const;
export const FLOW_STATUSES = ['active', 'paused'] as const;
export const FILTER_MODES = ['is', 'is_not'] as const;
export const FILTERS_MODES = ['and', 'or'] as const;
export const FLOW_SCHEMAS = ['landings_offers', 'redirect', 'action'] as const;
export const FLOW_ACTIONS = ['not_found', 'do_nothing', 'show_text'] as const;
/** Scopes of the `uniqueness` filter (empty = campaign). */
export const UNIQUENESS_SCOPES = ['campaign', 'flow', 'global'] as const;

/** TEXT columns hold 65,535 bytes on MySQL (fitsText): refuse more so both databases answer 422. */
export { fitsText };

// ---- domains ------------------------------------------------------------------------------

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** "track.example.com", "track.example.com:8080", "203.0.113.5", "[2001:db8::1]:8443". */
export function validHost(host: string): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return false;
  const name = m[1] ?? '';
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65_535)) return false;
  if (name.startsWith('[')) return isIP(name.slice(1, -1)) === 6;
  if (/^[\d.]+$/.test(name)) return isIP(name) === 4;
  return name.split('.').every((label) => LABEL.test(label));
}

export const hostName = z
  .string()
  .trim()
  .toLowerCase()
  // People paste URLs: keep the host of "https://track.example.com/".
  .transform((v) => v.replace(/^https?:\/\//, '').replace(/\/$/, ''))
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`)
      .refine(
        validHost,
        'must be a host name such as track.example.com, optionally with a port (track.example.com:8080)',
      ),
  );

export const domainFields = z.strictObject({
  host: hostName,
  parkedCampaignId: id.nullable(),
});
export const domainCreate = domainFields.partial().required({ host: true });
export const domainPatch = domainFields.partial();
export type DomainCreate = z.infer<typeof domainCreate>;
export type DomainPatch = z.infer<typeof domainPatch>;

// ---- sources ------------------------------------------------------------------------------

const paramName = z
  .string()
  .trim()
  .max(64, 'at most 64 characters')
  .regex(/^[A-Za-z0-9_.\-[\]]*$/, 'must be a URL parameter name (letters, digits, "_", "-", ".", "[", "]")');

const KNOWN_PARAMS = new Set<string>(SOURCE_PARAM_KEYS);

/** `{ sub_id_1: 'zoneid', cost: 'cost' }`; empty names are dropped; unknown keys are named. */
export const sourceParams = z
  .record(z.string(), paramName.nullable())
  .superRefine((params, ctx) => {
    for (const key of Object.keys(params)) {
      if (!KNOWN_PARAMS.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `unknown parameter "${key.slice(0, 40)}"; use sub_id_1 … sub_id_15, cost, currency or external_id`,
        });
      }
    }
  })
  .transform((params) => {
    const out: Record<string, string> = {};
    for (const key of SOURCE_PARAM_KEYS) {
      const v = params[key];
      if (v) out[key] = v;
    }
    return out;
  });

export const sourceFields = z.strictObject({
  name: shortText(),
  params: sourceParams,
  postbackUrl: optionalHttpUrl,
  archived: z.boolean(),
});
export const sourceCreate = sourceFields.partial().required({ name: true });
export const sourcePatch = sourceFields.partial();
export type SourceCreate = z.infer<typeof sourceCreate>;
export type SourcePatch = z.infer<typeof sourcePatch>;

// ---- groups -------------------------------------------------------------------------------

export const groupFields = z.strictObject({ name: shortText() });
export const groupCreate = groupFields;
export const groupPatch = groupFields.partial();
export type GroupCreate = z.infer<typeof groupCreate>;
export type GroupPatch = z.infer<typeof groupPatch>;

// ---- flows --------------------------------------------------------------------------------

/** An IP address or a CIDR range whose prefix fits the address family. */
export function validIpOrCidr(value: string): boolean {
  const [base = '', bits, extra] = value.split('/');
  if (extra !== undefined) return false;
  const family = isIP(base);
  if (!family) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32);
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** "mon-fri 09:00-18:00", "sat,sun 10:00-14:00", "* 00:00-06:00" (the format inSchedule reads). */
export function validSchedule(spec: string): boolean {
  const m = /^\s*([a-z*,-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/i.exec(spec);
  if (!m) return false;
  const days = (m[1] ?? '').toLowerCase();
  if (days !== '*') {
    for (const piece of days.split(',')) {
      const ends = piece.split('-');
      if (ends.length > 2 || ends.some((d) => !DAY_NAMES.includes(d))) return false;
    }
  }
  const time = (h: string | undefined, min: string | undefined) => {
    const hours = Number(h);
    const minutes = Number(min);
    return minutes <= 59 && (hours <= 23 || (hours === 24 && minutes === 0));
  };
  return time(m[2], m[3]) && time(m[4], m[5]);
}

/** Filters that need at least one value to mean anything. */
const NEEDS_VALUES = new Set([
  'country',
  'ip',
  'device',
  'os',
  'browser',
  'language',
  'param',
  'schedule',
  'clickLimit',
]);

export const filterSchema = z
  .strictObject({
    name: z.enum(FILTER_NAMES),
    mode: z.enum(FILTER_MODES).default('is'),
    values: z
      .array(z.string().max(KEY_LENGTH, `at most ${KEY_LENGTH} characters`))
      .max(500, 'at most 500 values')
      .default([])
      .transform((values) => values.map((v) => v.trim()).filter(Boolean)),
    param: z.string().trim().max(64, 'at most 64 characters').nullish(),
  })
  .superRefine((f, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (NEEDS_VALUES.has(f.name) && !f.values.length) issue(['values'], `a ${f.name} filter needs at least one value`);
    switch (f.name) {
      case 'param':
        if (!f.param) issue(['param'], 'the param filter needs the name of the URL parameter it reads');
        else if (!/^[A-Za-z0-9_.\-[\]]+$/.test(f.param)) issue(['param'], 'must be a URL parameter name');
        break;
      case 'ip':
        f.values.forEach((v, i) => {
          if (!validIpOrCidr(v))
            issue(['values', i], `"${v.slice(0, 60)}" is not an IP address or CIDR range such as 10.0.0.0/8`);
        });
        break;
      case 'country':
        f.values.forEach((v, i) => {
          if (!/^[A-Za-z]{2}$/.test(v)) issue(['values', i], `"${v.slice(0, 60)}" is not a 2-letter country code`);
        });
        break;
      case 'device':
        f.values.forEach((v, i) => {
          if (!(DEVICE_TYPES as readonly string[]).includes(v.toLowerCase()))
            issue(['values', i], `"${v.slice(0, 60)}" is not a device type: ${DEVICE_TYPES.join(', ')}`);
        });
        break;
      case 'language':
        f.values.forEach((v, i) => {
          if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(v))
            issue(['values', i], `"${v.slice(0, 60)}" is not a language tag such as de or en-US`);
        });
        break;
      case 'schedule':
        f.values.forEach((v, i) => {
          if (!validSchedule(v))
            issue(['values', i], `"${v.slice(0, 60)}" is not a schedule such as "mon-fri 09:00-18:00"`);
        });
        break;
      case 'clickLimit': {
        const [only] = f.values;
        if (f.values.length > 1 || (only !== undefined && !(/^\d{1,9}$/.test(only) && Number(only) > 0))) {
          issue(['values'], 'a clickLimit filter takes one positive whole number (clicks per day)');
        }
        break;
      }
      case 'uniqueness':
        if (
          f.values.length > 1 ||
          f.values.some((v) => !(UNIQUENESS_SCOPES as readonly string[]).includes(v.toLowerCase()))
        ) {
          issue(['values'], 'a uniqueness filter takes one of campaign, flow or global (empty = campaign)');
        }
        break;
      default:
        break;
    }
  })
  .transform((f) => ({
    name: f.name,
    mode: f.mode,
    values:
      f.name === 'country'
        ? f.values.map((v) => v.toUpperCase())
        : f.name === 'uniqueness'
          ? f.values.map((v) => v.toLowerCase())
          : f.values,
    ...(f.name === 'param' && f.param ? { param: f.param } : {}),
  }));

export const weightedUrl = z.strictObject({
  url: httpUrl,
  weight: z
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(10_000, 'at most 10000')
    .default(100),
});

const urlList = z
  .array(weightedUrl)
  .max(50, 'at most 50 entries')
  .refine(fitsText, 'the list is too long to store (at most 64 KB in all)');

export const flowFields = z.strictObject({
  name: shortText(),
  type: z.enum(FLOW_TYPES),
  position: z.number().int('must be a whole number').min(0, 'must not be negative').max(1_000_000, 'at most 1000000'),
  weight: z.number().int('must be a whole number').min(0, 'must not be negative').max(10_000, 'at most 10000'),
  status: z.enum(FLOW_STATUSES),
  collectClicks: z.boolean(),
  filters: z
    .array(filterSchema)
    .max(50, 'at most 50 filters')
    .refine(fitsText, 'the filters are too long to store (at most 64 KB)'),
  filtersMode: z.enum(FILTERS_MODES),
  schema: z.enum(FLOW_SCHEMAS),
  landings: urlList,
  offers: urlList,
  url: optionalHttpUrl,
  action: z.enum(FLOW_ACTIONS).nullable(),
  text: optionalText(TEXT_BYTES).refine(
    (v) => v === null || fitsText(v),
    `at most ${TEXT_BYTES.toLocaleString('en-US')} bytes`,
  ),
  archived: z.boolean(),
});
export const flowCreate = flowFields.partial().required({ name: true });
export const flowPatch = flowFields.partial();
export type FlowCreate = z.infer<typeof flowCreate>;
export type FlowPatch = z.infer<typeof flowPatch>;
