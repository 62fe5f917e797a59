import type { ReactNode } from 'react';
import type { AlertChannelName, ChannelSettingsView, EmailConfig, SmsConfig } from '../../../../shared/alerts';
import { channelLabels, formatCooldown, When } from './badges';
import { defaultRoutingText } from './default-routing';

/** What each channel gets without any rule (the server's own `defaultChannelsFor`), and what it is. */
const channelAbout: Record<AlertChannelName, { what: string; routing: string }> = {
  slack: { what: 'Posts to a Slack incoming webhook.', routing: defaultRoutingText('slack') },
  email: { what: 'Sends mail through an SMTP server.', routing: defaultRoutingText('email') },
  sms: { what: 'POSTs { to, message } to an SMS gateway.', routing: defaultRoutingText('sms') },
  in_app: { what: 'The alert list on this page.', routing: defaultRoutingText('in_app') },
};

export const secretLabels: Record<Exclude<AlertChannelName, 'in_app'>, string> = { slack: 'Webhook URL', email: 'SMTP password', sms: 'Gateway token' };

export const list = (text: string) => text.split(/[\s,;]+/).filter(Boolean);

export function CardHeader({ view, children }: { view: ChannelSettingsView; children?: ReactNode }) {
  const on = view.channel === 'in_app' || view.enabled;
  return (
    <header className="alerts-card-header">
      <div className="alerts-card-title">
        <h3>{channelLabels[view.channel]}</h3>
        <span className={`badge badge-label ${on ? 'badge-ok' : 'badge-muted'}`} data-testid={`channel-state-${view.channel}`}>
          {view.channel === 'in_app' ? 'Always on' : view.enabled ? 'Enabled' : 'Disabled'}
        </span>
        <span className="alerts-card-about">
          {channelAbout[view.channel].what} {channelAbout[view.channel].routing}
        </span>
      </div>
      {children}
    </header>
  );
}

export function SecretStatus({ channel, set }: { channel: AlertChannelName; set: boolean }) {
  return (
    <span className={`badge badge-label ${set ? 'badge-ok' : 'badge-muted'}`} data-testid={`secret-status-${channel}`}>
      {set ? 'set' : 'not set'}
    </span>
  );
}

export function ChannelReadOnly({ view }: { view: ChannelSettingsView }) {
  const email = view.channel === 'email' ? (view.config as EmailConfig | null) : null;
  const sms = view.channel === 'sms' ? (view.config as SmsConfig | null) : null;
  return (
    <article className="alerts-card" data-testid={`channel-${view.channel}`} aria-label={`${channelLabels[view.channel]} channel`}>
      <CardHeader view={view} />
      <dl className="alerts-kv">
        {view.channel === 'email' && (
          <>
            <dt>SMTP server</dt>
            <dd className="mono">{email ? `${email.host}:${email.port}${email.secure ? ' (TLS)' : ' (STARTTLS)'}` : <span className="muted">not configured</span>}</dd>
            <dt>From</dt>
            <dd>{email?.from ?? <span className="muted">—</span>}</dd>
            <dt>To</dt>
            <dd>{email?.to.join(', ') ?? <span className="muted">—</span>}</dd>
            <dt>User</dt>
            <dd>{email?.user ?? <span className="muted">—</span>}</dd>
          </>
        )}
        {view.channel === 'sms' && (
          <>
            <dt>Gateway URL</dt>
            <dd className="mono alerts-break">{sms?.url ?? <span className="muted">not configured</span>}</dd>
            <dt>Recipients</dt>
            <dd>{sms?.recipients.join(', ') ?? <span className="muted">—</span>}</dd>
          </>
        )}
        {view.channel !== 'in_app' && (
          <>
            <dt>{secretLabels[view.channel]}</dt>
            <dd>
              <SecretStatus channel={view.channel} set={view.secretSet} />
            </dd>
          </>
        )}
        <dt>Cool-down</dt>
        <dd>{formatCooldown(view.cooldownSeconds)}</dd>
        <dt>Updated</dt>
        <dd>
          <When iso={view.updatedAt} />
        </dd>
      </dl>
    </article>
  );
}
