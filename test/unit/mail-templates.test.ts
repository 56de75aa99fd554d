import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAIL_TEMPLATES,
  MAIL_TEMPLATE_NAMES,
  TemplateSyntaxError,
  checkMailSource,
  compilePart,
  renderMail,
} from '../../server/domain/mail-templates.js';
import { loadDefaultTemplates } from '../../server/services/mail.js';

const defaults = loadDefaultTemplates();

test('the template names are exactly those of SPEC §13, with commission.created and merchant.daily_summary off by default', () => {
  assert.deepEqual([...MAIL_TEMPLATE_NAMES].sort(), [
    'account.invite',
    'account.password_reset',
    'account.verify_email',
    'affiliate.approved',
    'affiliate.declined',
    'affiliate.signup_received',
    'commission.approved',
    'commission.created',
    'merchant.affiliate_signup',
    'merchant.daily_summary',
    'payout.paid',
  ]);
  const off = MAIL_TEMPLATE_NAMES.filter((n) => !MAIL_TEMPLATES[n].enabledByDefault);
  assert.deepEqual(off.sort(), ['commission.created', 'merchant.daily_summary']);
});

test('every default template compiles and renders its sample without an empty value', () => {
  for (const name of MAIL_TEMPLATE_NAMES) {
    const source = defaults[name];
    checkMailSource(source);
    const mail = renderMail(source, MAIL_TEMPLATES[name].sample);
    assert.ok(mail.subject.length > 5, name);
    assert.doesNotMatch(mail.subject, /\n/, name);
    assert.ok(mail.text.length > 20 && mail.html.includes('<p'), name);
    // Every value a template prints is in its sample: none renders as an empty gap.
    assert.doesNotMatch(mail.text, /(^|\s)(,|\.|:)\s|#\s|\(\s*\)/m, `${name}: ${mail.text}`);
  }
});

test('a syntax error names its line; unknown helpers and partials are refused', () => {
  const err = (src: string) => {
    try {
      compilePart('text', src);
    } catch (e) {
      assert.ok(e instanceof TemplateSyntaxError);
      return e;
    }
    assert.fail(`compiled: ${src}`);
  };
  assert.equal(err('one\ntwo {{#if x}}\nthree').line, 3);
  assert.equal(err('one\n\n{{#each a}}{{/if}}').line, 3);
  assert.match(err('a\n{{shell "rm"}}').message, /line 2: "shell" is not a helper/);
  assert.match(err('a\nb\n{{> secrets}}').message, /line 3: partials/);
  assert.match(err('{{ broken').message, /line 1/);
});

test('text parts are not HTML-escaped; the HTML part is', () => {
  const source = { subject: 'Hi {{name}}', text: '{{name}} & co', html: '<p>{{name}}</p>' };
  const mail = renderMail(source, { name: 'Tom & <Jerry>' });
  assert.equal(mail.subject, 'Hi Tom & <Jerry>');
  assert.equal(mail.text, 'Tom & <Jerry> & co');
  assert.equal(mail.html, '<p>Tom &amp; &lt;Jerry&gt;</p>');
});

test('a template cannot reach prototype properties', () => {
  const mail = renderMail({ subject: 's', text: '{{constructor.name}}{{__proto__}}', html: 'h' }, { a: 1 });
  assert.equal(mail.text, '');
});
