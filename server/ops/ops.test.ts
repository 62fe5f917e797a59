import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app';
import type { AppDeps } from '../app-deps';
import { openDb } from '../db/client';
import { runRecorded } from '../jobs/job-runs';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { expectPoolsClean, seedPool } from '../test/pool-helpers';

let env: TestEnv;
const db = () => env.deps.dbHandle.db;
const apps: FastifyInstance[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  for (const close of closers) await close();
  await env?.close();
});

async function serve(deps: AppDeps) {
  const app = await buildApp(deps);
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** A loopback port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs promtool check metrics on the text, answering its exit code and everything it printed. */
function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/promtool', ['check', 'metrics']);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

describe('[OPS] /livez and /readyz', () => {
  it('/livez answers 200 and /readyz 200 with the database and Redis reachable', async () => {
    const origin = await serve(env.deps);
    const live = await fetch(`${origin}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', failed: [], database: 'up', redis: 'up' });
  });

  it('/readyz answers 503 naming the database when the process points at a closed port, while /livez stays 200', async () => {
    const dead = await openDb({ databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/nothing`, dataDir: env.env.DATA_DIR!, maxConnections: 1 });
    closers.push(() => dead.close());
    const origin = await serve({ ...env.deps, dbHandle: dead });
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', failed: ['database'], database: 'down', redis: 'up' });
    expect((await fetch(`${origin}/livez`)).status).toBe(200);
  });

  it('/readyz answers 503 naming Redis when the configured Redis does not answer', async () => {
    const redis = new Redis({ host: '127.0.0.1', port: await closedPort(), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    redis.on('error', () => {});
    closers.push(async () => redis.disconnect());
    const origin = await serve({ ...env.deps, redis });
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ failed: ['redis'], database: 'up', redis: 'down' });
  });
});

describe('[OPS] /metrics', () => {
  it('answers Prometheus text without a token when METRICS_TOKEN is unset', async () => {
    const origin = await serve(env.deps);
    const res = await fetch(`${origin}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('# TYPE creditdesk_trpc_requests_total counter');
  });

  it('with METRICS_TOKEN set, refuses no token and a wrong one (401) and answers the right one in any Bearer case', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const origin = await serve({ ...env.deps, config: { ...env.deps.config, METRICS_TOKEN: token } });
    const none = await fetch(`${origin}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('creditdesk_');
    expect((await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect((await fetch(`${origin}/metrics`, { headers: { authorization: `bearer ${token}` } })).status).toBe(200);
  });

  it('after traffic, a scrape carries requests per procedure and status, credits by source and tier, pool balances and job runs, and passes promtool check metrics', async () => {
    const origin = await serve(env.deps);
    const pool = await seedPool(env.deps, 40);
    const writer = (await apiKeyCaller(env.deps, ['credits:write', 'credits:read'])).secret;
    const http = trpcHttp(origin, writer);
    const userId = await newUser(db(), 'plus');
    for (let i = 0; i < 3; i++) expect((await http.mutation('credits.consume', { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() })).status).toBe(200);
    expect((await http.query('credits.balance', { userId })).status).toBe(200);
    expect((await trpcHttp(origin).query('credits.balance', { userId })).status).toBe(401);
    // A made-up procedure name is one label, not a series of its own.
    expect((await http.query(`no.such.procedure${key()}`, {})).status).toBe(404);
    // A hold captured counts as consumed too.
    const hold = (await http.mutation('credits.reserve', { userId, credits: 2, enhancementType: 'upscale', idempotencyKey: key() })).body.result.data;
    expect((await http.mutation('credits.capture', { reservationId: hold.reservationId })).status).toBe(200);
    await runRecorded(env.deps, { name: 'metrics-probe', run: async () => 'ok' } as never, null, { jobId: null, attempt: 1, trigger: 'manual', mode: 'in-process', worker: 'test' });

    const text = await (await fetch(`${origin}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}.()[\]+*?^$|\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(value('creditdesk_trpc_requests_total{procedure="credits.consume",status="200"}')).toBeGreaterThanOrEqual(3);
    expect(value('creditdesk_trpc_requests_total{procedure="credits.balance",status="401"}')).toBeGreaterThanOrEqual(1);
    expect(value('creditdesk_trpc_requests_total{procedure="(unknown)",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('no.such.procedure');
    expect(value('creditdesk_trpc_request_duration_seconds_count{procedure="credits.consume",status="200"}')).toBeGreaterThanOrEqual(3);
    expect(value('creditdesk_credits_consumed_total{source="user_credits",tier="plus"}')).toBeGreaterThanOrEqual(5);
    expect(value(`creditdesk_pool_balance_credits{provider="${pool}"}`)).toBe(40);
    expect(value(`creditdesk_pool_active{provider="${pool}"}`)).toBe(1);
    expect(value('creditdesk_job_runs_total{job="metrics-probe",outcome="succeeded"}')).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE creditdesk_webhook_deliveries_total counter');
    expect(text).toContain('# TYPE creditdesk_alert_deliveries_total counter');
    expect(text).toContain('# TYPE creditdesk_provider_call_duration_seconds histogram');

    const check = await promtoolCheck(text);
    expect(check).toEqual({ code: 0, output: '' });
    await expectLedgerClean(db());
    await expectPoolsClean(db());
  });
});
