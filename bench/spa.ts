import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Browser } from 'playwright-core';
import { backfillDailySummaries } from '../server/analytics/daily-summary';
import { SecretBox } from '../server/auth/secrets';
import { openDb, type DbHandle } from '../server/db/client';
import { startServer, type ServerProcess } from '../server/test/spawn';
import { seedAnalyticsProviders, seedAnalyticsUsers, seedLedger } from './analytics/seed';
import { adminLogin } from './lib/admin-session';
import { envInt, log, type Benchmark } from './lib/benchmark';
import { createBenchDb, type BenchDb } from './lib/bench-db';
import type { CaseReport } from './lib/results';
import { median, round, summarize } from './lib/stats';
import { analyseBundle, viteBuild, type Sizes } from './spa/bundle';
import { launchChromium, measureDashboard, type LoadTiming, type WaterfallRow } from './spa/tti';

const GOALS = { initialJsKb: 250, dashboardMs: 1000 };
const ADMIN = { email: 'bench-admin@bench.invalid', password: 'bench-password-123' };
const kb = (bytes: number) => bytes / 1000;

const sizeCase = (label: string, s: Sizes, goalKb?: number): CaseReport => ({
  case: `${label}: ${round(kb(s.gzipBytes), 1)} KB gzip (${round(kb(s.bytes), 1)} KB raw, ${s.files.length} file${s.files.length === 1 ? '' : 's'})`,
  clients: null,
  throughput_per_s: null,
  p50_ms: null,
  p99_ms: null,
  floor_per_s: null,
  ratio: null,
  ...(goalKb === undefined ? {} : { goal: { text: `initial JS <= ${goalKb} KB gzip`, met: kb(s.gzipBytes) <= goalKb } }),
});

const timingCase = (label: string, ms: number[], goalMs?: number): CaseReport => {
  const s = summarize(ms);
  return {
    case: label,
    clients: 1,
    throughput_per_s: null,
    p50_ms: round(s.p50, 1),
    p95_ms: round(s.p95, 1),
    p99_ms: round(s.p99, 1),
    floor_per_s: null,
    ratio: null,
    ...(goalMs === undefined ? {} : { goal: { text: `median <= ${goalMs} ms`, met: (s.p50 ?? Infinity) <= goalMs } }),
  };
};

const timingText = (t: LoadTiming[]) =>
  `figures median ${median(t.map((x) => x.figuresMs))!.toFixed(0)} ms, chart ${median(t.map((x) => x.chartMs ?? NaN))!.toFixed(0)} ms, ` +
  `DOMContentLoaded ${median(t.map((x) => x.domContentLoadedMs))!.toFixed(0)} ms, scripts ${(median(t.map((x) => x.scriptBytes))! / 1000).toFixed(0)} KB transferred`;

/** The median start, first byte and end of each request of the load (and the page's marks): where the time to the figures goes. */
function waterfallText(t: LoadTiming[]): string {
  const names = [...new Set(t.flatMap((x) => x.waterfall.map((w) => w.what)))];
  const rows = names.map((what) => {
    const hits = t.map((x) => x.waterfall.find((w) => w.what === what)).filter((w): w is WaterfallRow => w !== undefined);
    const med = (f: (w: WaterfallRow) => number) => median(hits.map(f))!;
    return { what, start: med((h) => h.start), firstByte: med((h) => h.firstByte), end: med((h) => h.end), wireBytes: med((h) => h.wireBytes), bytes: med((h) => h.bytes), seen: hits.length };
  });
  const ms = (x: number) => x.toFixed(0).padStart(5);
  return rows
    .sort((a, b) => a.start - b.start)
    .map((r) =>
      r.what.startsWith('— ')
        ? `    ${ms(r.start)}              ${r.what}`
        : `    ${ms(r.start)} ${ms(r.firstByte)} ${ms(r.end)}  ${r.what} (${(r.wireBytes / 1000).toFixed(1)} KB on the wire, ${(r.bytes / 1000).toFixed(1)} KB${r.seen < t.length ? `; in ${r.seen} of ${t.length} loads` : ''})`,
    )
    .join('\n');
}

