import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { adminSql, databaseUrl, testDatabaseName } from '../test/pg-admin';
import { repoRoot } from '../test/spawn';
import { openDb } from './client';
import { migrationsFolder } from './migrate';
import { col, queryOne } from './rows';

const run = promisify(execFile);
const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };

/** `npm run db:migrate` exactly as an operator runs it. */
const dbMigrate = (env: Record<string, string>) => run('npm', ['run', '--silent', 'db:migrate'], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, timeout: 120_000 });

async function appliedMigrations(url: string | undefined, dataDir: string) {
  const handle = await openDb({ databaseUrl: url, dataDir, maxConnections: 1 });
  try {
    const row = await queryOne(
      handle.db,
      z.object({ n: col.integer, tables: col.integer }),
      sql`select (select count(*)::int from drizzle.__drizzle_migrations) as n,
                 (select count(*)::int from information_schema.tables where table_schema = 'public' and table_name in ('users', 'credit_transactions', 'job_runs', 'installation')) as tables`,
    );
    return { migrations: row!.n, tables: row!.tables };
  } finally {
    await handle.close();
  }
}

// Each test spawns npm and tsx, and PGlite migrates slowly: generous limits for a busy machine.
describe('[JOBS] npm run db:migrate applies the migrations', { timeout: 150_000 }, () => {
  it('to an empty PostgreSQL database named by DATABASE_URL, and a second run changes nothing', async () => {
    const name = testDatabaseName();
    const admin = adminSql();
    await admin.unsafe(`create database "${name}"`);
    onTestFinished(async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-migrate-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const first = await dbMigrate({ DATABASE_URL: databaseUrl(name), DATA_DIR: dataDir });
    expect(first.stdout).toContain('Migrations applied to DATABASE_URL');
    expect(await appliedMigrations(databaseUrl(name), dataDir)).toEqual({ migrations: journal.entries.length, tables: 4 });
    await dbMigrate({ DATABASE_URL: databaseUrl(name), DATA_DIR: dataDir });
    expect(await appliedMigrations(databaseUrl(name), dataDir)).toEqual({ migrations: journal.entries.length, tables: 4 });
  });

  it('to the embedded PGlite under DATA_DIR when DATABASE_URL is unset', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-migrate-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const out = await dbMigrate({ DATABASE_URL: '', DATA_DIR: dataDir });
    expect(out.stdout).toContain(`the embedded database in ${dataDir}`);
    expect(await appliedMigrations(undefined, dataDir)).toEqual({ migrations: journal.entries.length, tables: 4 });
  });

  it('a bad DATABASE_URL stops it with one line naming the variable', async () => {
    const failed = await dbMigrate({ DATABASE_URL: 'mysql://nope' }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim()).toMatch(/^Invalid configuration: DATABASE_URL expects a URL starting with postgres/);
  });
});
