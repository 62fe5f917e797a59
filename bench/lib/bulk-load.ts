import { performance } from 'node:perf_hooks';
import type { Sql } from 'postgres';
import { log } from './benchmark';

/** A session tuned for loading: no wait for the WAL flush, memory for sorts and index builds. */
export async function tuneForLoad(sql: Sql): Promise<void> {
  await sql`set synchronous_commit = off`;
  await sql`set maintenance_work_mem = '1GB'`;
  await sql`set work_mem = '256MB'`;
}

/**
 * Runs `load` with the table's secondary indexes and foreign keys dropped, then rebuilds them
 * exactly as they were (definitions read from the catalog) and validates the foreign keys again:
 * one sort per index instead of a B-tree insert per row, and no per-row foreign-key checks.
 * The primary key stays. `sql` must be a single connection (max: 1) so session settings hold.
 */
export async function withoutIndexes<T>(sql: Sql, table: string, load: () => Promise<T>): Promise<T> {
  const indexes = await sql<{ name: string; def: string }[]>`
    select i.indexname as name, i.indexdef as def from pg_indexes i
    where i.schemaname = 'public' and i.tablename = ${table}
      and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`;
  const fks = await sql<{ name: string; def: string }[]>`
    select conname as name, pg_get_constraintdef(oid) as def from pg_constraint
    where conrelid = ${`public.${table}`}::regclass and contype = 'f'`;
  for (const fk of fks) await sql.unsafe(`alter table "${table}" drop constraint "${fk.name}"`);
  for (const ix of indexes) await sql.unsafe(`drop index "${ix.name}"`);
  const result = await load();
  const t0 = performance.now();
  for (const ix of indexes) await sql.unsafe(ix.def);
  for (const fk of fks) await sql.unsafe(`alter table "${table}" add constraint "${fk.name}" ${fk.def}`);
  log(`  ${table}: ${indexes.length} indexes and ${fks.length} foreign keys rebuilt in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}
