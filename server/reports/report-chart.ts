import sharp from 'sharp';
import type { ReportContent } from '../../shared/reports';

/** The chart's content id: the HTML body shows it as `<img src="cid:…">`. */
export const CHART_CID = 'credits-per-day@creditdesk';
const WIDTH = 600;
const HEIGHT = 220;
const PAD = { left: 44, right: 12, top: 28, bottom: 34 };
const COLOURS = { allowance: '#3b6fd8', overflow: '#e08a1e', before: '#c7cfdc', axis: '#5b6472' };
/** The chart's geometry and colours, so a test can read the bars back off the PNG's pixels. */
export const CHART_LAYOUT = { width: WIDTH, height: HEIGHT, pad: PAD, colours: COLOURS } as const;

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Credits per day as stacked bars (allowance, then overflow to the platform pools), the report's
 * own days in colour and the days before in grey: an email reader sees the trend at a glance.
 * Drawn as SVG and rasterised to PNG by sharp, since mail clients do not show inline SVG.
 */
export function chartSvg(c: ReportContent): string {
  const days = c.days;
  const max = Math.max(1, ...days.map((d) => d.credits));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.7);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = days.map((d, i) => {
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const inPeriod = d.day >= c.from && d.day <= c.to;
    const allowance = d.credits - d.overflowCredits;
    const label = i % Math.ceil(days.length / 7) === 0 || i === days.length - 1 ? `<text x="${x + barW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${d.day.slice(5)}</text>` : '';
    return [
      `<rect x="${x}" y="${y(allowance)}" width="${barW}" height="${y(0) - y(allowance)}" fill="${inPeriod ? COLOURS.allowance : COLOURS.before}"/>`,
      `<rect x="${x}" y="${y(d.credits)}" width="${barW}" height="${y(allowance) - y(d.credits)}" fill="${inPeriod ? COLOURS.overflow : COLOURS.before}"/>`,
      label,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11" fill="${COLOURS.axis}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="16" font-size="13" fill="#1d2330">${escapeXml(`Credits per day, ${days[0]?.day ?? c.from} – ${c.to}`)}</text>`,
    `<text x="${WIDTH - PAD.right}" y="16" text-anchor="end"><tspan fill="${COLOURS.allowance}">■</tspan> allowance  <tspan fill="${COLOURS.overflow}">■</tspan> platform pools  <tspan fill="${COLOURS.before}">■</tspan> before</text>`,
    `<line x1="${PAD.left}" y1="${y(0)}" x2="${WIDTH - PAD.right}" y2="${y(0)}" stroke="${COLOURS.axis}"/>`,
    `<text x="${PAD.left - 6}" y="${y(max) + 4}" text-anchor="end">${max}</text>`,
    `<text x="${PAD.left - 6}" y="${y(0) + 4}" text-anchor="end">0</text>`,
    ...bars,
    `</svg>`,
  ].join('');
}

/** The chart as a PNG attachment for nodemailer, shown inline by its content id. */
export async function chartAttachment(c: ReportContent) {
  const png = await sharp(Buffer.from(chartSvg(c)))
    .png()
    .toBuffer();
  return { filename: `credits-per-day-${c.to}.png`, content: png, contentType: 'image/png', cid: CHART_CID };
}
