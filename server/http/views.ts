import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { plural } from '../messages.js';

const viewsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../admin-views');

/**
 * Handlebars views: layouts/<name>.hbs wrap pages/<area>/<page>.hbs, and partials/<area>/<piece>.hbs
 * are registered as "<area>/<piece>". Everything is compiled once at start.
 */
export class Views {
  private readonly hb = Handlebars.create();
  private readonly pages = new Map<string, Handlebars.TemplateDelegate>();
  private readonly layouts = new Map<string, Handlebars.TemplateDelegate>();

  constructor(dir = viewsDir) {
    registerHelpers(this.hb);
    for (const file of walk(path.join(dir, 'partials'))) {
      const name = path
        .relative(path.join(dir, 'partials'), file)
        .replace(/\\/g, '/')
        .replace(/\.hbs$/, '');
      this.hb.registerPartial(name, fs.readFileSync(file, 'utf8'));
    }
    for (const file of walk(path.join(dir, 'layouts'))) {
      this.layouts.set(path.basename(file, '.hbs'), this.hb.compile(fs.readFileSync(file, 'utf8'), { strict: false }));
    }
    for (const file of walk(path.join(dir, 'pages'))) {
      const name = path
        .relative(path.join(dir, 'pages'), file)
        .replace(/\\/g, '/')
        .replace(/\.hbs$/, '');
      this.pages.set(name, this.hb.compile(fs.readFileSync(file, 'utf8')));
    }
  }

  render(page: string, data: Record<string, unknown>, layout = 'main'): string {
    const template = this.pages.get(page);
    if (!template) throw new Error(`no view pages/${page}.hbs`);
    const body = wrapTables(template(data));
    const wrap = this.layouts.get(layout);
    if (!wrap) throw new Error(`no layout layouts/${layout}.hbs`);
    return wrap({ ...data, body });
  }
}

/**
 * Every table sits in a box that scrolls sideways, so a wide table never widens the page. A box
 * with nothing focusable inside can take the focus itself, so the keyboard can scroll it too.
 */
const wrapTables = (html: string) =>
  html.replace(/<table\b[\s\S]*?<\/table>/g, (table) =>
    /<(a|button|input|select|textarea)\b/.test(table)
      ? `<div class="table-wrap">${table}</div>`
      : `<div class="table-wrap" tabindex="0">${table}</div>`,
  );

const formatters = new Map<string, Intl.DateTimeFormat>();

/** `iso` as "YYYY-MM-DD HH:MM <zone>" in the IANA `zone` (UTC when the zone is unknown). */
export function localTime(iso: string, zone: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  let format = formatters.get(zone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      return localTime(iso, 'UTC');
    }
    formatters.set(zone, format);
  }
  const part = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${zone}`;
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return walk(full);
    return e.name.endsWith('.hbs') ? [full] : [];
  });
}

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b || String(a) === String(b));
  hb.registerHelper('ne', (a: unknown, b: unknown) => String(a) !== String(b));
  hb.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hb.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hb.registerHelper('not', (a: unknown) => !a);
  hb.registerHelper(
    'includes',
    (list: unknown, v: unknown) => Array.isArray(list) && list.map(String).includes(String(v)),
  );
  /** `{{plural n "affiliate"}}` → "1 affiliate", "2 affiliates" (a third argument for other plurals). */
  hb.registerHelper('plural', (n: unknown, one: unknown, ...rest: unknown[]) =>
    plural(Number(n) || 0, String(one), rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined),
  );
  hb.registerHelper('json', (v: unknown) => JSON.stringify(v, null, 2));
  hb.registerHelper('join', (list: unknown, sep: unknown) =>
    Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : '',
  );
  /** A moment in the `timezone` setting, the zone named: "2026-12-02 06:10 Europe/Berlin". */
  hb.registerHelper('date', function (this: unknown, iso: unknown, options: Handlebars.HelperOptions) {
    const zone = (options?.data?.root as { timezone?: unknown } | undefined)?.timezone;
    return typeof iso === 'string' ? localTime(iso, typeof zone === 'string' ? zone : 'UTC') : '';
  });
  /** Epoch milliseconds as a moment in the `timezone` setting, the zone named. */
  hb.registerHelper('isoDate', function (this: unknown, ms: unknown, options: Handlebars.HelperOptions) {
    const zone = (options?.data?.root as { timezone?: unknown } | undefined)?.timezone;
    return typeof ms === 'number' && Number.isFinite(ms)
      ? localTime(new Date(ms).toISOString(), typeof zone === 'string' ? zone : 'UTC')
      : '';
  });
  /** Field error for `name` from the `errors` map in the page data. */
  hb.registerHelper('fieldError', function (this: unknown, name: string, options: Handlebars.HelperOptions) {
    const errors = (options.data?.root as { errors?: Record<string, string> })?.errors;
    const message = errors?.[name];
    return message ? new hb.SafeString(`<p class="field-error" role="alert">${hb.escapeExpression(message)}</p>`) : '';
  });
}
