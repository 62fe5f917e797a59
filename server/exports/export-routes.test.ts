import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../app';
import { audit, cliActor } from '../auth/audit';
import { openDb } from '../db/client';
import { migrate } from '../db/migrate';
import { col, queryRows } from '../db/rows';
import { grantCredits } from '../ledger/admin-ops';
import { consumeCredits } from '../ledger/consume';
import { apiKeyCaller, createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { key, newUser } from '../test/ledger-helpers';
import { rowBatches } from './row-batches';
import { exportSources } from './sources';

let env: TestEnv;
let app: FastifyInstance;
let base: string;
let adminCookie: string;
let analystCookie: string;
const cursorBatches: number[] = [];
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
  // The handle's cursor, wrapped to see the batches the exports read.
  const handle = env.deps.dbHandle;
  app = await buildApp({
    ...env.deps,
    dbHandle: {
      ...handle,
      cursor: async function* (query, batchSize) {
        for await (const rows of handle.cursor!(query, batchSize)) {
          cursorBatches.push(rows.length);
          yield rows;
        }
      },
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  adminCookie = `cd_session=${(await signedInCaller(env.deps, 'admin')).token}`;
  analystCookie = `cd_session=${(await signedInCaller(env.deps, 'analyst')).token}`;
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

const get = (url: string, headers: Record<string, string> = {}) => fetch(`${base}${url}`, { headers });

/** A minimal RFC 4180 reader for the assertions: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  return records;
}

describe('[EXPORT] CSV exports need an admin or analyst session', () => {
  it.each(['ledger', 'audit', 'users', 'purchase-requests', 'alerts'])('/export/%s.csv refuses no session, a made-up session and an API key (401); an analyst may export', async (name) => {
    const { secret } = await apiKeyCaller(env.deps, ['credits:read', 'credits:write', 'enhance', 'users:write']);
    expect((await get(`/export/${name}.csv`)).status).toBe(401);
    expect((await get(`/export/${name}.csv`, { cookie: 'cd_session=made-up' })).status).toBe(401);
    expect((await get(`/export/${name}.csv`, { authorization: `Bearer ${secret}` })).status).toBe(401);
    const ok = await get(`/export/${name}.csv`, { cookie: analystCookie });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(ok.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="creditdesk-${name}-\\d{8}-\\d{4}\\.csv"$`));
    expect(parseCsv(await ok.text())[0]).toEqual(exportSources[name as keyof typeof exportSources].columns);
  });

  it('a bad or unknown filter is a 400 naming it, not an export of everything', async () => {
    const bad = await get('/export/ledger.csv?type=theft', { cookie: adminCookie });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/^type: /);
    const unknown = await get('/export/audit.csv?actr=someone', { cookie: adminCookie });
    expect(unknown.status).toBe(400);
    expect((await get('/export/audit.csv?actor=a&actor=b', { cookie: adminCookie })).status).toBe(400);
  });
});

describe('[EXPORT] exports carry the page’s filters, exact money, ISO times and guarded text', () => {
  it('the ledger export of one user (by email) is that user’s entries, newest first, cost as a decimal string', async () => {
    const userId = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId, credits: 5, reason: '=cmd|"/c calc"!A1, "quoted"' });
    const charge = await consumeCredits(db(), { userId, credits: 2, enhancementType: 'upscale', idempotencyKey: key() });
    await db().execute(sql`update credit_transactions set provider = 'fal', cost_usd = '0.039000' where id = ${charge.transactionId}::bigint`);
    const res = await get(`/export/ledger.csv?query=${encodeURIComponent(`${userId}@example.com`)}`, { cookie: adminCookie });
    const [header, ...rows] = parseCsv(await res.text());
    const column = (name: string) => header!.indexOf(name);
    const stored = await queryRows(db(), z.object({ id: col.id }), sql`select id::text from credit_transactions where user_id = ${userId} order by id desc`);
    expect(rows.map((r) => r[column('transaction_id')])).toEqual(stored.map((r) => r.id));
    const consumption = rows.find((r) => r[column('type')] === 'consumption')!;
    expect(consumption[column('cost_usd')]).toBe('0.039000');
    expect(consumption[column('credits_delta')]).toBe('-2');
    expect(consumption[column('created_at')]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The formula in the reason is defused, and its quotes and comma survive the round trip.
    expect(rows.find((r) => r[column('type')] === 'grant')![column('reason')]).toBe(`'=cmd|"/c calc"!A1, "quoted"`);
  });

  it('the users export takes the Users page filters (search prefix, tier, out of credits)', async () => {
    const prefix = uniqueId('exp');
    for (const tier of ['free', 'plus', 'pro'] as const) await db().execute(sql`insert into users (user_id, email, tier) values (${`${prefix}-${tier}`}, ${`${prefix}-${tier}@example.com`}, ${tier})`);
    const res = await get(`/export/users.csv?search=${prefix}&tier=plus`, { cookie: adminCookie });
    const [header, ...rows] = parseCsv(await res.text());
    expect(rows.map((r) => r[header!.indexOf('user_id')])).toEqual([`${prefix}-plus`]);
    const all = parseCsv(await (await get(`/export/users.csv?search=${prefix}&outOfCredits=true`, { cookie: adminCookie })).text());
    expect(all.slice(1).map((r) => r[0])).toEqual([`${prefix}-free`, `${prefix}-plus`, `${prefix}-pro`]);
  });

  it('the alerts and purchase-request exports take their tables’ filters', async () => {
    const type = `exp_${uniqueId('t').replace(/-/g, '_')}`;
    await db().execute(sql`insert into system_alerts (type, level, subject, message, status) values (${type}, 'warning', 's1', '@SUM(A1)', 'open'), (${type}, 'error', 's2', 'two', 'resolved')`);
    const [header, ...rows] = parseCsv(await (await get(`/export/alerts.csv?type=${type}&level=warning`, { cookie: adminCookie })).text());
    expect(rows.map((r) => r[header!.indexOf('message')])).toEqual(["'@SUM(A1)"]);
    const requests = await get('/export/purchase-requests.csv?status=rejected&provider=nobody', { cookie: adminCookie });
    expect(parseCsv(await requests.text())).toHaveLength(1);
  });
});

describe('[EXPORT] exports stream', () => {
  it('20,000 audit entries arrive complete, in many chunks, read through the cursor 1,000 at a time', async () => {
    const target = uniqueId('stream');
    await db().execute(sql`
      insert into audit_log (actor_label, action, target_type, target_id, before, after, reason)
      select 'cli', 'job.run', 'job', ${target}, jsonb_build_object('n', g), jsonb_build_object('n', g + 1, 'note', 'a "quoted", text'), '+reason ' || g
      from generate_series(1, 20000) g`);
    cursorBatches.length = 0;
    const res = await get(`/export/audit.csv?targetId=${target}`, { cookie: adminCookie });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let chunks = 0;
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks++;
      text += decoder.decode(value, { stream: true });
    }
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(exportSources.audit.columns);
    expect(rows).toHaveLength(20_000);
    expect(chunks).toBeGreaterThan(20);
    expect(cursorBatches).toEqual(Array(20).fill(1_000));
    // Newest first, each row whole: its JSON parses, its reason is guarded.
    expect(JSON.parse(rows[0]![header!.indexOf('before')]!)).toEqual({ n: 20_000 });
    expect(JSON.parse(rows[19_999]![header!.indexOf('after')]!)).toEqual({ n: 2, note: 'a "quoted", text' });
    expect(rows[0]![header!.indexOf('reason')]).toBe("'+reason 20000");
  });

  it('a reader that hangs up early ends the cursor without reading the rest, and the server carries on', async () => {
    cursorBatches.length = 0;
    const res = await get('/export/audit.csv', { cookie: adminCookie });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/export/audit.csv?action=job.run&actor=cli&targetId=none', { cookie: adminCookie })).status).toBe(200);
    // The cursor stopped with the batches already in flight: far fewer than the 20+ the whole log takes.
    expect(cursorBatches.length).toBeLessThan(10);
  });

  it('on PGlite (no cursor) the rows come by keyset pages of the batch size, each row once, in order', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-export-pglite-'));
    const handle = await openDb({ dataDir });
    try {
      await migrate(handle);
      expect(handle.cursor).toBeNull();
      for (let i = 0; i < 25; i++) await audit(handle.db, cliActor, { action: 'job.run', targetType: 'job', targetId: 'pglite', reason: `r${i}` });
      const batches: string[][] = [];
      for await (const rows of rowBatches(handle, exportSources.audit, { targetId: 'pglite' }, 10)) batches.push(rows.map((r) => String(r.reason)));
      expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
      expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `r${24 - i}`));
    } finally {
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    // An embedded PGlite runs every migration in this process: minutes on a busy 2-core machine.
  }, 120_000);
});
