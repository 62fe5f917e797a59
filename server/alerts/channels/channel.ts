import type { Logger } from 'pino';
import type { AlertChannelName, AlertLevelName } from '../../../shared/alerts';
import type { SecretBox } from '../../auth/secrets';
import type { Outbound } from '../../net/outbound';

/** firing: it crossed (or escalated); reminder: still open after the repeat interval; resolved: it cleared. */
export type NoticeKind = 'firing' | 'reminder' | 'resolved';

/** What the dispatcher knows of an alert when it routes it: enough to build every channel's payload. */
export type RoutedAlert = {
  notice: NoticeKind;
  id: number;
  type: string;
  level: AlertLevelName;
  subject: string;
  message: string;
  metadata: Record<string, unknown>;
  occurrences: number;
  lastSeenAt: Date;
  resolvedAt: Date | null;
};

/** A channel's stored settings; the secret stays sealed until the moment of sending. */
export type ChannelSettings = {
  channel: AlertChannelName;
  enabled: boolean;
  config: unknown;
  secretEncrypted: string | null;
  cooldownSeconds: number;
};

/** `outbound` carries every HTTP send and checks the SMTP host: ALLOW_PRIVATE_OUTBOUND's policy. */
export type ChannelContext = { secrets: SecretBox; outbound: Outbound; timeoutMs: number };

/**
 * One delivery channel. The payload is built when the alert is routed and stored on the delivery
 * row (so a retry sends what was routed); destinations and secrets are read from the settings at
 * send time, so a fixed configuration applies to pending retries and secrets never sit in payloads.
 */
export interface AlertChannel {
  readonly name: AlertChannelName;
  buildPayload(alert: RoutedAlert): Record<string, unknown>;
  /** Throws ChannelError (or any error) when the message was not accepted. */
  send(payload: Record<string, unknown>, settings: ChannelSettings, ctx: ChannelContext): Promise<void>;
}

/**
 * A send the channel refused or could not make; the message is recorded on the delivery.
 * `retryAfterSeconds` is the receiver's own wait (a 429's Retry-After): the next try waits at least that.
 */
export class ChannelError extends Error {
  override name = 'ChannelError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** Dependencies of the dispatcher and the channels: AppDeps satisfies it. */
export type AlertDeps = {
  secrets: SecretBox;
  outbound: Outbound;
  log?: Pick<Logger, 'warn' | 'error'>;
  /** Per HTTP request / SMTP stage; 10 s unless set (tests shorten it). */
  channelTimeoutMs?: number;
};

export const DEFAULT_CHANNEL_TIMEOUT_MS = 10_000;

/** `pool_low: fal`, or the bare type when the alert is about nothing in particular. */
export const alertTitle = (alert: Pick<RoutedAlert, 'type' | 'subject'>) => (alert.subject ? `${alert.type}: ${alert.subject}` : alert.type);

/** `ERROR`, `ERROR, still open` or `RESOLVED`: the tag every channel puts before the title. */
export const noticeTag = (alert: Pick<RoutedAlert, 'notice' | 'level'>) =>
  alert.notice === 'resolved' ? 'RESOLVED' : alert.notice === 'reminder' ? `${alert.level.toUpperCase()}, still open` : alert.level.toUpperCase();

/** The time a notice is about: when it cleared, or when it was last seen. */
export const noticeTime = (alert: Pick<RoutedAlert, 'notice' | 'lastSeenAt' | 'resolvedAt'>) => (alert.notice === 'resolved' && alert.resolvedAt ? alert.resolvedAt : alert.lastSeenAt);
