import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimizeAllocation } from '../analytics/reallocation';
import { buildApp } from '../app';
import { cliActor } from '../auth/audit';
import { grantCredits } from '../ledger/admin-ops';
import { consumeCredits } from '../ledger/consume';
import { allocateMonthlyCredits } from '../ledger/monthly-reset';
import { degrade } from '../providers/degrade';
import { userNotifications } from '../providers/tables';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { expectLedgerClean, key, newUser } from '../test/ledger-helpers';

let env: TestEnv;
let app: FastifyInstance;
let origin: string;
let reader: string;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
  app = await buildApp(env.deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  reader = (await apiKeyCaller(env.deps, ['credits:read'])).secret;
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

const tokenFor = (userId: string) => env.deps.userTokens.mint(userId, 600).token;

async function seedNotices(userId: string, n: number) {
  await db()
    .insert(userNotifications)
    .values(
      Array.from({ length: n }, (_, i) => ({
        userId,
        type: 'upgrade_suggestion',
        title: `Notice ${i}`,
        message: `Message ${i}`,
        action: { kind: 'upgrade', tier: 'pro', label: 'Upgrade to pro' },
        metadata: { i },
      })),
    );
}

describe('[NOTIFICATIONS] users.notifications over HTTP', () => {
  it("pages a user's notices newest first by cursor, each page disjoint, until nextCursor is null", async () => {
    const userId = await newUser(db(), 'plus');
    await seedNotices(userId, 7);
    const http = trpcHttp(origin, reader);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const res = await http.query('users.notifications', { userId, limit: 3, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      const page = res.body.result.data;
      expect(page.unreadCount).toBe(7);
      seen.push(...page.items.map((n: { title: string }) => n.title));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['Notice 6', 'Notice 5', 'Notice 4', 'Notice 3', 'Notice 2', 'Notice 1', 'Notice 0']);
  });

  it('markRead by ids and by upTo marks only unread notices of that user; the path users.notifications.markRead works over HTTP', async () => {
    const userId = await newUser(db(), 'plus');
    const other = await newUser(db(), 'plus');
    await seedNotices(userId, 5);
    await seedNotices(other, 2);
    const http = trpcHttp(origin, reader);
    const first = (await http.query('users.notifications', { userId })).body.result.data;
    const otherIds = (await http.query('users.notifications', { userId: other })).body.result.data.items.map((n: { id: string }) => n.id);

    // Another user's id among the ids is passed over: only the user's own notice is marked.
    const byIds = await http.mutation('users.notifications.markRead', { userId, ids: [first.items[4].id, otherIds[0]] });
    expect(byIds.status).toBe(200);
    expect(byIds.body.result.data).toEqual({ marked: 1, unreadCount: 4 });
    expect((await http.query('users.notifications', { userId: other })).body.result.data.unreadCount).toBe(2);

    const upTo = await http.mutation('users.notifications.markRead', { userId, upTo: first.items[1].id });
    expect(upTo.body.result.data).toEqual({ marked: 3, unreadCount: 1 });
    const again = await http.mutation('users.notifications.markRead', { userId, upTo: first.items[1].id });
    expect(again.body.result.data).toEqual({ marked: 0, unreadCount: 1 });

    const unread = (await http.query('users.notifications', { userId, unreadOnly: true })).body.result.data;
    expect(unread.items.map((n: { id: string }) => n.id)).toEqual([first.items[0].id]);
    const all = (await http.query('users.notifications', { userId })).body.result.data;
    expect(all.items.filter((n: { readAt: string | null }) => n.readAt !== null)).toHaveLength(4);
  });

  it("a typed caller reaches the dotted key as users['notifications.markRead'] beside the users.notifications query", async () => {
    const userId = await newUser(db(), 'plus');
    await seedNotices(userId, 2);
    const { caller } = await apiKeyCaller(env.deps, ['credits:read']);
    const page = await caller.users.notifications({ userId });
    expect(page.unreadCount).toBe(2);
    expect(await caller.users['notifications.markRead']({ userId, upTo: page.items[0]!.id })).toEqual({ marked: 2, unreadCount: 0 });
  });

  it('markRead needs exactly one of ids and upTo', async () => {
    const userId = await newUser(db(), 'plus');
    const http = trpcHttp(origin, reader);
    for (const input of [{ userId }, { userId, ids: ['1'], upTo: '1' }]) {
      const res = await http.mutation('users.notifications.markRead', input);
      expect(res.status).toBe(400);
      expect(res.body.error.data.reason).toBe('BAD_REQUEST');
    }
  });

  it("a user token reads and marks its own notices (without metadata) and never another user's", async () => {
    const userId = await newUser(db(), 'plus');
    const other = await newUser(db(), 'plus');
    await seedNotices(userId, 2);
    await seedNotices(other, 2);
    const asUser = trpcHttp(origin, tokenFor(userId));
    const own = await asUser.query('users.notifications', { userId });
    expect(own.status).toBe(200);
    expect(own.body.result.data.items).toHaveLength(2);
    expect(own.body.result.data.items[0]).not.toHaveProperty('metadata');
    expect((await trpcHttp(origin, reader).query('users.notifications', { userId })).body.result.data.items[0].metadata).toEqual({ i: 1 });

    const read = await asUser.query('users.notifications', { userId: other });
    expect(read.status).toBe(403);
    const mark = await asUser.mutation('users.notifications.markRead', { userId: other, upTo: '999999999' });
    expect(mark.status).toBe(403);
    expect((await trpcHttp(origin, reader).query('users.notifications', { userId: other })).body.result.data.unreadCount).toBe(2);
    expect((await asUser.mutation('users.notifications.markRead', { userId, upTo: '999999999' })).body.result.data).toEqual({ marked: 2, unreadCount: 0 });
  });

  it('no credential, or an API key without credits:read, reads nothing', async () => {
    const userId = await newUser(db(), 'plus');
    expect((await trpcHttp(origin).query('users.notifications', { userId })).status).toBe(401);
    const writer = (await apiKeyCaller(env.deps, ['credits:write'])).secret;
    expect((await trpcHttp(origin, writer).query('users.notifications', { userId })).status).toBe(403);
    expect((await trpcHttp(origin, writer).mutation('users.notifications.markRead', { userId, upTo: '1' })).status).toBe(403);
  });

  it('the notices the server writes (a degraded enhancement, an upgrade suggestion) read back with a title, a message and an action', async () => {
    const userId = await newUser(db(), 'plus');
    await degrade(
      { db: db(), media: env.deps.gateway.media, log: env.deps.log },
      { userId, inputImageUrl: 'https://img.example.com/a.png', enhancementType: 'upscale', idempotencyKey: key() },
      { bytes: Buffer.alloc(0), contentType: 'image/png' },
      'no provider could serve',
    );
    await db().execute(sql`update platform_settings set upgrade_min_enhancements = 0`);
    await consumeCredits(db(), { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() });
    expect((await optimizeAllocation(db())).upgradeSuggestions).toBeGreaterThanOrEqual(1);

    const page = (await trpcHttp(origin, tokenFor(userId)).query('users.notifications', { userId })).body.result.data;
    expect(page.items.map((n: { type: string }) => n.type)).toEqual(['upgrade_suggestion', 'enhancement_degraded']);
    for (const n of page.items) {
      expect(n.title.length).toBeGreaterThan(0);
      expect(n.message.length).toBeGreaterThan(0);
      expect(n.action).toMatchObject({ kind: expect.any(String), label: expect.any(String) });
    }
    expect(page.items[0].action).toEqual({ kind: 'upgrade', tier: 'pro', label: 'Upgrade to pro' });
    expect(page.items[1].action).toEqual({ kind: 'retry', label: 'Try the AI enhancement again', retryAfterSeconds: 1800 });
    await expectLedgerClean(db());
  });

  it('[NOTIFICATIONS] a low-credit notice is written when the balance crosses below 20% of the allowance, once per user and month', async () => {
    const plus = await newUser(db(), 'plus'); // allowance 10: below 20% is 1 or 0 left
    const pro = await newUser(db(), 'pro'); // allowance 25: below 20% is under 5
    const consume = (userId: string, credits: number) => consumeCredits(db(), { userId, credits, enhancementType: 'color', idempotencyKey: key() });
    await consume(plus, 8);
    const lows = async (userId: string) =>
      (await trpcHttp(origin, tokenFor(userId)).query('users.notifications', { userId })).body.result.data.items.filter((n: { type: string }) => n.type === 'credits_low');
    expect(await lows(plus)).toHaveLength(0);
    await consume(plus, 1);
    await consume(plus, 1);
    const [notice] = await lows(plus);
    expect(notice).toMatchObject({ title: 'Your credits are running low', action: { kind: 'upgrade', tier: 'pro', label: 'Upgrade to pro' } });
    expect(notice.message).toMatch(/^1 of your 10 monthly credits are left/);
    expect(await lows(plus)).toHaveLength(1);

    // A grant lifts the balance and a second crossing follows in the same month: no second notice.
    await grantCredits(db(), cliActor, { userId: plus, credits: 10, reason: 'goodwill' });
    await consume(plus, 10);
    expect(await lows(plus)).toHaveLength(1);

    // A new month (the monthly reset): the next crossing is noticed again. A pro user waits for the reset.
    await db().execute(sql`update user_credits set last_reset_at = date_trunc('month', now(), 'UTC') - interval '3 days' where user_id = ${plus}`);
    expect((await allocateMonthlyCredits(db())).usersReset).toBeGreaterThanOrEqual(1);
    await consume(plus, 9);
    expect(await lows(plus)).toHaveLength(2);
    await consume(pro, 21);
    expect((await lows(pro))[0]).toMatchObject({ action: { kind: 'wait' } });
    await expectLedgerClean(db());
  });
});
