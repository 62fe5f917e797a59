import { submitEnhancement } from '../providers/async-enhancement';
import { randomBytes } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { apiKeyScopes, type ApiKeyScope } from '../../shared/enums';
import { runAlertDispatch } from '../alerts/alert-service';
import { login } from '../auth/sessions';
import { UserTokens } from '../auth/user-tokens';
import { col, queryRows } from '../db/rows';
import { reserveCredits } from '../ledger/reserve-credits';
import { runEnhancement } from '../providers/gateway';
import { createContextInner } from '../trpc/context';
import { startFakeChannels, type FakeChannels } from '../test/fake-channels';
import { startFakeBilling } from '../test/fake-billing';
import { startFakeProvider, startImageServer } from '../test/fake-providers';
import { createCaller, createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { key, newUser } from '../test/ledger-helpers';
import { configureProviders } from '../test/provider-helpers';
import { appRouter } from '../trpc/root';
import { changedTables, tableFingerprint } from './lib/db-snapshot';
import { expectReconciled } from './lib/reconciled';

/**
 * [ACCESS] Who may call what, for every procedure the router has (enumerated from the router, so a
 * new procedure is covered, or the test says it needs classifying): admin procedures need a
 * session and admin mutations the admin role; API-key procedures a live key with their scope; a
 * user token reads its own user alone. And no answer to any admin query leaks a secret.
 */

type Caller = ReturnType<typeof createCaller>;
type ProcedureDef = { _def: { type: 'query' | 'mutation' | 'subscription'; inputs: unknown[] } };
const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;
const allPaths = Object.keys(procedures).sort();
const isQuery = (path: string) => procedures[path]!._def.type === 'query';
/** Subscriptions (admin.live.*) read, as queries do: analysts may open them. */
const isMutation = (path: string) => procedures[path]!._def.type === 'mutation';
const takesInput = (path: string) => procedures[path]!._def.inputs.length > 0;

/** Calls a procedure by its dotted path. */
function invoke(caller: Caller, path: string, input?: unknown): Promise<unknown> {
  const fn = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller);
  return (fn as (input?: unknown) => Promise<unknown>)(input);
}
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: unknown) => (e instanceof TRPCError ? e.code : `THREW ${String(e)}`),
  );

// ---- the classification every procedure must have ----

/** Session procedures outside admin.*: any signed-in admin or analyst. */
const SESSION_PROCEDURES = new Set([
  'auth.me',
  'auth.logout',
  'auth.changePassword',
  'auth.sessions.list',
  'auth.sessions.revoke',
  'auth.totp.status',
  'auth.totp.begin',
  'auth.totp.confirm',
  'auth.totp.disable',
]);
/** What a session whose generated password must still be changed may call: nothing else. */
const DURING_PASSWORD_CHANGE = new Set(['auth.me', 'auth.logout', 'auth.changePassword']);
/** API-key procedures and the scope each needs. */
const API_KEY_SCOPE: Record<string, ApiKeyScope> = {
  'users.upsert': 'users:write',
  'credits.consume': 'credits:write',
  'credits.reserve': 'credits:write',
  'credits.capture': 'credits:write',
  'credits.release': 'credits:write',
  'enhance.run': 'enhance',
  'enhance.submit': 'enhance',
  'enhance.get': 'enhance',
  'auth.userToken': 'users:write',
};
/** Reads of one user: an API key with credits:read, or that user's own token. */
const USER_READ = new Set(['credits.balance', 'credits.history', 'users.notifications', 'users.notifications.markRead']);
/** What a user read needs beside its userId. */
const USER_READ_INPUT: Record<string, object> = { 'users.notifications.markRead': { upTo: '1' } };
const PUBLIC = new Set(['auth.login']);
const isAdminPath = (p: string) => p.startsWith('admin.');

