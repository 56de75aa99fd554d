import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { bodyOf, lines, valueAt } from './form-values.js';
import { requireRole } from '../middleware.js';
import { notFound } from '../../errors.js';
import { pluginFor } from '../../services/secrets.js';
import type { PluginInfo } from '../../plugins/registry.js';
import type { PluginSettingDef } from '../../plugins/types.js';

type Body = Record<string, unknown>;

/** A setting's current value as its form field holds it. */
function fieldText(def: PluginSettingDef, value: unknown): string {
  if (def.type === 'string[]') return Array.isArray(value) ? value.map(String).join('\n') : '';
  if (def.type === 'boolean') return value === true ? 'on' : '';
  return value === undefined || value === null ? '' : String(value);
}

/** A posted field → the type the definition asks for; what cannot convert is passed on for the registry to name. */
function fieldValue(def: PluginSettingDef, body: Body): unknown {
  const raw = valueAt(body, `settings.${def.key}`);
  switch (def.type) {
    case 'boolean':
      return form.checkbox(raw);
    case 'number':
      return form.number(raw) ?? '';
    case 'string[]':
      return lines(raw);
    default:
      return form.text(raw) ?? '';
  }
}

function pluginView(p: PluginInfo, submitted: { name: string; body: Body } | null) {
  const fromBody = submitted?.name === p.name ? submitted.body : null;
  return {
    ...p,
    path: `/admin/plugins/${encodeURIComponent(p.name)}`,
    defs: p.settingDefs.map((d, i) => {
      const previous = p.settingDefs[i - 1];
      const value = fromBody ? fieldText(d, fieldValue(d, fromBody)) : fieldText(d, p.settings[d.key]);
      return {
        ...d,
        inputName: `settings.${d.key}`,
        // The heading of a new section, shown above its first setting.
        sectionTitle: d.section && d.section !== previous?.section ? d.section : null,
        inputId: `plugin-${p.name}-${d.key}`.replace(/[^A-Za-z0-9_-]/g, '-'),
        errorKey: `${p.name}.${d.key}`,
        value,
        checked: value === 'on',
        isBoolean: d.type === 'boolean',
        isNumber: d.type === 'number',
        isList: d.type === 'string[]',
        isEnum: d.type === 'enum',
        isText: d.type === 'string',
        choices: (d.options ?? []).map((o) => ({ value: o, selected: o === value })),
      };
    }),
  };
}

export function pluginPages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = (
    ctx: AppContext,
    submitted: { name: string; body: Body } | null = null,
    errors?: Record<string, string>,
  ) => {
    const plugins = ctx.services.plugins.list();
    render(ctx, views, 'admin/plugins', {
      title: 'Plugins',
      nav: 'plugins',
      readOnly: ctx.state.user?.role !== 'owner',
      plugins: plugins.map((p) => pluginView(pluginFor(ctx.state.user, p), submitted)),
      errors,
    });
  };

  const pluginOf = (ctx: AppContext & { params: Record<string, string> }): PluginInfo => {
    const name = ctx.params.name ?? '';
    const plugin = ctx.services.plugins.get(name);
    if (!plugin) throw notFound('plugin', name);
    return plugin;
  };

  router.get('/admin/plugins', (ctx) => page(ctx));

  // Turning plugins on and off and changing their settings is the owner's, as through the API.
  const owner = requireRole('owner');
  for (const [action, active] of [
    ['activate', true],
    ['deactivate', false],
  ] as const) {
    router.post(`/admin/plugins/:name/${action}`, owner, async (ctx) => {
      const plugin = pluginOf(ctx);
      const after = await ctx.services.plugins.setActive(plugin.name, active);
      if (after.error) flash(ctx, 'error', `“${plugin.title}” is switched on but failed to start: ${after.error}`);
      else flash(ctx, 'success', `“${plugin.title}” ${active ? 'activated' : 'deactivated'}.`);
      // Activated from the page that showed its settings disabled: back to that page.
      ctx.redirect(valueAt(bodyOf(ctx), 'back') === '/admin/settings' ? '/admin/settings' : '/admin/plugins');
    });
  }

  router.post('/admin/plugins/:name/settings', owner, async (ctx) => {
    const plugin = pluginOf(ctx);
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const values = Object.fromEntries(plugin.settingDefs.map((d) => [d.key, fieldValue(d, body)]));
        await ctx.services.plugins.updateSettings(plugin.name, values);
        flash(ctx, 'success', `Settings of “${plugin.title}” saved.`);
        ctx.redirect('/admin/plugins');
      },
      (errors) => {
        const scoped: Record<string, string> = {};
        for (const [key, message] of Object.entries(errors))
          scoped[key === '_form' ? key : `${plugin.name}.${key}`] = message;
        scoped._form ??= `Could not save the settings of “${plugin.title}”: please correct the fields marked below.`;
        page(ctx, { name: plugin.name, body }, scoped);
      },
    );
  });
}
