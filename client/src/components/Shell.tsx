import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { useMe } from '../auth';
import { errorCode, errorMessage } from '../lib/errors';
import { navItemFor, navItems } from '../nav';
import { NotFoundPage } from '../pages/NotFoundPage';
import { LiveIndicator, LiveProvider } from '../live/LiveConnection';
import { isMeQuery, useTRPC } from '../trpc';
import { ShortcutHelp, useGlobalShortcuts } from './Shortcuts';
import { useToast } from './Toasts';

/** The signed-in frame: sidebar, top bar, and the routed page. */
export function Shell() {
  const [helpOpen, setHelpOpen] = useState(false);
  const showHelp = useCallback(() => setHelpOpen(true), []);
  useGlobalShortcuts(showHelp);
  const [location] = useLocation();
  const current = navItemFor(location);

  useEffect(() => {
    document.title = current ? `${current.label} · Creditdesk` : 'Creditdesk';
  }, [current]);

  return (
    <LiveProvider>
      <div className="shell">
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Sidebar />
        <div className="shell-main">
          <TopBar title={current?.label ?? 'Not found'} onHelp={showHelp} />
          <main id="main" className="content" tabIndex={-1}>
            <Switch>
              {navItems.map((n) => (
                <Route key={n.path} path={n.path} component={n.page} />
              ))}
              <Route component={NotFoundPage} />
            </Switch>
          </main>
        </div>
        <ShortcutHelp open={helpOpen} onClose={() => setHelpOpen(false)} />
      </div>
    </LiveProvider>
  );
}

function Sidebar() {
  const [location] = useLocation();
  const active = navItemFor(location);
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden>
          C
        </span>
        Creditdesk
      </div>
      <ul className="nav-list">
        {navItems.map((n) => (
          <li key={n.path}>
            <Link href={n.path} className={n === active ? 'nav-link active' : 'nav-link'} aria-current={n === active ? 'page' : undefined} title={`${n.label} (g ${n.key})`}>
              <span className="nav-icon" aria-hidden>
                {n.icon}
              </span>
              <span className="nav-label">{n.label}</span>
              <span className="nav-key" aria-hidden>
                g {n.key}
              </span>
            </Link>
          </li>
        ))}
      </ul>
      <div className="sidebar-footer">
        Press <kbd>?</kbd> for shortcuts
      </div>
    </nav>
  );
}

function TopBar({ title, onHelp }: { title: string; onHelp: () => void }) {
  const me = useMe();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();

  const signOut = async () => {
    // Forget everything cached for this admin, then let auth.me answer again (UNAUTHORIZED → login page).
    queryClient.removeQueries({ predicate: (q) => !isMeQuery(q.queryKey) });
    await queryClient.resetQueries(trpc.auth.me.queryFilter());
  };
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSuccess: signOut,
      onError: (err) => {
        if (errorCode(err) === 'UNAUTHORIZED') void signOut();
        else toast.show(errorMessage(err), 'error');
      },
    }),
  );

  return (
    <header className="topbar">
      <div className="breadcrumb">
        <span>Creditdesk</span>
        <span aria-hidden>›</span>
        <span className="breadcrumb-current">{title}</span>
      </div>
      <div className="topbar-user">
        <LiveIndicator />
        <button type="button" className="icon-button" onClick={onHelp} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
          ?
        </button>
        <span className="topbar-email" data-testid="me-email">
          {me.email}
        </span>
        <span className={`badge badge-role-${me.role}`} data-testid="me-role">
          {me.role}
        </span>
        <button type="button" className="button button-small" onClick={() => logout.mutate()} disabled={logout.isPending}>
          {logout.isPending ? 'Signing out…' : 'Logout'}
        </button>
      </div>
    </header>
  );
}
