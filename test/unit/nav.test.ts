import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NAV_GROUPS, NAV_PAGES, mainNav } from '../../server/http/admin/nav.js';

describe('the admin navigation, from one list', () => {
  test('every page has one key and one address, and a known group', () => {
    assert.equal(new Set(NAV_PAGES.map((p) => p.key)).size, NAV_PAGES.length);
    assert.equal(new Set(NAV_PAGES.map((p) => p.href)).size, NAV_PAGES.length);
    for (const p of NAV_PAGES) if (p.group) assert.ok(NAV_GROUPS.includes(p.group), p.key);
  });

  test('sections in order; the current page and its section marked; one-page sections are plain links', () => {
    const { sections, section } = mainNav('payouts');
    assert.deepEqual(
      sections.map((s) => s.label),
      ['Dashboard', 'Programme', 'Traffic', 'Money', 'Reports', 'Settings'],
    );
    assert.deepEqual(
      sections.filter((s) => s.current).map((s) => s.label),
      ['Money'],
    );
    assert.equal(section?.label, 'Money');
    assert.deepEqual(
      section?.links.map((l) => [l.label, l.current]),
      [
        ['Sales', false],
        ['Commissions', false],
        ['Payout batches', true],
      ],
    );
    assert.deepEqual(
      sections.find((s) => s.label === 'Reports')?.links.map((l) => l.href),
      ['/admin/reports', '/admin/conversions'],
    );
    assert.equal(sections.find((s) => s.label === 'Dashboard')?.single?.href, '/admin');
  });

  test('a one-page section has no section row; an unknown key marks nothing', () => {
    assert.equal(mainNav('dashboard').section, null);
    assert.equal(mainNav('conversions').section?.label, 'Reports');
    const none = mainNav('nothing-like-this');
    assert.equal(none.section, null);
    assert.ok(none.sections.every((s) => !s.current && s.links.every((l) => !l.current)));
  });

  test('owner-only pages are left out for staff', () => {
    const forManager = mainNav('dashboard', false).sections.flatMap((s) => s.links.map((l) => l.href));
    for (const p of NAV_PAGES) assert.equal(forManager.includes(p.href), !p.ownerOnly, p.key);
  });
});