let env: TestEnv;
let images: Awaited<ReturnType<typeof startImageServer>>;
let admin: Awaited<ReturnType<typeof signedInCaller>>;
let analyst: Awaited<ReturnType<typeof signedInCaller>>;
const db = () => env.deps.dbHandle.db;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  images = await startImageServer();
  closers.push(images.close);
  admin = await signedInCaller(env.deps, 'admin');
  analyst = await signedInCaller(env.deps, 'analyst');
});
afterAll(async () => {
  for (const close of closers) await close();
  await env?.close();
});

const bearerCaller = (bearer: string | null) => createCaller(createContextInner(env.deps, { bearer: bearer ?? undefined }));
const sessionCaller = (token: string) => createCaller(createContextInner(env.deps, { sessionToken: token }));
const newKey = async (scopes: ApiKeyScope[]) => {
  const created = await admin.caller.admin.apiKeys.create({ name: uniqueId('key'), scopes });
  return created;
};

/** Runs `refusals`, asserting each refused with its code and that nothing in the database changed. */
async function expectRefusedWithoutWrites(cases: { label: string; call: () => Promise<unknown>; code: string }[]) {
  // api_keys and admin_sessions are counted only: a key or session check may move last_used_at / last_seen_at.
  const countOnly = ['api_keys', 'admin_sessions'];
  // Usage counts are written once a second: the ones earlier successful calls left go in first, and
  // the refusals' are flushed before the comparison, so a refused call that counted would show.
  await env.deps.apiKeys.usage.flush();
  const before = await tableFingerprint(db(), { countOnly });
  const got = [];
  for (const c of cases) got.push({ label: c.label, code: await codeOf(c.call()) });
  expect(got).toEqual(cases.map((c) => ({ label: c.label, code: c.code })));
  await env.deps.apiKeys.usage.flush();
  expect(changedTables(before, await tableFingerprint(db(), { countOnly }))).toEqual([]);
}

// ---- valid inputs for the admin queries that take one ----

type QueryContext = { userId: string; provider: string; alertId: string; webhookEndpointId: string };
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** Every admin query that takes input needs an entry here: a new one without it fails the test below. */
const ADMIN_QUERY_INPUTS: Record<string, (c: QueryContext) => unknown> = {
  'admin.users.list': () => ({ search: '', sort: 'balance', direction: 'desc' }),
  'admin.users.get': (c) => ({ userId: c.userId }),
  'admin.users.history': (c) => ({ userId: c.userId }),
  'admin.users.bulkGrantPreview': () => ({ filter: { tier: 'plus', search: 'acc' }, credits: 5 }),
  'admin.providers.list': () => ({ includeArchived: true }),
  'admin.pools.list': () => ({ includeArchived: true }),
  'admin.pools.get': (c) => ({ provider: c.provider }),
  'admin.purchaseRequests.list': () => ({}),
  'admin.jobs.runs': () => ({}),
  'admin.usage.trend': () => ({ range: { from: day(-30), to: day(0) }, split: 'provider' }),
  'admin.usage.topUsers': () => ({ range: { from: day(-30), to: day(0) } }),
  'admin.usage.whatIf': () => ({
    tiers: { free: { monthlyCredits: 0, poolAccess: false }, plus: { monthlyCredits: 10, poolAccess: true }, pro: { monthlyCredits: 25, poolAccess: true } },
  }),
  'admin.alerts.active': () => ({}),
  'admin.alerts.history': () => ({}),
  'admin.alerts.deliveries': (c) => ({ id: c.alertId }),
  'admin.audit.list': () => ({ action: 'pool.', from: new Date(Date.now() - 86_400_000).toISOString() }),
  'admin.ledger.search': (c) => ({ query: c.userId, type: 'consumption' }),
  'admin.webhooks.deliveries': (c) => ({ endpointId: c.webhookEndpointId }),
  'admin.payments.events.list': () => ({ outcome: 'ignored' }),
};

