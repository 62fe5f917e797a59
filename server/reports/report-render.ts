import type { ReportContent, ReportFigures } from '../../shared/reports';
import { escapeSlackText } from '../alerts/channels/slack-text';
import { CHART_CID } from './report-chart';

export type RenderedReport = { title: string; text: string; slack: Record<string, unknown>; email: { subject: string; text: string; html: string } };

const pct = (v: number | null) => (v === null ? '—' : `${(Math.round(v * 1000) / 10).toFixed(1)}%`);
const usd = (v: string) => `$${Number(v).toFixed(2)}`;
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** "+12%" against the period before; "new" when there was nothing before. */
function trend(now: number, before: number): string {
  if (before === 0) return now === 0 ? '±0%' : 'new';
  const change = Math.round(((now - before) / before) * 100);
  return `${change >= 0 ? '+' : ''}${change}%`;
}

/** The report's sections as label/value lines: one source for text, Slack and HTML. */
function sections(c: ReportContent): { heading: string; lines: string[] }[] {
  const f = c.figures;
  const p = c.previous;
  const vs = (pick: (x: ReportFigures) => number) => (p ? ` (${trend(pick(f), pick(p))} vs the week before)` : '');
  return [
    {
      heading: 'Usage',
      lines: [
        `Requests: ${f.requests} (${f.successfulRequests} enhanced)${vs((x) => x.requests)}`,
        `Credits: ${f.credits}${vs((x) => x.credits)}`,
        `Overflow to platform pools: ${f.overflowCredits} credits, ${pct(f.overflowShare)} of credits`,
        `Provider cost: ${usd(f.costUsd)}${p ? ` (was ${usd(p.costUsd)})` : ''}`,
      ],
    },
    {
      heading: 'Budget this month',
      lines: c.budget.configured
        ? [
            `Provider cost to date ${usd(c.budget.providerCostMonthToDateUsd)}, projected ${usd(c.budget.providerCostProjectedUsd)} against a budget of ${usd(c.budget.budgetUsd)}${c.budget.overBudget ? ' — refills are over budget' : ''}`,
          ]
        : [`Provider cost to date ${usd(c.budget.providerCostMonthToDateUsd)}, projected ${usd(c.budget.providerCostProjectedUsd)}; no budget is set`],
    },
    {
      heading: 'Providers',
      lines: [
        ...f.providers.map((x) => `${x.provider}: ${x.calls} calls, success ${pct(x.successRate)}, p95 ${x.p95Ms === null ? '—' : `${x.p95Ms} ms`}, cost ${usd(x.costUsd)}`),
        f.mostFailing ? `Most failing: ${f.mostFailing.provider} (${f.mostFailing.failures} failed calls)` : 'No failed calls',
      ],
    },
    {
      heading: 'Pools',
      lines: c.pools.length ? c.pools.map((x) => `${x.provider}: ${x.balance} credits, ${x.daysUntilEmpty === null ? 'no recent use' : `${x.daysUntilEmpty} days left`}`) : ['No pools'],
    },
    {
      heading: 'Top users',
      lines: f.topUsers.length ? f.topUsers.map((u, i) => `${i + 1}. ${u.email ?? u.userId}: ${u.requests} requests, ${u.credits} credits`) : ['Nobody enhanced an image'],
    },
    { heading: 'Alerts', lines: [`${f.alertsOpened} opened, ${f.alertsResolved} resolved${vs((x) => x.alertsOpened)}`] },
  ];
}

/**
 * A report as a Slack Block Kit message (with a top-level `text`, the notification's preview) and
 * an email with an HTML body and its plain-text part; `preview` marks a "send now" copy.
 */
export function renderReport(c: ReportContent, opts: { preview?: boolean } = {}): RenderedReport {
  const period = c.from === c.to ? c.from : `${c.from} – ${c.to}`;
  const title = `${opts.preview ? 'Preview: ' : ''}Creditdesk ${c.kind} report, ${period}`;
  const summary = `${c.figures.requests} requests, ${c.figures.credits} credits, ${usd(c.figures.costUsd)} provider cost`;
  const parts = sections(c);
  const text = [title, summary, ...parts.flatMap((s) => ['', s.heading, ...s.lines.map((l) => `  ${l}`)])].join('\n');
  const slack = {
    text: escapeSlackText(`${title}: ${summary}`),
    blocks: [
      // plain_text is shown as it is: no markup is read in it.
      { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: escapeSlackText(summary) } },
      ...parts.map((s) => ({ type: 'section', text: { type: 'mrkdwn', text: `*${s.heading}*\n${s.lines.map((l) => `• ${escapeSlackText(l)}`).join('\n')}`.slice(0, 3000) } })),
    ],
  };
  const html = [
    `<!doctype html><html><body style="font-family:sans-serif;font-size:14px">`,
    `<h2>${escapeHtml(title)}</h2><p>${escapeHtml(summary)}</p>`,
    `<p><img src="cid:${CHART_CID}" width="600" height="220" alt="Credits per day over the last ${c.days.length} days"></p>`,
    ...parts.map((s) => `<h3>${escapeHtml(s.heading)}</h3><ul>${s.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`),
    `</body></html>`,
  ].join('');
  return { title, text, slack, email: { subject: title, text, html } };
}
