import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import type { AppDeps } from '../app-deps';
import { trpcPathsOf } from '../trpc/browser-cors';
import { appRouter } from '../trpc/root';
import { metricsRegistry, trpcDuration, trpcRequests } from './metrics';
import { collectScrapeGauges } from './scrape-gauges';

/** How long /readyz waits for the database and Redis before calling them unreachable. */
export const READY_TIMEOUT_MS = 2_000;

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });

async function check(probe: () => Promise<boolean>): Promise<'up' | 'down' | 'timeout'> {
  try {
    const r = await within(probe(), READY_TIMEOUT_MS);
    return r === 'timeout' ? 'timeout' : r ? 'up' : 'down';
  } catch {
    return 'down';
  }
}

const sameSecret = (given: string, expected: string) =>
  // Hashed first: equal lengths for timingSafeEqual, and the comparison time says nothing of the token.
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());

const knownProcedures = new Set(Object.keys(appRouter._def.procedures));

/** A path a caller made up is one label, not a new series each time. */
const procedureLabel = (p: string) => (knownProcedures.has(p) ? p : '(unknown)');

function recordTrpc(req: FastifyRequest, status: number, seconds: number) {
  const paths = trpcPathsOf(req.url);
  if (!paths) return;
  for (const p of paths) {
    const labels = { procedure: procedureLabel(p), status: String(status) };
    trpcRequests.inc(labels);
    trpcDuration.observe(labels, seconds);
  }
}

/**
 * /livez: the process answers (no I/O, so a slow database never gets a live process restarted).
 * /readyz: the database, and Redis when configured, answer within READY_TIMEOUT_MS; else 503 naming
 * which did not. /metrics: Prometheus text, behind METRICS_TOKEN when it is set.
 */
export function registerOpsRoutes(app: FastifyInstance, deps: AppDeps) {
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'OPTIONS') recordTrpc(req, reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/livez', async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const redis = deps.redis;
    const [database, redisState] = await Promise.all([check(() => deps.dbHandle.ping()), redis ? check(async () => (await redis.ping()) === 'PONG') : Promise.resolve('disabled' as const)]);
    const failed = [...(database !== 'up' ? ['database'] : []), ...(redisState !== 'up' && redisState !== 'disabled' ? ['redis'] : [])];
    return reply
      .code(failed.length ? 503 : 200)
      .header('cache-control', 'no-store')
      .send({ status: failed.length ? 'unavailable' : 'ready', failed, database, redis: redisState });
  });

  app.get('/metrics', async (req, reply) => {
    const token = deps.config.METRICS_TOKEN;
    if (token !== undefined) {
      const given = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined || !sameSecret(given, token)) {
        return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.' });
      }
    }
    let gauges: Registry;
    try {
      gauges = await collectScrapeGauges(deps.dbHandle.db);
    } catch (err) {
      // The process's own counters are still worth scraping while the database is away.
      req.log.warn({ err }, 'metrics: database readings failed');
      gauges = new Registry();
    }
    const merged = Registry.merge([metricsRegistry, gauges]);
    return reply
      .header('cache-control', 'no-store')
      .type(merged.contentType)
      .send(await merged.metrics());
  });
}
