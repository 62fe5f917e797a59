import { useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'wouter';
import { isAdmin, useMe } from '../auth';
import { formatCount } from '../components/Amount';
import { PageHeader } from '../components/EmptyState';
import { useTRPC } from '../trpc';
import { ActiveAlertsSection } from './alerts/ActiveAlertsSection';
import { AlertActionDialog, type AlertAction } from './alerts/AlertActionDialog';
import { AlertDrawer } from './alerts/AlertDrawer';
import { LevelBadge, levelsBySeverity, type AlertView } from './alerts/badges';
import { ChannelsSection } from './alerts/ChannelsSection';
import { HistorySection } from './alerts/HistorySection';
import { ReportsSection } from './alerts/ReportsSection';
import { RulesSection } from './alerts/RulesSection';
import { SilencesSection } from './alerts/SilencesSection';
import { TabPanel, Tabs } from './alerts/Tabs';
import './alerts/alerts.css';

const tabKeys = ['active', 'history', 'silences', 'channels', 'rules', 'reports'] as const;
type TabKey = (typeof tabKeys)[number];
const isTab = (v: string | null): v is TabKey => !!v && (tabKeys as readonly string[]).includes(v);

const statusRank: Record<AlertView['status'], number> = { open: 0, acknowledged: 1, resolved: 2 };
/** The newer of two copies of one alert (a list refetch may still carry the state before an action). */
const fresher = (a: AlertView, b: AlertView) => (statusRank[b.status] > statusRank[a.status] || (statusRank[b.status] === statusRank[a.status] && b.lastSeenAt >= a.lastSeenAt) ? b : a);

export function AlertsPage() {
  const trpc = useTRPC();
  const admin = isAdmin(useMe());
  const [params, setParams] = useSearchParams();
  const tabParam = params.get('tab');
  const tab: TabKey = isTab(tabParam) ? tabParam : 'active';
  const setTab = (t: TabKey) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (t === 'active') next.delete('tab');
        else next.set('tab', t);
        return next;
      },
      { replace: true },
    );

  // One list of active alerts (at most 500) feeds the counts, the tab badge and the Active table.
  const active = useQuery(trpc.admin.alerts.active.queryOptions({}, { refetchInterval: 15_000 }));
  const counts = useMemo(() => {
    const c = { open: 0, acknowledged: 0, byLevel: { critical: 0, error: 0, warning: 0, info: 0 } };
    for (const a of active.data ?? []) {
      if (a.status === 'open') c.open++;
      else c.acknowledged++;
      c.byLevel[a.level]++;
    }
    return c;
  }, [active.data]);

  // The shell titles the page when the route changes (after this effect): set the count just after.
  useEffect(() => {
    if (!active.data) return;
    const t = window.setTimeout(() => {
      document.title = counts.open ? `(${counts.open}) Alerts · Creditdesk` : 'Alerts · Creditdesk';
    }, 0);
    return () => window.clearTimeout(t);
  }, [active.data, counts.open]);

  const [selected, setSelected] = useState<AlertView | null>(null);
  const [action, setAction] = useState<AlertAction | null>(null);
  const fromList = selected ? active.data?.find((a) => a.id === selected.id) : undefined;
  const shown = selected && fromList ? fresher(selected, fromList) : selected;

  const onAction = useCallback((kind: AlertAction['kind'], alert: AlertView) => setAction({ kind, alert }), []);
  const onOpen = useCallback((alert: AlertView) => setSelected(alert), []);
  const closeDrawer = useCallback(() => setSelected(null), []);

  return (
    <div className="page page-wide alerts-page">
      <PageHeader
        title="Alerts"
        description="Threshold and system alerts, where they were sent, and the channels and rules that route them."
        actions={
          active.data && (
            <dl className="alerts-counts" data-testid="alert-counts">
              <div className={counts.open ? 'alerts-count alerts-count-open' : 'alerts-count'}>
                <dt>Open</dt>
                <dd data-testid="open-count">{formatCount(counts.open)}</dd>
              </div>
              <div className="alerts-count">
                <dt>Acknowledged</dt>
                <dd data-testid="acknowledged-count">{formatCount(counts.acknowledged)}</dd>
              </div>
              <div className="alerts-count alerts-count-levels">
                <dt>By level</dt>
                <dd>
                  {levelsBySeverity.some((l) => counts.byLevel[l] > 0) ? (
                    levelsBySeverity
                      .filter((l) => counts.byLevel[l] > 0)
                      .map((l) => (
                        <span key={l} className="alerts-level-count" title={`${counts.byLevel[l]} active ${l}`}>
                          <LevelBadge level={l} /> {formatCount(counts.byLevel[l])}
                        </span>
                      ))
                  ) : (
                    <span className="muted">none</span>
                  )}
                </dd>
              </div>
            </dl>
          )
        }
      />

      <Tabs
        label="Alert views"
        idPrefix="alerts"
        current={tab}
        onChange={setTab}
        tabs={[
          {
            key: 'active',
            label: (
              <>
                Active
                {active.data && <span className={counts.open ? 'alerts-tab-count alerts-tab-count-hot' : 'alerts-tab-count'}>{formatCount(active.data.length)}</span>}
              </>
            ),
          },
          { key: 'history', label: 'History' },
          { key: 'silences', label: 'Silences' },
          { key: 'channels', label: 'Channels' },
          { key: 'rules', label: 'Rules' },
          { key: 'reports', label: 'Reports' },
        ]}
      />

      <TabPanel idPrefix="alerts" tab={tab}>
        {tab === 'active' && <ActiveAlertsSection active={active} selectedId={shown?.id ?? null} onOpen={onOpen} onAction={onAction} />}
        {tab === 'history' && <HistorySection selectedId={shown?.id ?? null} onOpen={onOpen} />}
        {tab === 'silences' && <SilencesSection />}
        {tab === 'channels' && <ChannelsSection />}
        {tab === 'rules' && <RulesSection />}
        {tab === 'reports' && <ReportsSection />}
      </TabPanel>

      {shown && (tab === 'active' || tab === 'history') && <AlertDrawer key={shown.id} alert={shown} onClose={closeDrawer} onAction={onAction} />}

      {admin && (
        <AlertActionDialog
          action={action}
          onClose={() => setAction(null)}
          onDone={(a) => {
            setAction(null);
            setSelected((s) => (s && s.id === a.id ? a : s));
          }}
        />
      )}
    </div>
  );
}
