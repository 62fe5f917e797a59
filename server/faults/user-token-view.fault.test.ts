import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCaller, createTestEnv, signedInCaller, type TestEnv } from '../test/harness';
import { key, newUser } from '../test/ledger-helpers';
import { answerProblem } from './lib/http-shape';
import { readAnswer, startLiveServer, type LiveServer } from './lib/live-server';
import { expectReconciled } from './lib/reconciled';

/**
 * [USER-VIEW] An end user's token reads its own history in the public view alone: what moved and
 * when, never which admin changed it nor the reason they wrote.
 */

let env: TestEnv;
let server: LiveServer;
const db = () => env.deps.dbHandle.db;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startLiveServer(env.deps);
});
afterAll(async () => {
  await server?.close();
  await env?.close();
});

type Page = { items: Record<string, unknown>[]; nextCursor: string | null };
const history = async (bearer: string, userId: string) => {
  const answer = await readAnswer(await server.call('credits.history', { userId }, { query: true, headers: { authorization: `Bearer ${bearer}` } }));
  expect(answerProblem(answer)).toBeNull();
  return { page: (answer.body as { result: { data: Page } }).result.data, text: answer.text };
};

describe('[USER-VIEW] credits.history with a user token', () => {
  it("shows type, amount, balance after, time and enhancement type; no admin's email, reason, provider or cost", async () => {
    const userId = await newUser(db(), 'plus');
    const admin = await signedInCaller(env.deps, 'admin');
    const reason = 'goodwill after ticket #4411 — customer shouted at support';
    await admin.caller.admin.users.grant({ userId, credits: 7, reason });
    await admin.caller.admin.users.adjust({ userId, delta: -2, reason: `${reason} (correction)` });
    const app = await apiKeyCaller(env.deps, ['credits:read', 'credits:write']);
    await app.caller.credits.consume({ userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() });

    const { page, text } = await history(env.deps.userTokens.mint(userId, 600).token, userId);
    // Newest first; newUser's own allocation entry comes last.
    expect(page.items.length).toBeGreaterThanOrEqual(3);
    for (const item of page.items) {
      expect(Object.keys(item).sort()).toEqual(['balanceAfter', 'createdAt', 'creditsDelta', 'enhancementType', 'transactionId', 'type']);
    }
    expect(text).not.toContain(admin.admin.email);
    expect(text).not.toContain('ticket #4411');
    expect(page.items.slice(0, 3).map((i) => i.creditsDelta)).toEqual([-1, -2, 7]);

    // The product app's key still reads the full entries.
    const full = await history(app.secret, userId);
    expect(full.page.items.slice(0, 3).map((i) => i.actor)).toEqual([null, admin.admin.email, admin.admin.email]);
    expect(full.text).toContain('ticket #4411');
    await expectReconciled(db());
  });
});
