import { alertLevels, defaultChannelsFor, type AlertChannelName } from '../../../../shared/alerts';

/** `Gets warning, error and critical alerts.` from the levels the channel gets by default. */
export function defaultRoutingText(channel: AlertChannelName): string {
  const levels = alertLevels.filter((level) => defaultChannelsFor(level).includes(channel));
  if (levels.length === alertLevels.length) return channel === 'in_app' ? 'Gets every alert; always on.' : 'Gets every alert.';
  if (levels.length === 0) return 'Gets only the types whose rules add it.';
  const named = levels.length === 1 ? levels[0] : `${levels.slice(0, -1).join(', ')} and ${levels[levels.length - 1]}`;
  return `Gets ${named} alerts.`;
}
