import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyCaller, createTestEnv, type TestEnv } from '../test/harness';
import { newUser } from '../test/ledger-helpers';
import { answerProblem } from './lib/http-shape';
import { readAnswer, startLiveServer, type LiveServer } from './lib/live-server';

/**
 * [EDGES] What a plain HTTP client runs into: the Bearer scheme in any case, a GET batch too long
 * for the server answered in tRPC's error shape without losing the next request, and the context
 * module type-checking on its own.
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

describe('[EDGES] tRPC over plain HTTP', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'BeArEr'])('the %s scheme authenticates an API key', async (scheme) => {
    const { secret } = await apiKeyCaller(env.deps, ['credits:read']);
    const userId = await newUser(db(), 'plus');
    const answer = await readAnswer(await server.call('credits.balance', { userId }, { query: true, headers: { authorization: `${scheme} ${secret}` } }));
    expect(answer.status).toBe(200);
  });

  it("a too-long GET batch answers in tRPC's error shape, and the next request is served", async () => {
    const input = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(i), { userId: `u-${'x'.repeat(1_500)}-${i}` }]));
    const url = `${server.origin}/trpc/${Array(20).fill('credits.balance').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
    const tooLong = await readAnswer(await fetch(url));
    expect(tooLong.status).toBe(431);
    expect(answerProblem(tooLong, [431])).toBeNull();
    const next = await Promise.all(Array.from({ length: 5 }, () => fetch(`${server.origin}/trpc/credits.balance?input=${encodeURIComponent('{"userId":"a"}')}`).then(readAnswer)));
    expect(next.map((a) => a.status)).toEqual(Array(5).fill(401));
  });

  it('server/trpc/context.ts type-checks on its own', async () => {
    const dir = mkdtempSync(path.join(process.cwd(), '.tmp-tsc-'));
    try {
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true }, include: [], files: ['../server/trpc/context.ts'] }),
      );
      const tsc = path.join(process.cwd(), 'node_modules', '.bin', 'tsc');
      const run = await promisify(execFile)(tsc, ['-p', dir]).then(() => '', (e: { stdout?: string }) => e.stdout ?? String(e));
      expect(run).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