const spa: Benchmark = {
  name: 'spa',
  description: 'production bundle size (gzip) per route, and the dashboard loaded in headless Chromium against a real server',
  async run() {
    const runs = { cold: envInt('BENCH_SPA_RUNS', 9), warm: envInt('BENCH_SPA_RUNS', 9) };
    log(`settings: ${runs.cold} cold loads (new context each) and ${runs.warm} warm reloads (BENCH_SPA_RUNS); Chromium ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} (CHROMIUM_PATH)`);
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-spa-'));
    let db: BenchDb | undefined;
    let handle: DbHandle | undefined;
    let server: ServerProcess | undefined;
    let browser: Browser | undefined;
    const dropOnSignal = () =>
      void (async () => {
        await browser?.close();
        await server?.stop('SIGKILL');
        await db?.drop();
        process.exit(130);
      })();
    process.once('SIGINT', dropOnSignal);
    try {
      const buildMs = await viteBuild(outDir);
      const bundle = analyseBundle(outDir, buildMs);
      log(`  vite build into ${outDir} in ${(buildMs / 1000).toFixed(1)} s`);
      log(`  initial JS ${bundle.initialJs.files.join(', ')}: ${kb(bundle.initialJs.gzipBytes).toFixed(1)} KB gzip; CSS ${kb(bundle.initialCss.gzipBytes).toFixed(1)} KB gzip`);
      for (const l of bundle.lazy) log(`  lazy ${l.src}: ${l.js.files.join(', ')} ${kb(l.js.gzipBytes).toFixed(1)} KB gzip; CSS ${kb(l.css.gzipBytes).toFixed(1)} KB`);

      // A populated dashboard: providers with pools, a year of light ledger traffic, its daily summaries.
      db = await createBenchDb();
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      handle = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 4 });
      const masterKey = randomBytes(32);
      const secrets = new SecretBox(masterKey);
      await seedAnalyticsProviders(handle.db, secrets);
      await seedAnalyticsUsers(sql, 2_000);
      await seedLedger(sql, 100_000, 2_000);
      await sql.end();
      await backfillDailySummaries(handle.db);
      server = await startServer({
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        REDIS_URL: 'off',
        LOG_LEVEL: 'warn',
        DATA_DIR: db.dataDir,
        MASTER_KEY: masterKey.toString('hex'),
        STATIC_DIR: outDir,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        ...(process.env.BENCH_SPA_PORT ? { PORT: process.env.BENCH_SPA_PORT } : {}),
      });
      const cookie = await adminLogin(server.url, ADMIN.email, ADMIN.password);
      log(`  server on ${server.url} serving ${outDir}; signed in over the API`);

      browser = await launchChromium();
      const { cold, warm } = await measureDashboard(browser, server.url, cookie, runs);
      log(`  cold: ${timingText(cold)}; requests and marks (median start, first byte, end in ms):\n${waterfallText(cold)}`);
      log(`  warm: ${timingText(warm)}; requests and marks:\n${waterfallText(warm)}`);

      return [
        sizeCase('initial JS (entry + static imports)', bundle.initialJs, GOALS.initialJsKb),
        sizeCase('initial CSS', bundle.initialCss),
        ...bundle.lazy.flatMap((l) => [sizeCase(`lazy page ${l.src}, JS it adds`, l.js), ...(l.css.files.length ? [sizeCase(`lazy page ${l.src}, CSS it adds`, l.css)] : [])]),
        timingCase(
          'dashboard figures shown, cold cache (navigation start to first paint with the stats)',
          cold.map((t) => t.figuresMs),
          GOALS.dashboardMs,
        ),
        timingCase(
          'dashboard 30-day chart shown, cold cache',
          cold.map((t) => t.chartMs ?? NaN),
        ),
        timingCase(
          'dashboard figures shown, warm reload (scripts revalidated from cache)',
          warm.map((t) => t.figuresMs),
          GOALS.dashboardMs,
        ),
      ];
    } finally {
      process.off('SIGINT', dropOnSignal);
      await browser?.close();
      await server?.stop();
      await handle?.close();
      await db?.drop();
      rmSync(outDir, { recursive: true, force: true });
    }
  },
};

export default spa;
