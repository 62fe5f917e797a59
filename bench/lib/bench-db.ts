import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openDb } from '../../server/db/client';
import { migrate } from '../../server/db/migrate';

/** The server's maintenance database; BENCH_DATABASE_URL overrides it. */
export const BENCH_PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const urlFor = (dbName: string) => {
  const url = new URL(BENCH_PG_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
};

export const adminSql = () => postgres(BENCH_PG_URL, { max: 1, onnotice: () => {} });

export async function postgresVersion(): Promise<string> {
  const sql = adminSql();
  try {
    const [row] = await sql<{ server_version: string }[]>`show server_version`;
    return row!.server_version.split(' ')[0]!;
  } finally {
    await sql.end();
  }
}

export type BenchDb = { name: string; url: string; dataDir: string; drop: () => Promise<void>; reused: boolean };

/**
 * A fresh `cd_bench_<random>` database migrated with the server's own migrations; drop() removes it.
 * With `keep`, the database is named `keep` and kept: drop() leaves it, and a later call with the
 * same name reuses it (migrated to the current schema, `reused` true), for a seed that takes long.
 */
export async function createBenchDb(opts: { keep?: string } = {}): Promise<BenchDb> {
  const name = opts.keep ?? `cd_bench_${randomBytes(5).toString('hex')}`;
  if (!/^cd_bench_[a-z0-9_]{1,40}$/.test(name)) throw new Error(`a kept bench database is named cd_bench_<letters, digits, _>, not ${name}`);
  const admin = adminSql();
  const [exists] = opts.keep ? await admin`select 1 from pg_database where datname = ${name}` : [];
  if (!exists) await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = urlFor(name);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-bench-'));
  const handle = await openDb({ databaseUrl: url, dataDir, maxConnections: 1 });
  try {
    await migrate(handle);
  } finally {
    await handle.close();
  }
  let dropped = false;
  return {
    name,
    url,
    dataDir,
    reused: !!exists,
    async drop() {
      if (dropped || opts.keep) return;
      dropped = true;
      const sql = adminSql();
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await sql.end();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
