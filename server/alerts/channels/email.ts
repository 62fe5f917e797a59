import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { OutboundRefusedError } from '../../net/outbound';
import { emailConfigSchema } from '../../../shared/alerts';
import { alertTitle, ChannelError, noticeTag, noticeTime, type AlertChannel, type RoutedAlert } from './channel';

function body(alert: RoutedAlert): string {
  const lines = [
    ...(alert.notice === 'resolved' ? ['Resolved: this condition has cleared.', ''] : []),
    ...(alert.notice === 'reminder' ? ['Still open: this condition has not cleared yet.', ''] : []),
    alert.message,
    '',
    `Level: ${alert.level}`,
    `Type: ${alert.type}`,
    ...(alert.subject ? [`Subject: ${alert.subject}`] : []),
    `Time: ${noticeTime(alert).toISOString()}`,
    `Occurrences: ${alert.occurrences}`,
  ];
  if (Object.keys(alert.metadata).length) lines.push('', 'Details:', JSON.stringify(alert.metadata, null, 2));
  return lines.join('\n');
}

/**
 * Email over SMTP with nodemailer; the SMTP password is the channel's secret. The host is resolved
 * and checked by the outbound policy here and nodemailer is handed the checked address (with the
 * name kept for TLS verification), so it never looks the name up again. A password is only sent
 * over TLS (implicit, or STARTTLS, which is then required) unless the channel allows insecure auth.
 */
export const emailChannel: AlertChannel = {
  name: 'email',
  buildPayload: (alert) => ({ subject: `[Creditdesk ${noticeTag(alert)}] ${alertTitle(alert)}`, text: body(alert) }),
  async send(payload, settings, ctx) {
    const parsed = emailConfigSchema.safeParse(settings.config);
    if (!parsed.success) throw new ChannelError('email is not configured: SMTP host, port, sender and recipients are needed');
    const config = parsed.data;
    const password = settings.secretEncrypted ? ctx.secrets.decrypt(settings.secretEncrypted) : undefined;
    const name = config.host.replace(/^\[|\]$/g, '');
    let address: string;
    try {
      address = (await ctx.outbound.resolveChecked(name))[0]!.address;
    } catch (err) {
      throw new ChannelError(`SMTP ${config.host}:${config.port}: ${err instanceof OutboundRefusedError ? 'refused: ' : ''}${(err as Error).message}`);
    }
    const transport = nodemailer.createTransport({
      host: address,
      port: config.port,
      secure: config.secure,
      ...(isIP(name) ? {} : { servername: name }),
      requireTLS: !config.secure && Boolean(config.user) && !config.allowInsecureAuth,
      tls: config.caPem ? { ca: config.caPem } : {},
      auth: config.user ? { user: config.user, pass: password } : undefined,
      // Every stage is bounded so a silent server cannot hold a delivery past its lease.
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
    });
    try {
      // Reports carry an HTML body (the text stays as its plain-text part) and its chart as an inline image.
      await transport.sendMail({
        from: config.from,
        to: config.to,
        subject: String(payload.subject),
        text: String(payload.text),
        ...(typeof payload.html === 'string' && payload.html ? { html: payload.html } : {}),
        ...(Array.isArray(payload.attachments) ? { attachments: payload.attachments as Mail.Attachment[] } : {}),
      });
    } catch (err) {
      throw new ChannelError(`SMTP ${config.host}:${config.port}: ${(err as Error).message}`);
    } finally {
      transport.close();
    }
  },
};
