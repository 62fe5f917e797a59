import type { ComponentType } from 'react';
import { DashboardPage } from './pages/DashboardPage';
import { lazyPage } from './components/LazyPage';
import { UsagePage } from './pages/UsagePage';

export type NavItem = {
  path: string;
  label: string;
  /** Second key of the `g <key>` shortcut. */
  key: string;
  icon: string;
  page: ComponentType;
};

/**
 * The sidebar, the routes and the `g <key>` shortcuts all come from this one list. Pages other than
 * the dashboard (the landing page) load on their first visit.
 */
export const navItems: NavItem[] = [
  { path: '/', label: 'Dashboard', key: 'd', icon: '▦', page: DashboardPage },
  { path: '/users', label: 'Users', key: 'u', icon: '◉', page: lazyPage('Users', () => import('./pages/UsersPage').then((m) => m.UsersPage)) },
  { path: '/ledger', label: 'Ledger', key: 'l', icon: '≣', page: lazyPage('Ledger', () => import('./pages/LedgerPage').then((m) => m.LedgerPage)) },
  { path: '/live', label: 'Live', key: 'v', icon: '◔', page: lazyPage('Live', () => import('./pages/LivePage').then((m) => m.LivePage)) },
  { path: '/pools', label: 'Pools', key: 'p', icon: '◍', page: lazyPage('Pools', () => import('./pages/PoolsPage').then((m) => m.PoolsPage)) },
  { path: '/providers', label: 'Providers', key: 'r', icon: '⇄', page: lazyPage('Providers', () => import('./pages/ProvidersPage').then((m) => m.ProvidersPage)) },
  { path: '/alerts', label: 'Alerts', key: 'a', icon: '⚑', page: lazyPage('Alerts', () => import('./pages/AlertsPage').then((m) => m.AlertsPage)) },
  { path: '/jobs', label: 'Jobs', key: 'j', icon: '↻', page: lazyPage('Jobs', () => import('./pages/JobsPage').then((m) => m.JobsPage)) },
  { path: '/usage', label: 'Usage', key: 'e', icon: '▤', page: UsagePage },
  { path: '/webhooks', label: 'Webhooks', key: 'w', icon: '⤳', page: lazyPage('Webhooks', () => import('./pages/WebhooksPage').then((m) => m.WebhooksPage)) },
  { path: '/payments', label: 'Payments', key: 'm', icon: '$', page: lazyPage('Payments', () => import('./pages/PaymentsPage').then((m) => m.PaymentsPage)) },
  { path: '/audit', label: 'Audit log', key: 't', icon: '✎', page: lazyPage('Audit log', () => import('./pages/AuditPage').then((m) => m.AuditPage)) },
  { path: '/settings', label: 'Settings', key: 's', icon: '⚙', page: lazyPage('Settings', () => import('./pages/SettingsPage').then((m) => m.SettingsPage)) },
];

export function navItemFor(location: string): NavItem | undefined {
  if (location === '/' || location === '') return navItems[0];
  return navItems.find((n) => n.path !== '/' && (location === n.path || location.startsWith(`${n.path}/`)));
}
