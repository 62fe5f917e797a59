import type { AlertChannelName } from '../../../shared/alerts';
import type { AlertChannel } from './channel';
import { emailChannel } from './email';
import { inAppChannel } from './in-app';
import { slackChannel } from './slack';
import { smsChannel } from './sms';

export const channels: Record<AlertChannelName, AlertChannel> = {
  slack: slackChannel,
  email: emailChannel,
  sms: smsChannel,
  in_app: inAppChannel,
};
