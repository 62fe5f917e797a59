import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { openDb } from '../db/client';
import { col, countRow, queryRows } from '../db/rows';
import { consumeCredits } from '../ledger/consume';
import { createCaller, createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { createContextInner } from '../trpc/context';
import { trpcHttp } from '../test/http-client';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { TEST_REDIS_URL } from '../test/pg-admin';
import { openStream, type SseStream } from '../test/sse-client';
import { fromLiveTuple, type LiveLedgerEvent, type LiveLedgerRow } from '../../shared/live';
import { startServer, type ServerProcess } from '../test/spawn';
import { waitFor } from '../test/wait';
import { ChangeBus, redisChannel } from './change-bus';

let env: TestEnv;
let servers: ServerProcess[] = [];
let secret: string;
let cookie: string;
let sessionToken: string;
const streams: SseStream<any>[] = [];

beforeAll(async () => {
  env = await createTestEnv();
  const serverEnv = { ...env.env, LOG_LEVEL: 'warn', WORKER_IN_SERVER: 'false', DATABASE_POOL_MAX: '5' };
  servers = await Promise.all([startServer(serverEnv), startServer(serverEnv)]);
  ({ secret } = await createApiKey(env.deps.dbHandle.db, cliActor, { name: 'realtime', scopes: ['credits:write', 'credits:read'] }));
  const signed = await signedInCaller(env.deps, 'analyst');
  sessionToken = signed.token;
  cookie = `cd_session=${signed.token}`;
}, 120_000);
afterAll(async () => {
  for (const s of streams) s.close();
  await Promise.all(servers.map((s) => s.stop()));
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const consume = (server: number, userId: string, idempotencyKey = key(), extra: Record<string, unknown> = {}) =>
  trpcHttp(servers[server]!.url, secret).mutation('credits.consume', { userId, credits: 1, enhancementType: 'lighting', idempotencyKey, ...extra });
function stream<T = any>(server: number, procedure: string, input: unknown, opts: { cookie?: string; lastEventId?: string } = { cookie }) {
  const s = openStream<T>(servers[server]!.url, `admin.live.${procedure}`, input, opts);
  streams.push(s);
  return s;
}
/** The ledger feed's rows, across its events (one event per hub tick). */
const rowsOf = (s: SseStream<LiveLedgerEvent>): LiveLedgerRow[] => s.events.flatMap((e) => e.data.rows.map(fromLiveTuple));
const idsOf = (s: SseStream<LiveLedgerEvent>) => rowsOf(s).map((r) => r.transactionId);

describe('[REALTIME] live streams across server processes (Redis pub/sub)', () => {
  it('a consume committed on one server process reaches ledger and figure subscribers on another within 1 s', async () => {
    const userId = await newUser(db(), 'pro');
    const ledger = stream(1, 'ledger', { userId });
    const figures = stream(1, 'figures', {});
    await Promise.all([ledger.connected, figures.connected]);
    // The opening rows (the user's allocation) and the current figures arrive first.
    await waitFor(() => rowsOf(ledger).length >= 1 && figures.events.length >= 1, { what: 'opening events' });
    const before = figures.events.at(-1)!.data.creditsConsumedToday as number;

    const started = Date.now();
    const res = await consume(0, userId);
    expect(res.status).toBe(200);
    const txId = String(res.body.result.data.transactionId);
    const row = await waitFor(() => rowsOf(ledger).find((r) => r.transactionId === txId), { timeoutMs: 1_000, intervalMs: 10, what: 'the row on the other process' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(ledger.events.at(-1)!.id).toBe(txId);
    expect(row).toMatchObject({ transactionId: txId, userId, type: 'consumption', source: 'user_credits', creditsUsed: 1 });
    await waitFor(() => figures.events.some((e) => e.data.creditsConsumedToday === before + 1), { timeoutMs: 1_000 - (Date.now() - started), intervalMs: 10, what: 'the new figure' });

    // The figures are the dashboard's own.
    const dash = await createCaller(createContextInner(env.deps, { sessionToken })).admin.dashboard();
    expect(figures.events.at(-1)!.data).toEqual({
      platformCreditsRemaining: dash.platformCreditsRemaining,
      creditsConsumedToday: dash.creditsConsumedToday,
      requestsToday: dash.requestsToday,
      activeUsers: dash.activeUsers,
      monthCostUsd: dash.monthCostUsd,
      activeAlertCount: dash.activeAlertCount,
    });
    await expectLedgerClean(db());
  });

  it('a rolled-back change is never published and never reaches a stream; the next commit does', async () => {
    const userId = await newUser(db(), 'pro');
    const ledger = stream(1, 'ledger', { userId });
    await ledger.connected;
    await waitFor(() => rowsOf(ledger).length >= 1, { what: 'the allocation row' });
    const opening = rowsOf(ledger).length;

    // A charge whose provider leg fails after the user leg was debited: the transaction rolls back.
    const bus = env.deps.realtime.bus;
    const caller = createCaller(createContextInner(env.deps, { bearer: secret }));
    const publishedBefore = bus.published;
    await expect(caller.credits.consume({ userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key(), provider: 'no-such-provider' })).rejects.toThrow();
    await bus.flush();
    expect(bus.published).toBe(publishedBefore);
    // And one written straight in a transaction that throws.
    await expect(
      db().transaction(async (tx) => {
        await consumeCredits(tx, { userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');

    const ok = await caller.credits.consume({ userId, credits: 1, enhancementType: 'lighting', idempotencyKey: key() });
    await bus.flush();
    expect(bus.published).toBe(publishedBefore + 1);
    await waitFor(() => rowsOf(ledger).length > opening, { timeoutMs: 1_000, intervalMs: 10, what: 'the committed row' });
    // The first row after the opening ones is the committed charge: nothing of the rolled-back ones.
    expect(idsOf(ledger).slice(opening)).toEqual([String(ok.transactionId)]);
    const [{ n }] = (await queryRows(db(), countRow, sql`select count(*)::int as n from credit_transactions where user_id = ${userId} and transaction_type = 'consumption'`)) as [{ n: number }];
    expect(n).toBe(1);
    await expectLedgerClean(db());
  });

  it('a stream resumed with its last event id gets every row committed while it was away, in order, then live ones', async () => {
    const userId = await newUser(db(), 'pro');
    const first = stream(0, 'ledger', { userId, type: 'consumption' });
    await first.connected;
    const a = await consume(1, userId);
    const aId = String(a.body.result.data.transactionId);
    await waitFor(() => idsOf(first).includes(aId), { what: 'the first row' });
    first.close();

    const missed: string[] = [];
    for (let i = 0; i < 3; i++) missed.push(String((await consume(1, userId)).body.result.data.transactionId));
    // Reconnects to the OTHER process, as a browser behind a load balancer may.
    const resumed = stream(1, 'ledger', { userId, type: 'consumption' }, { cookie, lastEventId: aId });
    await waitFor(() => idsOf(resumed).length >= 3, { what: 'the missed rows' });
    expect(idsOf(resumed)).toEqual(missed);
    const live = String((await consume(0, userId)).body.result.data.transactionId);
    await waitFor(() => idsOf(resumed).length >= 4, { timeoutMs: 1_000, what: 'the live row' });
    expect(idsOf(resumed)).toEqual([...missed, live]);
    await expectLedgerClean(db());
  });

  it('provider state changes and alerts raised and resolved reach their streams within 1 s, whoever wrote them', async () => {
    const providers = stream(1, 'providers', {});
    const alerts = stream(1, 'alerts', {});
    await Promise.all([providers.connected, alerts.connected]);
    await waitFor(() => providers.events.length >= 1 && alerts.events.length >= 1, { what: 'the snapshots' });
    expect(providers.events[0]!.data.kind).toBe('snapshot');
    const local = providers.events[0]!.data.providers.find((p: { name: string }) => p.name === 'local');
    expect(local).toMatchObject({ isActive: true, archived: false });

    // Written with no hook at all (as psql or the CLI would): the hub's own tick still finds it.
    let started = Date.now();
    await db().execute(sql`update api_providers set is_active = false where name = 'local'`);
    const changed = await waitFor(() => providers.events.find((e) => e.data.kind === 'changed'), { timeoutMs: 1_000, intervalMs: 10, what: 'the provider change' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(changed.data.providers).toEqual([expect.objectContaining({ name: 'local', isActive: false })]);
    await db().execute(sql`update api_providers set is_active = true where name = 'local'`);

    started = Date.now();
    const [{ id }] = (await queryRows(
      db(),
      z.object({ id: col.id }),
      sql`insert into system_alerts (type, level, subject, message) values ('realtime_test', 'warning', 'rt', 'a test alert') returning id::text as id`,
    )) as [{ id: string }];
    const raised = await waitFor(() => alerts.events.find((e) => e.data.kind === 'raised' && e.data.alerts[0].id === id), { timeoutMs: 1_000, intervalMs: 10, what: 'the raised alert' });
    expect(raised.data.alerts[0]).toMatchObject({ type: 'realtime_test', level: 'warning', status: 'open' });
    started = Date.now();
    await db().execute(sql`update system_alerts set status = 'resolved', resolved_at = now() where id = ${id}::bigint`);
    const resolved = await waitFor(() => alerts.events.find((e) => e.data.kind === 'resolved' && e.data.alerts[0].id === id), { timeoutMs: 1_000, intervalMs: 10, what: 'the resolved alert' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(resolved.data.alerts[0].status).toBe('resolved');
  });

  it('a stream whose session expires is closed with UNAUTHORIZED; without a session none opens', async () => {
    const signed = await signedInCaller(env.deps, 'analyst');
    const s = stream(0, 'figures', {}, { cookie: `cd_session=${signed.token}` });
    await s.connected;
    await waitFor(() => s.events.length >= 1, { what: 'the current figures' });
    const id = createHash('sha256').update(signed.token).digest('hex');
    await db().execute(sql`update admin_sessions set expires_at = now() - interval '1 second' where id = ${id}`);
    const ended = await waitFor(() => s.ended(), { timeoutMs: 10_000, what: 'the stream to close' });
    expect(ended).toMatchObject({ kind: 'error', error: { data: { code: 'UNAUTHORIZED' } } });

    const anonymous = stream(1, 'ledger', {}, {});
    const refused = await waitFor(() => anonymous.ended(), { what: 'the refusal' });
    expect(refused.kind).toBe('error');
    expect(JSON.stringify(refused.error)).toContain('UNAUTHORIZED');
  });
});

describe('[REALTIME] the change bus wakes every process after commit', () => {
  const log = pino({ level: 'silent' });

  it('over Redis pub/sub: many marks in one flush window are one message', async () => {
    const sub = new Redis(TEST_REDIS_URL);
    const got: string[] = [];
    await sub.subscribe(redisChannel(env.redisPrefix));
    sub.on('message', (_c, m) => got.push(m));
    const redis = new Redis(TEST_REDIS_URL);
    const bus = new ChangeBus({ redis, redisPrefix: env.redisPrefix, dbHandle: env.deps.dbHandle, log, origin: 'test-a' });
    for (let i = 0; i < 100; i++) bus.changed();
    await waitFor(() => got.includes('test-a'), { what: 'the message' });
    expect(bus.published).toBe(1);
    await bus.close();
    redis.disconnect();
    sub.disconnect();
  });

  it('without Redis, over PostgreSQL LISTEN/NOTIFY: one process marks, another hears it', async () => {
    const other = await openDb({ databaseUrl: env.databaseUrl, dataDir: env.env.DATA_DIR!, maxConnections: 2 });
    const publisher = new ChangeBus({ redis: null, redisPrefix: 'x', dbHandle: env.deps.dbHandle, log, origin: 'pg-a' });
    const listener = new ChangeBus({ redis: null, redisPrefix: 'x', dbHandle: other, log, origin: 'pg-b' });
    let woken = 0;
    await listener.subscribe(() => woken++);
    publisher.changed();
    await waitFor(() => woken > 0, { what: 'the NOTIFY' });
    await Promise.all([publisher.close(), listener.close()]);
    await other.close();
  });

  it('on embedded PGlite, through its listen API', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cd-rt-pglite-'));
    const handle = await openDb({ dataDir: dir });
    try {
      const bus = new ChangeBus({ redis: null, redisPrefix: 'x', dbHandle: handle, log, origin: 'lite' });
      let woken = 0;
      await bus.subscribe(() => woken++);
      bus.changed();
      await waitFor(() => woken > 0, { what: 'the PGlite notification' });
      await bus.close();
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
    // A fresh PGlite data directory runs initdb: seconds alone, tens of seconds beside the whole suite.
  }, 120_000);
});