describe('[ACCESS] every procedure is classified', () => {
  it('each procedure is an admin one, a session one, an API-key one with its scope, a user read, or public', () => {
    const unclassified = allPaths.filter((p) => !isAdminPath(p) && !SESSION_PROCEDURES.has(p) && !(p in API_KEY_SCOPE) && !USER_READ.has(p) && !PUBLIC.has(p));
    expect(unclassified).toEqual([]);
    // And the tables name nothing that no longer exists.
    const named = [...SESSION_PROCEDURES, ...Object.keys(API_KEY_SCOPE), ...USER_READ, ...PUBLIC, ...Object.keys(ADMIN_QUERY_INPUTS)];
    expect(named.filter((p) => !allPaths.includes(p))).toEqual([]);
  });

  it('each admin query that takes input has a valid input in the table', () => {
    const missing = allPaths.filter((p) => isAdminPath(p) && isQuery(p) && takesInput(p) && !(p in ADMIN_QUERY_INPUTS));
    expect(missing).toEqual([]);
  });
});

describe('[ACCESS] admin procedures need a session, and admin mutations the admin role', () => {
  const sessionPaths = () => allPaths.filter((p) => isAdminPath(p) || SESSION_PROCEDURES.has(p));

  it('every admin.* and session procedure refuses no session, an unknown session, an API key and a disabled admin: UNAUTHORIZED, nothing written', async () => {
    const everyScope = await newKey([...apiKeyScopes]);
    const disabled = await signedInCaller(env.deps, 'admin');
    await admin.caller.admin.admins.update({ id: disabled.admin.id, disabled: true });
    const refusers: [string, Caller][] = [
      ['no session', bearerCaller(null)],
      ['an unknown session', sessionCaller(randomBytes(32).toString('base64url'))],
      ['an API key with every scope', bearerCaller(everyScope.secret)],
      ['a disabled admin', disabled.caller],
    ];
    const cases = sessionPaths().flatMap((path) => refusers.map(([who, caller]) => ({ label: `${path} by ${who}`, call: () => invoke(caller, path, undefined), code: 'UNAUTHORIZED' })));
    expect(cases.length).toBeGreaterThan(4 * 40);
    await expectRefusedWithoutWrites(cases);
  });

  it('a session whose generated password must be changed is refused every admin.* and session procedure but auth.me, auth.logout and auth.changePassword: FORBIDDEN, nothing written', async () => {
    const created = await admin.caller.admin.admins.create({ email: `${uniqueId('forced')}@example.com`, role: 'admin' });
    const session = await login(db(), env.deps.throttle, 1, { email: created.email, password: created.generatedPassword!, address: '10.0.0.9' });
    const forced = sessionCaller(session.token);
    const paths = sessionPaths().filter((p) => !DURING_PASSWORD_CHANGE.has(p));
    expect(paths.length).toBeGreaterThan(40);
    await expectRefusedWithoutWrites(paths.map((path) => ({ label: path, call: () => invoke(forced, path, undefined), code: 'FORBIDDEN' })));
    expect(await codeOf(invoke(forced, 'auth.me'))).toBe('OK');
  });

  it('every admin.* mutation refuses an analyst: FORBIDDEN, nothing written', async () => {
    const mutations = allPaths.filter((p) => isAdminPath(p) && isMutation(p));
    expect(mutations.length).toBeGreaterThan(20);
    await expectRefusedWithoutWrites(mutations.map((path) => ({ label: path, call: () => invoke(analyst.caller, path, undefined), code: 'FORBIDDEN' })));
  });
});

