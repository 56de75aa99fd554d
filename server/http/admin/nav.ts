/*
 * The admin's main navigation, built from one list so a new page is one line here. Pages are
 * grouped the way a merchant thinks of them; a page marks itself current by its `nav` key (the
 * `nav` a route passes to `render`), and its group is then the current section.
 */

export type NavGroup = 'Programme' | 'Traffic' | 'Money' | 'Reports' | 'Settings';

export interface NavPage {
  /** The `nav` key a route passes to `render`. */
  key: string;
  label: string;
  href: string;
  /** Omitted for the dashboard, which stands on its own before the groups. */
  group?: NavGroup;
  /** Only the owner sees it. */
  ownerOnly?: boolean;
}

/** Group order on screen. */
export const NAV_GROUPS: readonly NavGroup[] = ['Programme', 'Traffic', 'Money', 'Reports', 'Settings'];

/** Every page of the main navigation, one line each, in the order shown within its group. */
export const NAV_PAGES: readonly NavPage[] = [
  { key: 'dashboard', label: 'Dashboard', href: '/admin' },
  { key: 'campaigns', label: 'Campaigns', group: 'Programme', href: '/admin/campaigns' },
  { key: 'affiliates', label: 'Affiliates', group: 'Programme', href: '/admin/affiliates' },
  { key: 'domains', label: 'Domains', group: 'Traffic', href: '/admin/domains' },
  { key: 'sources', label: 'Sources', group: 'Traffic', href: '/admin/sources' },
  { key: 'groups', label: 'Campaign groups', group: 'Traffic', href: '/admin/groups' },
  { key: 'clicks', label: 'Clicks', group: 'Traffic', href: '/admin/clicks' },
  { key: 'sales', label: 'Sales', group: 'Money', href: '/admin/sales' },
  { key: 'commissions', label: 'Commissions', group: 'Money', href: '/admin/commissions' },
  { key: 'payouts', label: 'Payout batches', group: 'Money', href: '/admin/payout-batches' },
  { key: 'reports', label: 'Reports', group: 'Reports', href: '/admin/reports' },
  { key: 'conversions', label: 'Conversions', group: 'Reports', href: '/admin/conversions' },
  { key: 'settings', label: 'Settings', group: 'Settings', href: '/admin/settings' },
  { key: 'plugins', label: 'Plugins', group: 'Settings', href: '/admin/plugins' },
  { key: 'integration', label: 'Integration', group: 'Settings', href: '/admin/integration' },
  { key: 'mail', label: 'Mail', group: 'Settings', href: '/admin/mail' },
  { key: 'staff', label: 'Staff', group: 'Settings', href: '/admin/staff' },
  { key: 'api-keys', label: 'API keys', group: 'Settings', href: '/admin/api-keys', ownerOnly: true },
];

export interface NavLink {
  label: string;
  href: string;
  current: boolean;
}

export interface NavSection {
  label: string;
  /** The section holds the current page. */
  current: boolean;
  /** A section of one page is shown as that page's link, not as a menu. */
  single: NavLink | null;
  links: NavLink[];
}

/** The navigation as the layout draws it, for the page whose `nav` key is `current`. */
export function mainNav(current: unknown, isOwner = true): { sections: NavSection[]; section: NavSection | null } {
  const link = (p: NavPage): NavLink => ({ label: p.label, href: p.href, current: p.key === current });
  const visible = NAV_PAGES.filter((p) => isOwner || !p.ownerOnly);
  const dashboard = visible.filter((p) => !p.group).map(link);
  const sections: NavSection[] = [
    ...dashboard.map((l) => ({ label: l.label, current: l.current, single: l, links: [l] })),
    ...NAV_GROUPS.map((group) => {
      const links = visible.filter((p) => p.group === group).map(link);
      const only = links.length === 1 && links[0]!.label === group ? links[0]! : null;
      return { label: group, current: links.some((l) => l.current), single: only, links };
    }).filter((s) => s.links.length > 0),
  ];
  return { sections, section: sections.find((s) => s.current && !s.single) ?? null };
}
