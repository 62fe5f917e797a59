import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { exportNames } from '../../shared/exports';
import { buildApp } from '../app';
import { createAdmin } from '../auth/admins';
import { cliActor } from '../auth/audit';
import { login } from '../auth/sessions';
import { col, queryRows } from '../db/rows';
import { exportLimits } from '../exports/export-routes';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';

/**
 * [EXPORT] The CSV export routes hold to the rules of the admin procedures they sit beside: a
 * session whose generated password must still be changed exports nothing, and no analyst can
 * take the database's connections by opening exports and never reading them (each one streams
 * through a server-side cursor, which keeps its connection until the export ends).
 */

let env: TestEnv;
let app: FastifyInstance;
let port: number;
let analystCookie: string;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp(env.deps);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  analystCookie = `cd_session=${(await signedInCaller(env.deps, 'analyst')).token}`;
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

/** A GET whose body is never read: the response is paused, so the server's writes back up. */
function stalledGet(path: string, cookie: string): Promise<{ res: IncomingMessage; req: ClientRequest }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { cookie } }, (res) => {
      res.pause();
      resolve({ res, req });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Audit-export queries still holding a connection (a cursor between batches is not idle). */
const exportCursorsOpen = async () =>
  (
    await queryRows(
      db(),
      z.object({ n: col.integer }),
      sql`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle' and query like '%from audit_log a%'`,
    )
  )[0]!.n;

const within = <T>(ms: number, p: Promise<T>) => Promise.race([p, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref())]);

describe('[EXPORT] a session that must still change its generated password exports nothing', () => {
  it('every /export/*.csv refuses it (403), as every admin procedure but auth.me, logout and changePassword does', async () => {
    const email = `${uniqueId('forced')}@example.com`;
    const created = await createAdmin(db(), cliActor, { email, role: 'admin' });
    const session = await login(db(), env.deps.throttle, 1, { email, password: created.generatedPassword!, address: '10.0.0.7' });
    const got = [];
    for (const name of exportNames) {
      const res = await app.inject({ method: 'GET', url: `/export/${name}.csv`, headers: { cookie: `cd_session=${session.token}` } });
      got.push({ name, status: res.statusCode, csv: res.headers['content-type']?.toString().startsWith('text/csv') ?? false });
    }
    expect(got).toEqual(exportNames.map((name) => ({ name, status: 403, csv: false })));
  });
});

describe('[EXPORT] exports that are opened and never read cannot take the database', () => {
  beforeAll(async () => {
    // Far more CSV than socket buffers hold: an export that is not read stalls on its cursor.
    await db().execute(sql`
      insert into audit_log (actor_label, action, target_type, target_id, before, after, reason)
      select 'cli', 'job.run', 'job', 'stall', jsonb_build_object('pad', repeat('x', 800), 'n', g), null, 'r' || g
      from generate_series(1, 30000) g`);
  });

  it('as many stalled exports as the pool has connections: the server still answers, later exports are refused (429) until slots free', async () => {
    const poolMax = env.deps.config.DATABASE_POOL_MAX;
    const opened: { res: IncomingMessage; req: ClientRequest }[] = [];
    try {
      const all = await within(20_000, Promise.all(Array.from({ length: poolMax }, () => stalledGet('/export/audit.csv?targetId=stall', analystCookie))));
      if (all === 'timed out') throw new Error('the exports themselves waited for a connection: the pool is taken');
      opened.push(...all);
      // The rest of the server still reaches the database.
      const health = await within(
        10_000,
        app.inject({ method: 'GET', url: '/healthz' }).then((r) => r.json<{ database: string }>().database),
      );
      expect(health).toBe('up');
      const query = await within(
        10_000,
        app.inject({ method: 'GET', url: '/trpc/admin.audit.list?input=%7B%7D', headers: { cookie: analystCookie } }).then((r) => r.statusCode),
      );
      expect(query).toBe(200);
      const statuses = opened.map((o) => o.res.statusCode);
      // Some were let through (exports work), the rest refused with a wait, not queued on the pool.
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s === 200).length).toBeLessThan(poolMax);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      const refused = opened.find((o) => o.res.statusCode === 429)!;
      expect(Number(refused.res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      for (const o of opened) o.req.destroy();
    }
    // Hung up: their slots come back, and an export runs to its end again.
    await expect.poll(async () => (await app.inject({ method: 'GET', url: '/export/users.csv', headers: { cookie: analystCookie } })).statusCode, { timeout: 10_000 }).toBe(200);
  });

  it('an export whose reader stops reading is ended after the stall limit, giving its slot and connection back', async () => {
    const saved = exportLimits.stallMs;
    const opened: { res: IncomingMessage; req: ClientRequest }[] = [];
    exportLimits.stallMs = 300;
    try {
      const slots = exportLimits.maxConcurrent(env.deps.config.DATABASE_POOL_MAX);
      for (let i = 0; i < slots; i++) opened.push(await stalledGet('/export/audit.csv?targetId=stall', analystCookie));
      expect(opened.map((o) => o.res.statusCode)).toEqual(Array(slots).fill(200));
      // While their readers stay connected and silent, the server ends them: every cursor is closed...
      await expect.poll(exportCursorsOpen, { timeout: 10_000 }).toBe(0);
      // ...and their slots are back: exports are served again.
      await expect.poll(async () => (await app.inject({ method: 'GET', url: '/export/users.csv', headers: { cookie: analystCookie } })).statusCode, { timeout: 10_000 }).toBe(200);
    } finally {
      exportLimits.stallMs = saved;
      for (const o of opened) o.req.destroy();
    }
  });

  it('an export whose session is revoked while it streams is cut off, not streamed to its end', async () => {
    const saved = exportLimits.sessionRecheckMs;
    exportLimits.sessionRecheckMs = 0;
    try {
      const thief = await signedInCaller(env.deps, 'analyst');
      const res = await fetch(`http://127.0.0.1:${port}/export/audit.csv?targetId=stall`, { headers: { cookie: `cd_session=${thief.token}` } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let bytes = (await reader.read()).value?.length ?? 0;
      // Its owner sees the session in their list and ends it (revoking it from the session itself is the same revoke).
      const [stolen] = await thief.caller.auth.sessions.list();
      await thief.caller.auth.sessions.revoke({ id: stolen!.id });
      const outcome = await (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return 'ended cleanly';
          bytes += value.length;
        }
      })().catch(() => 'cut off');
      expect(outcome).toBe('cut off');
      // Far short of the 30,000 rows (about 25 MB) the export holds.
      expect(bytes).toBeLessThan(20_000_000);
      await expect.poll(exportCursorsOpen, { timeout: 10_000 }).toBe(0);
    } finally {
      exportLimits.sessionRecheckMs = saved;
    }
  });
});
