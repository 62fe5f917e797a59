import { useQuery } from '@tanstack/react-query';
import { alertChannelNames } from '../../../../shared/alerts';
import { isAdmin, useMe } from '../../auth';
import { errorMessage } from '../../lib/errors';
import { useTRPC } from '../../trpc';
import { Skeleton } from '../../components/Skeleton';
import { ChannelForm } from './ChannelForm';
import { ChannelReadOnly } from './ChannelCard';

/** One card per channel: enabled, cool-down, its settings with a write-only secret, and "Send test". */
export function ChannelsSection() {
  const trpc = useTRPC();
  const admin = isAdmin(useMe());
  const channels = useQuery(trpc.admin.alerts.channels.list.queryOptions());
  const byName = new Map(channels.data?.map((c) => [c.channel, c]));

  return (
    <section className="section" aria-labelledby="alert-channels-title">
      <div className="section-header">
        <div>
          <h2 id="alert-channels-title">Channels</h2>
          <p className="section-description">
            Where alerts go. A channel sends one alert type and subject at most once per cool-down; repeats in between are counted on the alert. Secrets are write-only: stored encrypted, never shown.
          </p>
        </div>
      </div>
      {channels.isError && (
        <div className="alert alert-error" role="alert">
          {errorMessage(channels.error)}
        </div>
      )}
      {channels.isPending && <Skeleton lines={3} />}
      {channels.data && (
        <div className="alerts-channels">
          {alertChannelNames.map((name) => {
            const view = byName.get(name);
            if (!view) return null;
            return admin ? <ChannelForm key={`${name}-${view.updatedAt}`} view={view} /> : <ChannelReadOnly key={name} view={view} />;
          })}
        </div>
      )}
    </section>
  );
}
