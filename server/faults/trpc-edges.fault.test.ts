import { execFile } from 'node:child_process';
import { connect } from 'node:net';
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

  it("a request past Node's header limit (64 KB) answers 431 in tRPC's error shape and closes, and the next request is served", async () => {
    const url = `${server.origin}/trpc/credits.balance?input=${encodeURIComponent(JSON.stringify({ userId: 'x'.repeat(70_000) }))}`;
    const tooLong = await readAnswer(await fetch(url));
    expect(tooLong.status).toBe(431);
    expect(answerProblem(tooLong, [431])).toBeNull();
    const next = await readAnswer(await fetch(`${server.origin}/trpc/credits.balance?input=${encodeURIComponent('{"userId":"a"}')}`));
    expect(next.status).toBe(401);
  });

  it("a too-long GET batch pipelined before another request on one keep-alive connection: both are answered, the first in tRPC's error shape", async () => {
    const input = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [String(i), { userId: `u-${'x'.repeat(1_200)}-${i}` }]));
    const longUrl = `/trpc/${Array(20).fill('credits.balance').join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
    expect(longUrl.length).toBeGreaterThan(20_000);
    const shortUrl = `/trpc/credits.balance?input=${encodeURIComponent('{"userId":"a"}')}`;
    const { port } = new URL(server.origin);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const request = (url: string, last: boolean) => `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: ${last ? 'close' : 'keep-alive'}\r\n\r\n`;
    socket.write(request(longUrl, false) + request(shortUrl, true));
    await closed;
    const statuses = [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([431, 401]);
    const firstBody = JSON.parse(raw.split('\r\n\r\n')[1]!.split('HTTP/1.1 ')[0]!);
    expect(firstBody.error.data).toMatchObject({ httpStatus: 431, reason: 'BAD_REQUEST' });
  });

  it('server/trpc/context.ts type-checks on its own', async () => {
    const dir = mkdtempSync(path.join(process.cwd(), '.tmp-tsc-'));
    try {
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true }, include: [], files: ['../server/trpc/context.ts'] }));
      const tsc = path.join(process.cwd(), 'node_modules', '.bin', 'tsc');
      const run = await promisify(execFile)(tsc, ['-p', dir]).then(
        () => '',
        (e: Error & { stdout?: string }) => e.stdout ?? String(e),
      );
      expect(run).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