describe('[ACCESS] API-key procedures need a live key holding their scope', () => {
  let fixture: { userId: string; reservation: (apiKeyId?: string) => Promise<string> };
  beforeAll(async () => {
    await configureProviders(env.deps, [{ name: 'local', kind: 'local', baseUrl: 'http://localhost' }]);
    const userId = await newUser(db(), 'pro');
    // A hold belongs to the key that made it: the caller under test owns the one it settles.
    const reservation = async (apiKeyId?: string) => (await reserveCredits(db(), { userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key(), ttlSeconds: 600, apiKeyId })).reservationId;
    fixture = { userId, reservation };
  });

  /** A valid input for each API-key procedure, fresh each time (idempotency keys, pending holds). */
  const VALID_INPUT: Record<string, (ownKeyId?: string) => Promise<unknown>> = {
    'users.upsert': async () => ({ userId: uniqueId('acc'), tier: 'plus' }),
    'credits.consume': async () => ({ userId: fixture.userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }),
    'credits.reserve': async () => ({ userId: fixture.userId, credits: 1, enhancementType: 'upscale', idempotencyKey: key() }),
    'credits.capture': async (ownKeyId) => ({ reservationId: await fixture.reservation(ownKeyId) }),
    'credits.release': async (ownKeyId) => ({ reservationId: await fixture.reservation(ownKeyId) }),
    'enhance.run': async () => ({ userId: fixture.userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() }),
    'enhance.submit': async () => ({ userId: fixture.userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() }),
    // Readable by the key that submitted it (another key's is NOT_FOUND, proven in async-enhancement.test.ts).
    'enhance.get': async (ownKeyId) => ({
      enhancementId: (
        await submitEnhancement(
          env.deps.gateway,
          async () => undefined,
          { userId: fixture.userId, inputImageUrl: images.inputUrl, enhancementType: 'upscale', idempotencyKey: key() },
          { apiKeyId: ownKeyId! },
        )
      ).enhancementId,
    }),
    'auth.userToken': async () => ({ userId: fixture.userId }),
  };

  it('the valid-input table covers every API-key procedure', () => {
    expect(Object.keys(VALID_INPUT).sort()).toEqual(Object.keys(API_KEY_SCOPE).sort());
  });

  it.each(Object.entries(API_KEY_SCOPE))(
    '%s refuses a missing, made-up or revoked key, a user token and a session (UNAUTHORIZED), a key without %s (FORBIDDEN); nothing written; its own scope is enough',
    async (path, scope) => {
      const revoked = await newKey([...apiKeyScopes]);
      await admin.caller.admin.apiKeys.revoke({ id: revoked.apiKey.id });
      const others = await newKey(apiKeyScopes.filter((s) => s !== scope));
      const own = await newKey([scope]);
      const token = env.deps.userTokens.mint(fixture.userId, 600).token;
      const input = await VALID_INPUT[path]!(own.apiKey.id);
      await expectRefusedWithoutWrites([
        { label: 'no key', call: () => invoke(bearerCaller(null), path, input), code: 'UNAUTHORIZED' },
        { label: 'a made-up key', call: () => invoke(bearerCaller(`cd_live_${randomBytes(32).toString('base64url')}`), path, input), code: 'UNAUTHORIZED' },
        { label: 'a revoked key', call: () => invoke(bearerCaller(revoked.secret), path, input), code: 'UNAUTHORIZED' },
        { label: "the key's prefix alone", call: () => invoke(bearerCaller(own.apiKey.prefix), path, input), code: 'UNAUTHORIZED' },
        { label: 'a user token', call: () => invoke(bearerCaller(token), path, input), code: 'UNAUTHORIZED' },
        { label: 'an admin session', call: () => invoke(admin.caller, path, input), code: 'UNAUTHORIZED' },
        { label: `a key with every scope but ${scope}`, call: () => invoke(bearerCaller(others.secret), path, input), code: 'FORBIDDEN' },
      ]);
      expect(await codeOf(invoke(bearerCaller(own.secret), path, input))).toBe('OK');
    },
  );
});

