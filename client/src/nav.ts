import type { ComponentType } from 'react';
import { AlertsPage } from './pages/AlertsPage';
import { AuditPage } from './pages/AuditPage';
import { DashboardPage } from './pages/DashboardPage';
import { JobsPage } from './pages/JobsPage';
import { LedgerPage } from './pages/LedgerPage';
import { LivePage } from './pages/LivePage';
import { PoolsPage } from './pages/PoolsPage';
import { ProvidersPage } from './pages/ProvidersPage';
import { SettingsPage } from './pages/SettingsPage';
import { UsagePage } from './pages/UsagePage';
import { UsersPage } from './pages/UsersPage';
import { WebhooksPage } from './pages/WebhooksPage';

export type NavItem = {
  path: string;
  label: string;
  /** Second key of the `g <key>` shortcut. */
  key: string;
  icon: string;
  page: ComponentType;
};

/** The sidebar, the routes and the `g <key>` shortcuts all come from this one list. */
export const navItems: NavItem[] = [
  { path: '/', label: 'Dashboard', key: 'd', icon: '▦', page: DashboardPage },
  { path: '/users', label: 'Users', key: 'u', icon: '◉', page: UsersPage },
  { path: '/ledger', label: 'Ledger', key: 'l', icon: '≣', page: LedgerPage },
  { path: '/live', label: 'Live', key: 'v', icon: '◔', page: LivePage },
  { path: '/pools', label: 'Pools', key: 'p', icon: '◍', page: PoolsPage },
  { path: '/providers', label: 'Providers', key: 'r', icon: '⇄', page: ProvidersPage },
  { path: '/alerts', label: 'Alerts', key: 'a', icon: '⚑', page: AlertsPage },
  { path: '/jobs', label: 'Jobs', key: 'j', icon: '↻', page: JobsPage },
  { path: '/usage', label: 'Usage', key: 'e', icon: '▤', page: UsagePage },
  { path: '/webhooks', label: 'Webhooks', key: 'w', icon: '⤳', page: WebhooksPage },
  { path: '/audit', label: 'Audit log', key: 't', icon: '✎', page: AuditPage },
  { path: '/settings', label: 'Settings', key: 's', icon: '⚙', page: SettingsPage },
];

export function navItemFor(location: string): NavItem | undefined {
  if (location === '/' || location === '') return navItems[0];
  return navItems.find((n) => n.path !== '/' && (location === n.path || location.startsWith(`${n.path}/`)));
}
