import { writeFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** What the dashboard shows once its data is in: the stat cards and the 30-day chart (DashboardView). */
export const FIGURES_SELECTOR = '[data-testid="stat-platform-credits"]';
export const CHART_SELECTOR = '[data-testid="dashboard-trend"] svg';

export type LoadTiming = {
  /** ms from navigation start: the first frame painted after the dashboard's figures were in the DOM. */
  figuresMs: number;
  /** ms from navigation start: the first frame painted after the trend chart's SVG was in the DOM. */
  chartMs: number | null;
  responseEndMs: number;
  domContentLoadedMs: number;
  /** Bytes transferred (encoded) for scripts, from resource timing. */
  scriptBytes: number;
  /**
   * The load's critical path, ms from navigation start: each request (the document, scripts, CSS,
   * tRPC calls by procedure) with its start, first byte and end and the bytes on the wire (encoded
   * body: smaller than `bytes` when compressed), and the page's own marks (zero-length rows).
   */
  waterfall: WaterfallRow[];
};

export type WaterfallRow = { what: string; start: number; firstByte: number; end: number; wireBytes: number; bytes: number };

declare global {
  interface Window {
    __benchMarks?: { figures?: number; figuresPainted?: number; chart?: number; chartPainted?: number };
  }
}

/**
 * Runs before any page script: a MutationObserver notes when the figures and the chart first enter
 * the DOM, and the next animation frame after each (when they are on screen). performance.now() is
 * measured from the navigation's start.
 */
const markScript = `(() => {
  const marks = {};
  window.__benchMarks = marks;
  const check = () => {
    if (marks.figures === undefined && document.querySelector(${JSON.stringify(FIGURES_SELECTOR)})) {
      marks.figures = performance.now();
      requestAnimationFrame(() => { marks.figuresPainted = performance.now(); });
    }
    if (marks.chart === undefined && document.querySelector(${JSON.stringify(CHART_SELECTOR)})) {
      marks.chart = performance.now();
      requestAnimationFrame(() => { marks.chartPainted = performance.now(); });
    }
    if (marks.figures !== undefined && marks.chart !== undefined) observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true });
})();`;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/**
 * Loads the dashboard `cold` times, each in a new browser context (empty cache, signed in by the
 * session cookie), then `warm` reloads in one context (scripts from the HTTP cache).
 */
export async function measureDashboard(browser: Browser, baseUrl: string, sessionCookie: string, runs: { cold: number; warm: number }) {
  const [name, value] = sessionCookie.split('=') as [string, string];
  const newContext = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ name, value, url: baseUrl }]);
    await context.addInitScript(markScript);
    return context;
  };
  const load = async (page: import('playwright-core').Page, reload: boolean): Promise<LoadTiming> => {
    if (reload) await page.reload({ waitUntil: 'commit' });
    else await page.goto(`${baseUrl}/`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__benchMarks?.figuresPainted !== undefined && window.__benchMarks?.chartPainted !== undefined, undefined, { timeout: 30_000 });
    return page.evaluate(() => {
      const m = window.__benchMarks!;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.initiatorType === 'script' || r.name.endsWith('.js'));
      return {
        figuresMs: m.figuresPainted!,
        chartMs: m.chartPainted ?? null,
        responseEndMs: nav.responseEnd,
        domContentLoadedMs: nav.domContentLoadedEventEnd,
        scriptBytes: scripts.reduce((s, r) => s + r.encodedBodySize, 0),
        waterfall: [
          { what: 'document', start: nav.startTime, firstByte: nav.responseStart, end: nav.responseEnd, wireBytes: nav.encodedBodySize, bytes: nav.decodedBodySize },
          ...(performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => {
            const url = new URL(r.name);
            // Hashed asset names vary by build: strip the hash; a tRPC call is named by its procedure(s).
            const what = url.pathname.startsWith('/trpc/') ? `tRPC ${decodeURIComponent(url.pathname.slice('/trpc/'.length))}` : url.pathname.replace(/-[A-Za-z0-9_-]{8}\.(js|css)$/, '.$1');
            return { what, start: r.startTime, firstByte: r.responseStart, end: r.responseEnd, wireBytes: r.encodedBodySize, bytes: r.decodedBodySize };
          }),
          // The app's own User Timing marks (`cd:` names) place its steps between the requests.
          ...performance
            .getEntriesByType('mark')
            .filter((mk) => mk.name.startsWith('cd:'))
            .map((mk) => ({ what: `— ${mk.name}`, start: mk.startTime, firstByte: mk.startTime, end: mk.startTime, wireBytes: 0, bytes: 0 })),
          ...(
            [
              ['DOMContentLoaded', nav.domContentLoadedEventEnd],
              ['figures in the DOM', m.figures!],
              ['figures painted', m.figuresPainted!],
              ['chart painted', m.chartPainted!],
            ] as const
          ).map(([what, at]) => ({ what: `— ${what}`, start: at, firstByte: at, end: at, wireBytes: 0, bytes: 0 })),
        ]
          .sort((a, b) => a.start - b.start)
          // A request made twice (a preload the page did not use) shows as a second row, not hidden behind the first.
          .map((row, i, rows) => {
            const nth = rows.slice(0, i).filter((r) => r.what === row.what).length;
            return nth ? { ...row, what: `${row.what} #${nth + 1}` } : row;
          }),
      };
    });
  };

  const cold: LoadTiming[] = [];
  for (let i = 0; i < runs.cold; i++) {
    const context = await newContext();
    try {
      const page = await context.newPage();
      // BENCH_SPA_PROFILE=file.cpuprofile: the page's main-thread CPU profile of the last cold load (a diagnostic).
      const profileTo = i === runs.cold - 1 ? process.env.BENCH_SPA_PROFILE : undefined;
      const cdp = profileTo ? await context.newCDPSession(page) : null;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await cdp.send('Profiler.start');
      }
      cold.push(await load(page, false));
      if (cdp && profileTo) writeFileSync(profileTo, JSON.stringify((await cdp.send('Profiler.stop')).profile));
    } finally {
      await context.close();
    }
  }
  const warm: LoadTiming[] = [];
  const context = await newContext();
  try {
    const page = await context.newPage();
    await load(page, false);
    for (let i = 0; i < runs.warm; i++) warm.push(await load(page, true));
  } finally {
    await context.close();
  }
  return { cold, warm };
}