describe('[ACCESS] user reads (credits.balance, credits.history, users.notifications, users.notifications.markRead): a user token reads its own user alone', () => {
  it.each([...USER_READ])('%s', async (path) => {
    const [alice, bob] = [await newUser(db(), 'plus'), await newUser(db(), 'free')];
    const tokens = env.deps.userTokens;
    const aliceToken = tokens.mint(alice, 600).token;
    const bobToken = tokens.mint(bob, 600).token;
    const [payload, signature] = aliceToken.slice('cdu_'.length).split('.');
    const bobPayload = bobToken.slice('cdu_'.length).split('.')[0];
    const readKey = await newKey(['credits:read']);
    const writeKey = await newKey(apiKeyScopes.filter((s) => s !== 'credits:read'));
    const revoked = await newKey(['credits:read']);
    await admin.caller.admin.apiKeys.revoke({ id: revoked.apiKey.id });
    const read = (bearer: string | null, userId: string) => invoke(bearerCaller(bearer), path, { userId, ...USER_READ_INPUT[path] });

    expect(await codeOf(read(aliceToken, alice))).toBe('OK');
    expect(await codeOf(read(readKey.secret, bob))).toBe('OK');
    await expectRefusedWithoutWrites([
      { label: "alice's token reading bob", call: () => read(aliceToken, bob), code: 'FORBIDDEN' },
      { label: "alice's token reading alice's id in another case", call: () => read(aliceToken, alice.toUpperCase()), code: 'FORBIDDEN' },
      { label: "alice's expired token", call: () => read(tokens.mint(alice, -1).token, alice), code: 'UNAUTHORIZED' },
      { label: 'a token signed with another master key', call: () => read(new UserTokens(randomBytes(32)).mint(alice, 600).token, alice), code: 'UNAUTHORIZED' },
      { label: "bob's payload under alice's signature", call: () => read(`cdu_${bobPayload}.${signature}`, bob), code: 'UNAUTHORIZED' },
      { label: 'a token without its signature', call: () => read(`cdu_${payload}`, alice), code: 'UNAUTHORIZED' },
      { label: 'no credential', call: () => read(null, alice), code: 'UNAUTHORIZED' },
      { label: 'a revoked key', call: () => read(revoked.secret, alice), code: 'UNAUTHORIZED' },
      { label: 'a key without credits:read', call: () => read(writeKey.secret, alice), code: 'FORBIDDEN' },
      { label: 'an admin session', call: () => invoke(admin.caller, path, { userId: alice, ...USER_READ_INPUT[path] }), code: 'UNAUTHORIZED' },
    ]);
  });
});

