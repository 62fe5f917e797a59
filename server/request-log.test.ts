import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { createTestEnv, type TestEnv } from './test/harness';

let env: TestEnv;
let app: FastifyInstance;
const lines: Array<{ level: number; msg: string; status?: number; url?: string }> = [];
beforeAll(async () => {
  env = await createTestEnv();
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  app = await buildApp({ ...env.deps, log });
  app.get('/test-fails', async () => {
    throw new Error('boom');
  });
});
afterAll(async () => {
  await app.close();
  await env.close();
});

describe('[HTTP] request log', () => {
  it('an ordinary request logs one line at debug and nothing at info; a server error logs at error', async () => {
    const mark = lines.length;
    expect((await app.inject({ method: 'GET', url: '/healthz?x=1' })).statusCode).toBe(200);
    const healthz = lines.slice(mark).filter((l) => l.url === '/healthz');
    expect(healthz.map((l) => [l.level, l.msg, l.status])).toEqual([[20, 'request', 200]]);
    // Fastify's own "incoming request" / "request completed" info lines are gone.
    expect(lines.slice(mark).filter((l) => l.level === 30)).toEqual([]);

    expect((await app.inject({ method: 'GET', url: '/test-fails' })).statusCode).toBe(500);
    expect(lines.filter((l) => l.url === '/test-fails' && l.msg === 'request failed').map((l) => l.level)).toEqual([50]);
  });
});
