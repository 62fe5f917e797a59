import { describe, expect, it } from 'vitest';
import type { ReportContent } from '../../shared/reports';
import { upsertUserInputSchema } from '../../shared/users';
import { slackChannel } from '../alerts/channels/slack';
import { renderReport } from '../reports/report-render';

/**
 * [REPORTS] What end users chose (their email, passed on by a product app through users.upsert)
 * reaches the admins' Slack in the daily and weekly reports' top users. Slack reads `<…>` in a
 * message as markup: a link with any label, or an @channel / @here ping. Such text is shown as
 * typed, never as markup.
 */

const phishing = '<https://evil.example/login|Your-Creditdesk-session-expired:-sign-in-again>@x.example';
const ping = 'a<!channel>@x.example';
const here = '<!here>ops@x.example';

const content = (emails: string[]): ReportContent => ({
  kind: 'daily',
  from: '2026-12-06',
  to: '2026-12-06',
  figures: {
    requests: 30,
    successfulRequests: 30,
    credits: 30,
    overflowCredits: 0,
    overflowShare: 0,
    costUsd: '0.300000',
    providers: [{ provider: 'fal', calls: 30, failures: 0, successRate: 1, p95Ms: 900, costUsd: '0.300000' }],
    mostFailing: null,
    topUsers: emails.map((email, i) => ({ userId: `user_${i}`, email, requests: 10, credits: 10 })),
    alertsOpened: 0,
    alertsResolved: 0,
  },
  previous: null,
  budget: { configured: false, budgetUsd: '0.00', providerCostMonthToDateUsd: '0.30', providerCostProjectedUsd: '9.00', overBudget: false },
  pools: [],
  days: [],
});

describe('[REPORTS] a top user’s email cannot put markup into the Slack report', () => {
  it('product apps may pass such emails (they are valid addresses by the API’s rule)', () => {
    for (const email of [phishing, ping, here]) expect(upsertUserInputSchema.safeParse({ userId: 'user_1', email, tier: 'plus' }).success).toBe(true);
  });

  it('a link, an @channel and an @here in an email are sent escaped, shown as typed', () => {
    const { slack } = renderReport(content([phishing, ping, here]));
    const texts = JSON.stringify(slack);
    // No Slack markup made of what users typed: every `<` and `>` of theirs is escaped.
    expect(texts).not.toContain('<https://evil.example');
    expect(texts).not.toContain('<!channel>');
    expect(texts).not.toContain('<!here>');
    const users = (slack.blocks as { text: { text: string } }[]).map((b) => b.text.text).find((t) => t.startsWith('*Top users*'))!;
    expect(users).toContain('&lt;https://evil.example/login|Your-Creditdesk-session-expired:-sign-in-again&gt;@x.example');
    expect(users).toContain('a&lt;!channel&gt;@x.example');
    // The email and the plain text keep the address as it is (the HTML escapes it its own way).
    expect(renderReport(content([ping])).text).toContain(ping);
  });
});

describe('[ALERTS] an alert’s message cannot put markup into the Slack notification', () => {
  it('the preview line (top-level text, read as mrkdwn) is escaped as the message block is', () => {
    const alert = {
      notice: 'firing' as const,
      id: 1,
      type: 'high_usage',
      level: 'warning' as const,
      subject: 'user_1',
      message: `usage spike by ${ping} ${here}`,
      metadata: {},
      occurrences: 1,
      lastSeenAt: new Date(),
      resolvedAt: null,
    };
    const payload = slackChannel.buildPayload(alert) as { text: string; blocks: unknown[] };
    const texts = JSON.stringify(payload);
    expect(texts).not.toContain('<!channel>');
    expect(texts).not.toContain('<!here>');
    expect(payload.text).toContain('a&lt;!channel&gt;@x.example &lt;!here&gt;ops@x.example');
  });
});
