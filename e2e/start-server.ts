/**
 * Playwright's webServer command: creates a fresh PostgreSQL database and a temp data dir, runs the
 * real server on them, and drops both when the server stops. (Playwright starts webServer before
 * globalSetup, so the database cannot be made there.) Run from the repo root.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { databaseUrlFile, E2E_STRIPE_SECRET, restartPidFile } from './env';

const adminUrl = process.env.E2E_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const stamp = `${Date.now()}_${process.pid}`;
const dbName = `cd_e2e_${stamp}`;
const STALE_MS = 6 * 3600_000;

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
try {
  // Databases left by runs that were killed outright (their names carry the start time).
  const leftovers = await admin<{ datname: string }[]>`select datname from pg_database where datname like 'cd\\_e2e\\_%'`;
  for (const { datname } of leftovers) {
    const started = Number(/^cd_e2e_(\d+)/.exec(datname)?.[1]);
    if (started && Date.now() - started > STALE_MS) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
  }
  await admin.unsafe(`create database "${dbName}"`);
} finally {
  await admin.end();
}

const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cd-e2e-'));

const startChild = () =>
  spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    stdio: 'inherit',
    env: {
      ...process.env,
      DATABASE_URL: dbUrl.toString(),
      DATA_DIR: dataDir,
      REDIS_PREFIX: process.env.REDIS_PREFIX ?? `cd-e2e-${stamp}`,
      STRIPE_WEBHOOK_SECRET: process.env.STRIPE_WEBHOOK_SECRET ?? E2E_STRIPE_SECRET,
    },
  });
let server = startChild();

// A spec may restart the server (e2e/live.spec.ts: the live indicator across a restart): SIGUSR2 to
// this launcher, whose pid is in restartPidFile(PORT), stops the server gracefully and starts it
// again on the same database and port.
writeFileSync(restartPidFile(process.env.PORT ?? ''), String(process.pid));
writeFileSync(databaseUrlFile(process.env.PORT ?? ''), dbUrl.toString());
let restarting = false;
process.on('SIGUSR2', () => {
  if (restarting) return;
  restarting = true;
  server.once('exit', () => {
    server = startChild();
    server.on('exit', exited);
    restarting = false;
  });
  server.kill('SIGTERM');
});

// Playwright (like Ctrl+C in a terminal) signals the whole process group, so the server gets the
// signal itself and shuts down gracefully; a second signal would cut that short. Just wait for it,
// and force it only if it outlives its grace period.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    setTimeout(() => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }, 12_000).unref();
  });
}

// onExit ends this process (process.exit) whatever the cleanup does; nothing waits on it.
const exited = (code: number | null, signal: NodeJS.Signals | null) => void onExit(code, signal);

async function onExit(code: number | null, signal: NodeJS.Signals | null) {
  if (restarting) return;
  try {
    const cleanup = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop database if exists "${dbName}" with (force)`);
    await cleanup.end();
  } catch (err) {
    process.stderr.write(`e2e: could not drop ${dbName}: ${(err as Error).message}\n`);
  }
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 0 : 1));
}
server.on('exit', exited);
