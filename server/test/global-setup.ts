import type { TestProject } from 'vitest/node';
import { openDb } from '../db/client';
import { migrate } from '../db/migrate';
import { adminSql, databaseUrl, templateName, testDatabaseCreatedAt, TEST_PG_URL } from './pg-admin';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
  }
}

/** Migrates one template database per migration set; every test file clones it. */
export default async function setup(project: TestProject) {
  const sql = adminSql();
  try {
    await sql`select 1`;
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${TEST_PG_URL} (${(err as Error).message}). Run: bash .ci/ensure-services.sh`);
  }
  const name = templateName();
  const [exists] = await sql`select 1 from pg_database where datname = ${name}`;
  if (!exists) {
    const building = `${name}_building_${process.pid}`;
    await sql.unsafe(`create database "${building}"`);
    const handle = await openDb({ databaseUrl: databaseUrl(building), dataDir: '.data', maxConnections: 1 });
    await migrate(handle);
    await handle.close();
    // Renamed only once complete, so a crashed run never leaves a half-migrated template.
    await sql.unsafe(`alter database "${building}" rename to "${name}"`).catch(async () => {
      await sql.unsafe(`drop database if exists "${building}"`);
    });
  }
  // Leftovers of killed runs.
  const stale = await sql<{ datname: string }[]>`
    select datname from pg_database
    where starts_with(datname, 'cd_t_')`;
  for (const { datname } of stale) {
    const [{ age } = { age: 0 }] = await sql<{ age: number }[]>`
      select coalesce(extract(epoch from now() - max(backend_start)), 1e9)::int as age
      from pg_stat_activity where datname = ${datname}`;
    // Templates are kept: another checkout's run may be cloning one right now. Test databases still
    // in use hold connections; idle ones are leftovers of killed runs, unless just created (another
    // run on this machine may not have connected to it yet).
    const createdAt = testDatabaseCreatedAt(datname);
    const young = createdAt !== null && Date.now() - createdAt.getTime() < 3_600_000;
    if (age > 3600 && !young) await sql.unsafe(`drop database if exists "${datname}" with (force)`).catch(() => {});
  }
  await sql.end();
  project.provide('templateDb', name);
}
