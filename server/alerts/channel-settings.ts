import { eq, sql } from 'drizzle-orm';
import type { AlertChannelName, ChannelSettingsView, UpdateChannelInput } from '../../shared/alerts';
import { audit, type Actor } from '../auth/audit';
import type { SecretBox } from '../auth/secrets';
import type { DbOrTx } from '../db/client';
import { DomainError } from '../errors';
import { sameHost, sameOrigin } from '../net/destination';
import type { ChannelSettings } from './channels/channel';
import { alertChannels } from './tables';

type ChannelRow = typeof alertChannels.$inferSelect;

const toSettings = (r: ChannelRow): ChannelSettings => ({
  channel: r.channel as AlertChannelName,
  enabled: r.enabled,
  config: r.config,
  secretEncrypted: r.secretEncrypted,
  cooldownSeconds: r.cooldownSeconds,
});

/** Never carries the secret: only whether one is stored. */
export const toChannelView = (r: ChannelRow): ChannelSettingsView => ({
  channel: r.channel as AlertChannelName,
  enabled: r.enabled,
  cooldownSeconds: r.cooldownSeconds,
  config: Object.keys(r.config as object).length ? (r.config as ChannelSettingsView['config']) : null,
  secretSet: r.secretEncrypted !== null,
  updatedAt: r.updatedAt.toISOString(),
});

/** Every channel's settings (the migration seeds all four rows). */
export async function loadChannelSettings(db: DbOrTx): Promise<Map<AlertChannelName, ChannelSettings>> {
  const rows = await db.select().from(alertChannels);
  return new Map(rows.map((r) => [r.channel as AlertChannelName, toSettings(r)]));
}

export async function getChannelSettings(db: DbOrTx, channel: AlertChannelName): Promise<ChannelSettings> {
  const [row] = await db.select().from(alertChannels).where(eq(alertChannels.channel, channel));
  if (!row) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No settings row for the ${channel} channel.`);
  return toSettings(row);
}

export async function listChannelViews(db: DbOrTx): Promise<ChannelSettingsView[]> {
  const rows = await db.select().from(alertChannels).orderBy(alertChannels.channel);
  return rows.map(toChannelView);
}

/**
 * Whether the update sends the channel somewhere else: the SMS gateway's origin or the SMTP host.
 * (Slack's destination is its secret, the webhook URL, so it can only change with it.)
 */
function destinationChanged(input: UpdateChannelInput, before: ChannelRow): boolean {
  const old = (before.config ?? {}) as { url?: string; host?: string };
  if (input.channel === 'sms') return !sameOrigin(old.url, input.config.url);
  if (input.channel === 'email') return !old.host || !sameHost(old.host, input.config.host);
  return false;
}

/**
 * The secret column after an update: undefined keeps it, null removes it, a string replaces it.
 * A new destination without the secret entered again removes it, so an admin session cannot send
 * the stored password or token to a server of its choosing.
 */
function nextSecret(input: UpdateChannelInput, before: ChannelRow, secrets: SecretBox): string | null | undefined {
  const value = input.channel === 'slack' ? input.webhookUrl : input.channel === 'email' ? input.password : input.channel === 'sms' ? input.token : undefined;
  if (value === undefined) return destinationChanged(input, before) && before.secretEncrypted !== null ? null : undefined;
  return value === null ? null : secrets.encrypt(value);
}

/** Saves a channel's settings (secrets write-only), audited without any secret in before or after. */
export async function updateChannel(db: DbOrTx, secrets: SecretBox, actor: Actor, input: UpdateChannelInput): Promise<ChannelSettingsView> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(alertChannels).where(eq(alertChannels.channel, input.channel)).for('update');
    if (!before) throw new DomainError('NOT_FOUND', 'NOT_FOUND', `No settings row for the ${input.channel} channel.`);
    const secret = nextSecret(input, before, secrets);
    const secretAfter = secret === undefined ? before.secretEncrypted : secret;
    // Slack without its webhook URL has nowhere to send: refuse to switch it on rather than fail every delivery.
    if (input.channel === 'slack' && input.enabled && !secretAfter) {
      throw new DomainError('BAD_REQUEST', 'BAD_REQUEST', 'Set the Slack webhook URL before enabling the channel.');
    }
    const [after] = await tx
      .update(alertChannels)
      .set({
        ...('enabled' in input ? { enabled: input.enabled } : {}),
        ...('config' in input ? { config: input.config } : {}),
        ...(secret === undefined ? {} : { secretEncrypted: secret }),
        cooldownSeconds: input.cooldownSeconds,
        updatedAt: sql`now()`,
      })
      .where(eq(alertChannels.channel, input.channel))
      .returning();
    const view = toChannelView(after!);
    await audit(tx, actor, {
      action: 'alert.channel.update',
      targetType: 'alert_channel',
      targetId: input.channel,
      before: toChannelView(before),
      after: { ...view, secretChanged: secret !== undefined },
    });
    return view;
  });
}
