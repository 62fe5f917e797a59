import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { openDb } from '../server/db/client';
import { createBenchDb } from '../bench/lib/bench-db';
import { BIG_ALLOWANCE, createKey, createUsers, setBalances } from '../bench/lib/seed';
import { JsonPoster } from '../bench/lib/http-client';
import { runClosedLoop } from '../bench/lib/load';
import { consumeHttpOp } from '../bench/http/ops';
import { freePort } from '../server/test/spawn';

const clients = Number(process.env.CLIENTS ?? 16);
const db = await createBenchDb();
const h = await openDb({ databaseUrl: db.url, dataDir: db.dataDir, maxConnections: 2 });
const users = await createUsers(h.db, 'p', 64, 'pro');
await setBalances(h.db, 'p', BIG_ALLOWANCE);
const key = await createKey(h.db, ['credits:write']);
const port = await freePort();
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=.prof/out', '--import', 'tsx', 'server/main.ts'], {
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production', DATABASE_URL: db.url, DATABASE_POOL_MAX: '20', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `prof-${randomBytes(3).toString('hex')}`, LOG_LEVEL: 'warn', DATA_DIR: db.dataDir, MASTER_KEY: randomBytes(32).toString('hex'), WORKER_IN_SERVER: 'false' },
  stdio: 'inherit',
});
const url = `http://127.0.0.1:${port}`;
for (;;) { try { if ((await fetch(`${url}/healthz`)).status < 500) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
const poster = new JsonPoster(url, { authorization: `Bearer ${key}` }, clients);
const r = await runClosedLoop({ clients, op: consumeHttpOp(poster, users, 'user_credits'), warmupMs: 2000, durationMs: Number(process.env.SECONDS ?? 8) * 1000 });
console.log('throughput', r.throughputPerS, 'errors', r.errors);
poster.close();
child.kill('SIGTERM');
await once(child, 'exit');
await h.close();
await db.drop();
process.exit(0);
