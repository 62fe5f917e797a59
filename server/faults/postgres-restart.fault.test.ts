import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../app-deps';
import { createApiKey } from '../auth/api-keys';
import { cliActor } from '../auth/audit';
import { loadConfig } from '../config';
import { grantCredits } from '../ledger/admin-ops';
import { closeDeps, createDeps } from '../deps';
import { trpcHttp } from '../test/http-client';
import { balanceRow, key, newUser } from '../test/ledger-helpers';
import { startServer, type ServerProcess } from '../test/spawn';
import { waitFor } from '../test/wait';
import { expectReconciled } from './lib/reconciled';
import { startTempPostgres } from './lib/temp-postgres';

let pg: Awaited<ReturnType<typeof startTempPostgres>>;
let deps: AppDeps;
let server: ServerProcess;
let serverEnv: Record<string, string>;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cd-pgfault-'));

beforeAll(async () => {
  pg = await startTempPostgres();
  serverEnv = {
    DATABASE_URL: pg.url,
    REDIS_URL: 'off',
    DATA_DIR: dataDir,
    MASTER_KEY: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'error',
    DATABASE_POOL_MAX: '10',
  };
  deps = await createDeps(loadConfig(serverEnv), pino({ level: 'silent' }));
  server = await startServer(serverEnv);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await closeDeps(deps);
  await pg.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('[FAULT] PostgreSQL restarted during load', () => {
  it('requests fail with a clear error while it is down and succeed after, with no server restart and nothing half-written', async () => {
    const db = deps.dbHandle.db;
    const userId = await newUser(db, 'pro');
    await grantCredits(db, cliActor, { userId, credits: 10_000, reason: 'load test' });
    const { secret } = await createApiKey(db, cliActor, { name: 'pg restart', scopes: ['credits:write', 'credits:read'] });
    const api = trpcHttp(server.url, secret);
    const pid = server.child.pid;

    const outcomes: { status: number; reason?: string; message?: string }[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        const res = await api
          .mutation('credits.consume', { userId, credits: 1, enhancementType: 'color', idempotencyKey: key() })
          .catch((err: Error) => ({ status: 0, body: { error: { message: err.message } } }));
        outcomes.push({ status: res.status, reason: res.body?.error?.data?.reason, message: res.body?.error?.message });
        await sleep(20);
      }
    })();

    // Load is flowing before the stop, and requests have failed while PostgreSQL is down.
    await waitFor(() => outcomes.filter((o) => o.status === 200).length >= 5, { timeoutMs: 20_000, what: 'load before the outage' });
    pg.stop();
    const beforeOutage = outcomes.length;
    await waitFor(() => outcomes.slice(beforeOutage).filter((o) => o.status === 503).length >= 5, { timeoutMs: 20_000, what: 'refusals during the outage' });
    const duringOutage = outcomes.length;
    pg.start();
    // Give the pool time to reconnect, then keep going a little.
    await waitFor(() => outcomes.slice(duringOutage).filter((o) => o.status === 200).length >= 10, { timeoutMs: 30_000, what: 'successes after the restart' });
    running = false;
    await load;

    const failures = outcomes.filter((o) => o.status !== 200);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.status).toBe(503);
      expect(f.reason).toBe('SERVICE_UNAVAILABLE');
      expect(f.message).toMatch(/database is unavailable/);
    }
    expect(outcomes.slice(duringOutage).filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(10);
    expect(server.child.pid).toBe(pid);
    expect(server.child.exitCode).toBeNull();

    // Nothing half-written: every success charged once, nothing else did.
    const successes = outcomes.filter((o) => o.status === 200).length;
    expect(await balanceRow(db, userId)).toMatchObject({ total: 25 + 10_000 - successes });
    await expectReconciled(db);
  });
});