describe('[ACCESS] no answer to an admin query carries a secret', () => {
  const SECRETS = ['sk-provider-SECRET-1', 'sk-billing-SECRET-2', 'SECRET-3', 'SECRET-4', 'SECRET-5'];
  let channels: FakeChannels;
  let queryContext: QueryContext;
  /** Everything any admin-facing call answered, setup included: swept for secrets at the end. */
  const answers: { who: string; path: string; text: string }[] = [];
  const keySecrets: string[] = [];
  const totpSecrets: string[] = [];
  const record = async (who: string, path: string, p: Promise<unknown>) => {
    const text = await p.then(
      (r) => JSON.stringify(r),
      (e: unknown) => JSON.stringify(e instanceof TRPCError ? { code: e.code, message: e.message, cause: e.cause ? { ...e.cause, message: e.cause.message } : null } : String(e)),
    );
    answers.push({ who, path, text });
    return text;
  };

  beforeAll(async () => {
    channels = await startFakeChannels();
    const billing = await startFakeBilling();
    const fal = await startFakeProvider('fal');
    closers.push(channels.close, billing.close, fal.close);
    const a = admin.caller.admin;
    const provider = uniqueId('leaky').toLowerCase();

    // Secrets everywhere: a provider key, a billing key, three channel secrets, API keys.
    await record(
      'admin',
      'admin.platformSettings.update',
      a.platformSettings.update({ monthlyRevenueUsd: '100000.00', creditBudgetSharePercent: 50, refillBackoffSeconds: 60, providerDriftTolerance: 1_000, reason: 'access test' }),
    );
    await record('admin', 'admin.platformSettings.setUsersOutThreshold', a.platformSettings.setUsersOutThreshold({ usersOutOfCreditsThreshold: 10, reason: 'access test' }));
    await db().execute(sql`update api_providers set is_active = false`);
    await record(
      'admin',
      'admin.providers.create',
      a.providers.create({ name: provider, kind: 'fal', baseUrl: fal.url, apiKey: 'sk-provider-SECRET-1', costPerRequest: '0.01', rateLimitPerMinute: 600, priority: 1, timeoutMs: 1_000 }),
    );
    await record(
      'admin',
      'admin.pools.create',
      a.pools.create({ provider, costPerCredit: '0.01', autoRefillThreshold: 0, autoRefillAmount: 0, billingMode: 'http', billingUrl: billing.url, billingApiKey: 'sk-billing-SECRET-2' }),
    );
    await record('admin', 'admin.alerts.channels.update', a.alerts.channels.update({ channel: 'slack', enabled: true, cooldownSeconds: 0, webhookUrl: channels.slackUrl('T0/B0/SECRET-3') }));
    await record(
      'admin',
      'admin.alerts.channels.update',
      a.alerts.channels.update({
        channel: 'email',
        enabled: true,
        cooldownSeconds: 0,
        config: { ...channels.smtp, secure: false, from: 'alerts@example.com', to: ['ops@example.com'], user: 'alerts' },
        password: 'SECRET-4',
      }),
    );
    await record(
      'admin',
      'admin.alerts.channels.update',
      a.alerts.channels.update({ channel: 'sms', enabled: true, cooldownSeconds: 0, config: { url: channels.smsUrl, recipients: ['+4915112345678'] }, token: 'SECRET-5' }),
    );
    // A second factor on the admin's account: its secret (answered by begin alone, not recorded) must never come back.
    const totp = await admin.caller.auth.totp.begin();
    totpSecrets.push(totp.secret);
    const code = new TOTP({ secret: Secret.fromBase32(totp.secret) }).generate();
    const { recoveryCodes } = await admin.caller.auth.totp.confirm({ code });
    totpSecrets.push(...recoveryCodes);
    await record('admin', 'auth.totp.status', admin.caller.auth.totp.status());
    // A silence in force and one ended, so admin.alerts.silences.list answers with rows.
    const silence = (alertType: string) => a.alerts.silences.create({ alertType, endsAt: new Date(Date.now() + 3_600_000).toISOString(), reason: 'access test' });
    await record('admin', 'admin.alerts.silences.create', silence('provider_unhealthy'));
    const ended = await silence('pool_low');
    await record('admin', 'admin.alerts.silences.end', a.alerts.silences.end({ id: ended.id }));
    for (const scopes of [['enhance'], ['credits:read', 'credits:write']] as ApiKeyScope[][]) {
      const created = await a.apiKeys.create({ name: uniqueId('key'), scopes });
      keySecrets.push(created.secret);
    }

    // The secrets in use, working: a refill through billing, channel tests that reach the fakes.
    await record('admin', 'admin.pools.refill', a.pools.refill({ provider, amount: 50, reason: 'access test' }));
    expect(billing.state.purchases.at(-1)?.auth).toContain('sk-billing-SECRET-2');
    for (const channel of ['slack', 'email', 'sms', 'in_app'] as const) expect(await record('admin', 'admin.alerts.channels.sendTest', a.alerts.channels.sendTest({ channel }))).toBe('{"ok":true}');
    expect(channels.state.slack.at(-1)?.path).toContain('SECRET-3');
    expect(channels.state.mail.at(-1)?.authPassword).toBe('SECRET-4');
    expect(JSON.stringify(channels.state.sms.at(-1))).toContain('SECRET-5');
    // A report sent through the same channels answers its deliveries, never the webhook URL or password.
    await record('admin', 'admin.reports.updateSettings', a.reports.updateSettings({ kind: 'daily', enabled: true, slack: true, emailTo: ['reports@example.com'] }));
    expect(await record('admin', 'admin.reports.sendNow', a.reports.sendNow({ kind: 'daily' }))).toContain('"deliveries":[{"channel":"slack","ok":true');

    // ...and failing, so error columns fill: a failed refill, failed channel tests and deliveries,
    // a failed provider call (degrading an enhancement, which raises an alert), a failed health check.
    billing.state.behaviour = 'error500';
    await record('admin', 'admin.pools.refill', a.pools.refill({ provider, amount: 10, reason: 'access test, failing' }));
    channels.state.fail = { slack: true, sms: true, email: true };
    for (const channel of ['slack', 'email', 'sms'] as const) await record('admin', 'admin.alerts.channels.sendTest', a.alerts.channels.sendTest({ channel }));
    expect(await record('admin', 'admin.reports.sendNow', a.reports.sendNow({ kind: 'daily' }))).toContain('"ok":false');
    fal.state.behaviour = 'error500';
    const userId = await newUser(db(), 'plus');
    expect((await runEnhancement(env.deps.gateway, { userId, inputImageUrl: images.inputUrl, enhancementType: 'lighting', idempotencyKey: key() })).status).toBe('degraded');
    await runAlertDispatch(db(), { secrets: env.deps.secrets, outbound: env.deps.outbound, channelTimeoutMs: 2_000 });
    await record('admin', 'admin.providers.testNow', a.providers.testNow({ name: provider }));
    const [alert] = await queryRows(db(), z.object({ id: col.id }), sql`select id::text from system_alerts order by id desc limit 1`);
    // A webhook endpoint: its whsec_ secret is answered once, by create, and never by a query.
    const endpoint = await a.webhooks.create({ url: channels.smsUrl, events: ['credits.low', 'enhancement.degraded'] });
    keySecrets.push(endpoint.secret);
    queryContext = { userId, provider, alertId: alert!.id, webhookEndpointId: endpoint.endpoint.id };
  });

  const forbidden = () => [...SECRETS, ...keySecrets, ...totpSecrets, '$argon2', 'password_hash', 'passwordHash', env.env.MASTER_KEY!, admin.token, analyst.token];
  const leaksIn = (text: string) => [...forbidden().filter((s) => text.includes(s)), ...(/cd_live_[A-Za-z0-9_-]{7,}/.test(text) ? ['a cd_live_ secret'] : [])];

  it.each([
    ['admin', () => admin],
    ['analyst', () => analyst],
  ] as const)('every admin query (and auth.me) answered to an %s carries no secret', async (who, get) => {
    const caller = get().caller;
    const paths = allPaths.filter((p) => (isAdminPath(p) || SESSION_PROCEDURES.has(p)) && isQuery(p));
    const outcomes: { path: string; code: string; leaks: string[] }[] = [];
    for (const path of paths) {
      const input = takesInput(path) ? ADMIN_QUERY_INPUTS[path]!(queryContext) : undefined;
      const code = await codeOf(invoke(caller, path, input));
      const text = await record(who, path, invoke(caller, path, input));
      outcomes.push({ path, code, leaks: leaksIn(text) });
    }
    expect(outcomes.filter((o) => o.leaks.length > 0)).toEqual([]);
    // Admins are answered every query (so the inputs are valid and the sweep saw real data); analysts at least refused cleanly.
    if (who === 'admin') {
      expect(outcomes.filter((o) => o.code !== 'OK')).toEqual([]);
      // The sweep saw the error columns filled, where a secret would most likely slip out.
      const seen = (path: string, fragment: string) => answers.some((a) => a.who === who && a.path === path && a.text.includes(fragment));
      expect(seen('admin.providers.list', '"lastError":"POST')).toBe(true);
      expect(seen('admin.purchaseRequests.list', '"errorMessage":"billing')).toBe(true);
      expect(seen('admin.alerts.deliveries', '"lastError":"HTTP 500')).toBe(true);
      expect(seen('admin.alerts.channels.list', '"secretSet":true')).toBe(true);
    } else expect(outcomes.filter((o) => o.code !== 'OK' && o.code !== 'FORBIDDEN')).toEqual([]);
  });

  it('no CSV export (audit log included, where the secrets were set) carries a secret', async () => {
    const { buildApp } = await import('../app');
    const { exportNames } = await import('../../shared/exports');
    const app = await buildApp(env.deps);
    try {
      const outcomes = [];
      for (const name of exportNames) {
        const res = await app.inject({ method: 'GET', url: `/export/${name}.csv`, headers: { cookie: `cd_session=${analyst.token}` } });
        outcomes.push({ name, status: res.statusCode, rows: res.body.split('\r\n').length, leaks: leaksIn(res.body) });
      }
      expect(outcomes.filter((o) => o.status !== 200 || o.leaks.length > 0)).toEqual([]);
      // The sweep saw the rows the setup wrote: the secrets' audit entries, the failed refill, the alert.
      expect(outcomes.filter((o) => o.rows < 3).map((o) => o.name)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('no answer to the admin calls that stored and used the secrets carries one', () => {
    // The detector itself: it sees every secret, and a full API key but not its displayed prefix.
    for (const secret of [...SECRETS, ...keySecrets, ...totpSecrets]) expect(leaksIn(`{"x":"${secret}"}`)).not.toEqual([]);
    expect(leaksIn('{"prefix":"cd_live_AbC12_"}')).toEqual([]);
    const leaking = answers.map((a) => ({ ...a, leaks: leaksIn(a.text) })).filter((a) => a.leaks.length > 0);
    expect(leaking.map(({ who, path, leaks }) => ({ who, path, leaks }))).toEqual([]);
    expect(answers.length).toBeGreaterThan(20);
  });

  it('the audit log, provider calls and alert deliveries store no secret in the clear', async () => {
    const rows = await queryRows(
      db(),
      z.object({ source: col.text, text: col.text }),
      sql`select 'audit_log' as source, a::text as text from audit_log a
          union all select 'provider_calls', p::text from provider_calls p
          union all select 'alert_deliveries', d::text from alert_deliveries d
          union all select 'credit_purchase_requests', r::text from credit_purchase_requests r
          union all select 'system_alerts', s::text from system_alerts s`,
    );
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.map((r) => ({ source: r.source, leaks: leaksIn(r.text) })).filter((r) => r.leaks.length > 0)).toEqual([]);
  });
});

describe('[ACCESS] the CSV export routes need an admin or analyst session, like the admin queries', () => {
  it('every /export/*.csv refuses no session, an unknown session, a disabled admin, an API key and a user token (401); admins and analysts export', async () => {
    const { buildApp } = await import('../app');
    const { exportNames } = await import('../../shared/exports');
    const app = await buildApp(env.deps);
    closers.push(() => app.close());
    const everyScope = await newKey([...apiKeyScopes]);
    const disabled = await signedInCaller(env.deps, 'admin');
    await admin.caller.admin.admins.update({ id: disabled.admin.id, disabled: true });
    const userToken = env.deps.userTokens.mint(await newUser(db(), 'plus'), 600).token;
    const refused: [string, Record<string, string>][] = [
      ['no session', {}],
      ['an unknown session', { cookie: `cd_session=${randomBytes(32).toString('base64url')}` }],
      ['a disabled admin', { cookie: `cd_session=${disabled.token}` }],
      ['an API key with every scope', { authorization: `Bearer ${everyScope.secret}` }],
      ['a user token', { authorization: `Bearer ${userToken}` }],
    ];
    const got: { label: string; status: number }[] = [];
    const want: { label: string; status: number }[] = [];
    for (const name of exportNames) {
      for (const [who, headers] of refused) {
        got.push({ label: `${name} by ${who}`, status: (await app.inject({ method: 'GET', url: `/export/${name}.csv`, headers })).statusCode });
        want.push({ label: `${name} by ${who}`, status: 401 });
      }
      for (const [who, token] of [
        ['admin', admin.token],
        ['analyst', analyst.token],
      ]) {
        const res = await app.inject({ method: 'GET', url: `/export/${name}.csv`, headers: { cookie: `cd_session=${token}` } });
        got.push({ label: `${name} by ${who}`, status: res.statusCode });
        want.push({ label: `${name} by ${who}`, status: 200 });
      }
    }
    expect(got).toEqual(want);
    expect(exportNames).toHaveLength(5);
  });
});

describe('[ACCESS] after it all', () => {
  it('the books reconcile', async () => {
    await expectReconciled(db());
  });
});
