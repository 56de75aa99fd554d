import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

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
    const body = template(data);
    const wrap = this.layouts.get(layout);
    if (!wrap) throw new Error(`no layout layouts/${layout}.hbs`);
    return wrap({ ...data, body });
  }
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
  hb.registerHelper('json', (v: unknown) => JSON.stringify(v, null, 2));
  hb.registerHelper('join', (list: unknown, sep: unknown) =>
    Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : '',
  );
  hb.registerHelper('date', (iso: unknown) =>
    typeof iso === 'string' ? iso.replace('T', ' ').slice(0, 16) + ' UTC' : '',
  );
  /** Epoch milliseconds as "YYYY-MM-DD HH:MM UTC". */
  hb.registerHelper('isoDate', (ms: unknown) =>
    typeof ms === 'number' && Number.isFinite(ms)
      ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC'
      : '',
  );
  /** Field error for `name` from the `errors` map in the page data. */
  hb.registerHelper('fieldError', function (this: unknown, name: string, options: Handlebars.HelperOptions) {
    const errors = (options.data?.root as { errors?: Record<string, string> })?.errors;
    const message = errors?.[name];
    return message ? new hb.SafeString(`<p class="field-error" role="alert">${hb.escapeExpression(message)}</p>`) : '';
  });
}
