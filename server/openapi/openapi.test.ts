import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { apiKeyScopes } from '../../shared/enums';
import { startLiveServer, type LiveServer } from '../faults/lib/live-server';
import { startImageServer } from '../test/fake-providers';
import { createTestEnv, uniqueId, type TestEnv } from '../test/harness';
import { expectLedgerClean, newUser, setAllowanceBalance } from '../test/ledger-helpers';
import { callAsDocumented, documentedOperations, documentValidator, ERROR_POINTER, type DocumentedOperation } from '../test/openapi-calls';
import { exampleSeeds, refusedExamples, type SeedContext } from '../test/openapi-seeds';
import { appRouter } from '../trpc/root';
import type { OpenApiDocument } from './document';
import { isPublicProcedure, procedureDefs } from './public-procedures';

let env: TestEnv;
let live: LiveServer;
let images: Awaited<ReturnType<typeof startImageServer>>;
let doc: OpenApiDocument;
let ops: DocumentedOperation[];
let check: ReturnType<typeof documentValidator>;
let secret: string;
let seedCtx: SeedContext;

beforeAll(async () => {
  // The test's input images are served on 127.0.0.1.
  env = await createTestEnv({ ALLOW_PRIVATE_IMAGE_URLS: 'true' });
  live = await startLiveServer(env.deps);
  images = await startImageServer();
  const res = await fetch(`${live.origin}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
  ops = documentedOperations(doc);
  check = documentValidator(doc);
  const key = await createApiKey(env.deps.dbHandle.db, cliActor, { name: uniqueId('key'), scopes: [...apiKeyScopes] });
  secret = key.secret;
  seedCtx = { deps: env.deps, apiKeyId: key.apiKey.id, imageUrl: images.inputUrl };
});
afterAll(async () => {
  await images?.close();
  await live?.close();
  await env?.close();
});

/** The base URL the document names, resolved against where the document was fetched. */
const baseUrl = () => new URL(doc.servers[0]?.url ?? '/', `${live.origin}/openapi.json`).href.replace(/\/$/, '');
const bearerFor = (o: DocumentedOperation) => ((o.op.security ?? []).length > 0 ? secret : undefined);

async function answer(res: Response) {
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as unknown, text };
}

describe('[OPENAPI] the document', () => {
  it('is a valid OpenAPI 3.1 document by an independent validator', async () => {
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every public procedure of the router and nothing of the admin console', () => {
    const procedures = Object.fromEntries(procedureDefs(appRouter));
    const expected = Object.entries(procedures)
      .filter(([path, def]) => isPublicProcedure(path, def))
      .map(([path]) => path);
    expect(ops.map((o) => o.procedure).sort()).toEqual(expected.sort());
    expect(expected).toEqual(expect.arrayContaining(['users.upsert', 'credits.balance', 'credits.consume', 'enhance.run', 'auth.userToken']));
    expect(ops.filter((o) => o.procedure.startsWith('admin.') || (o.procedure.startsWith('auth.') && o.procedure !== 'auth.userToken'))).toEqual([]);
    for (const o of ops) expect(o.method, o.procedure).toBe(procedures[o.procedure]!.type === 'query' ? 'get' : 'post');
  });

  it('gives every operation a summary and an example that its own input schema accepts', () => {
    for (const o of ops) {
      expect(o.op.summary, `${o.procedure} needs .meta({ openapi: { summary, example } })`).not.toBe(o.procedure);
      expect(o.example, `${o.procedure} needs an example input in its meta`).toBeDefined();
      if (o.inputPointer) expect(check(o.inputPointer, o.example), o.procedure).toBeNull();
    }
  });

  it('names the bearer scheme and the scope each operation needs, and the error shape with its reason', () => {
    const schemes = (doc.components as { securitySchemes: Record<string, { type: string; scheme: string }> }).securitySchemes;
    expect(schemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.userToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    const byName = Object.fromEntries(ops.map((o) => [o.procedure, o.op.security]));
    expect(byName['credits.consume']).toEqual([{ apiKey: ['credits:write'] }]);
    expect(byName['credits.balance']).toEqual([{ apiKey: ['credits:read'] }, { userToken: [] }]);
    expect(byName['users.upsert']).toEqual([{ apiKey: ['users:write'] }]);
    const reasons = (doc.components as { schemas: { ErrorReason: { enum: string[] } } }).schemas.ErrorReason.enum;
    expect(reasons).toEqual(expect.arrayContaining(['INSUFFICIENT_CREDITS', 'IDEMPOTENCY_CONFLICT', 'UNAUTHORIZED', 'INTERNAL_SERVER_ERROR']));
  });

  it('its response schemas refuse an answer missing a documented field or wrapped otherwise', () => {
    const balance = ops.find((o) => o.procedure === 'credits.balance')!;
    expect(check(balance.successPointer, { result: { data: { userId: 'user_42' } } })).not.toBeNull();
    expect(check(balance.successPointer, { data: {} })).not.toBeNull();
    expect(check(ERROR_POINTER, { error: { message: 'x', code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400, reason: 'NOT_A_REASON' } } })).not.toBeNull();
  });
});

describe('[OPENAPI] every documented path called exactly as documented', () => {
  it('answers its documented success shape for its example (seeded as it needs), and a user token where the operation allows one', async () => {
    // users.upsert's example makes the user the other examples name.
    const ordered = [...ops].sort((a, b) => Number(b.procedure === 'users.upsert') - Number(a.procedure === 'users.upsert'));
    for (const o of ordered) {
      await exampleSeeds[o.procedure]?.(seedCtx, o.example);
      const got = await answer(await callAsDocumented(baseUrl(), o, o.example, bearerFor(o)));
      const refused = refusedExamples[o.procedure];
      if (refused) {
        expect(got.status, `${o.procedure}: ${got.text}`).toBeGreaterThanOrEqual(400);
        expect(check(ERROR_POINTER, got.body), o.procedure).toBeNull();
        expect((got.body as { error: { data: { reason: string } } }).error.data.reason, refused.why).toBe(refused.reason);
        const again = await answer(await callAsDocumented(baseUrl(), o, refused.liveInput(seedCtx, o.example), bearerFor(o)));
        expect(again.status, `${o.procedure}: ${again.text}`).toBe(200);
        expect(check(o.successPointer, again.body), o.procedure).toBeNull();
        continue;
      }
      expect(got.status, `${o.procedure} (seed it in server/test/openapi-seeds.ts if it needs data): ${got.text}`).toBe(200);
      expect(check(o.successPointer, got.body), `${o.procedure}: ${got.text}`).toBeNull();
    }
    const mint = ops.find((o) => o.procedure === 'auth.userToken')!;
    for (const o of ops.filter((x) => x.op.security?.some((s) => 'userToken' in s))) {
      const { userId } = o.example as { userId: string };
      const minted = await answer(await callAsDocumented(baseUrl(), mint, { userId }, secret));
      const token = (minted.body as { result: { data: { token: string } } }).result.data.token;
      const got = await answer(await callAsDocumented(baseUrl(), o, o.example, token));
      expect(got.status, `${o.procedure} with a user token: ${got.text}`).toBe(200);
      expect(check(o.successPointer, got.body), o.procedure).toBeNull();
    }
    await expectLedgerClean(env.deps.dbHandle.db);
  });

  it('answers refusals in the documented error shape, with the reason to branch on', async () => {
    const consume = ops.find((o) => o.procedure === 'credits.consume')!;
    const broke = await newUser(env.deps.dbHandle.db, 'free');
    await setAllowanceBalance(env.deps.dbHandle.db, broke, 0);
    const cases = [
      { input: { ...(consume.example as object), userId: broke, idempotencyKey: uniqueId('idem') }, bearer: secret, status: 412, reason: 'INSUFFICIENT_CREDITS' },
      { input: consume.example, bearer: undefined, status: 401, reason: 'UNAUTHORIZED' },
      { input: { ...(consume.example as object), credits: 0 }, bearer: secret, status: 400, reason: 'BAD_REQUEST' },
      { input: { ...(consume.example as object), credits: 2 }, bearer: secret, status: 409, reason: 'IDEMPOTENCY_CONFLICT' },
    ];
    for (const c of cases) {
      const got = await answer(await callAsDocumented(baseUrl(), consume, c.input, c.bearer));
      expect(got.status, got.text).toBe(c.status);
      expect(check(ERROR_POINTER, got.body), got.text).toBeNull();
      expect(got.body).toMatchObject({ error: { data: { reason: c.reason, httpStatus: c.status } } });
    }
    const balance = ops.find((o) => o.procedure === 'credits.balance')!;
    const unknown = await answer(await callAsDocumented(baseUrl(), balance, { userId: 'nobody-here' }, secret));
    expect(check(ERROR_POINTER, unknown.body), unknown.text).toBeNull();
    expect(unknown.body).toMatchObject({ error: { data: { reason: 'UNKNOWN_USER' } } });
    await expectLedgerClean(env.deps.dbHandle.db);
  });
});

describe('[OPENAPI] docs page', () => {
  it('/docs answers HTML whose scripts this server serves itself, under a CSP that allows no other origin', async () => {
    const page = await fetch(`${live.origin}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    expect(html).not.toMatch(/<script(?![^>]*src=)[^>]*>/);
    for (const src of scripts) {
      expect(src).toMatch(/^\/docs\//);
      const script = await fetch(new URL(src, live.origin));
      expect(script.status, src).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect((await script.text()).length).toBeGreaterThan(0);
    }
  });
});
