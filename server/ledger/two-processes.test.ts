import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { createTestEnv, type TestEnv } from '../test/harness';
import { trpcHttp } from '../test/http-client';
import { balanceRow, countEntries, expectLedgerClean, key, newUser } from '../test/ledger-helpers';
import { startServer, type ServerProcess } from '../test/spawn';
import { grantCredits } from './admin-ops';
import { expireReservations } from './release-reservation';
import { creditReservations } from './tables';

let env: TestEnv;
let servers: ServerProcess[] = [];
let secret: string;

beforeAll(async () => {
  env = await createTestEnv();
  const serverEnv = { ...env.env, REDIS_URL: 'off', LOG_LEVEL: 'warn', DATA_DIR: env.env.DATA_DIR!, DATABASE_POOL_MAX: '8' };
  servers = await Promise.all([startServer(serverEnv), startServer(serverEnv)]);
  ({ secret } = await createApiKey(env.deps.dbHandle.db, cliActor, { name: 'two processes', scopes: ['credits:write', 'credits:read'] }));
}, 120_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await env.close();
});

const db = () => env.deps.dbHandle.db;
const client = (i: number) => trpcHttp(servers[i % servers.length]!.url, secret);
const consumeInput = (userId: string, idempotencyKey = key()) => ({ userId, credits: 1, enhancementType: 'lighting', idempotencyKey });

describe('[LEDGER] two server processes against one database', () => {
  it('200 concurrent consumes split across both: exactly 10 of 10 granted credits are spent', async () => {
    const userId = await newUser(db(), 'free');
    await grantCredits(db(), cliActor, { userId, credits: 10, reason: 'test grant' });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => client(i).mutation('credits.consume', consumeInput(userId))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(190);
    expect(refused.every((r) => r.body.error.data.reason === 'INSUFFICIENT_CREDITS')).toBe(true);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 0 });
    await expectLedgerClean(db());
  });

  it('100 replays of one key across both processes charge once', async () => {
    const userId = await newUser(db(), 'pro');
    const input = consumeInput(userId);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client(i).mutation('credits.consume', input)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(new Set(results.map((r) => r.body.result.data.transactionId)).size).toBe(1);
    expect(await countEntries(db(), userId, 'consumption')).toBe(1);
    expect(await balanceRow(db(), userId)).toMatchObject({ total: 24 });
    await expectLedgerClean(db());
  });

  it('a hold reserved on one process is captured once on the other; expiry is settled once', async () => {
    const userId = await newUser(db(), 'plus');
    const hold = await client(0).mutation('credits.reserve', consumeInput(userId));
    expect(hold.status).toBe(200);
    const captures = await Promise.all(Array.from({ length: 10 }, (_, i) => client(i).mutation('credits.capture', { reservationId: hold.body.result.data.reservationId, costUsd: '0.02' })));
    expect(captures.every((c) => c.status === 200)).toBe(true);
    expect(await countEntries(db(), userId, 'capture')).toBe(1);

    const stale = await client(1).mutation('credits.reserve', consumeInput(userId));
    await db()
      .update(creditReservations)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(creditReservations.id, stale.body.result.data.reservationId));
    const capture = await client(0).mutation('credits.capture', { reservationId: stale.body.result.data.reservationId });
    expect(capture.body.error.data.reason).toBe('RESERVATION_EXPIRED');
    await Promise.all([expireReservations(db()), expireReservations(db())]);
    expect(await countEntries(db(), userId, 'release')).toBe(1);
    const balance = await client(1).query('credits.balance', { userId });
    expect(balance.body.result.data.currentBalance).toBe(9);
    await expectLedgerClean(db());
  });
});
