import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestEnv, type TestEnv } from '../test/harness';
import { openDb, type DbHandle } from './client';
import { compileSql } from './compiled-sql';
import { col, queryOne } from './rows';

let env: TestEnv;
let pglite: DbHandle;
let pgliteDir: string;
beforeAll(async () => {
  env = await createTestEnv();
  pgliteDir = mkdtempSync(path.join(os.tmpdir(), 'creditdesk-compiled-sql-'));
  pglite = await openDb({ dataDir: pgliteDir });
});
afterAll(async () => {
  await pglite.close();
  rmSync(pgliteDir, { recursive: true, force: true });
  await env.close();
});

const slots = { name: 'text', n: 'int', note: 'text?' } as const;
// Nested fragments, a repeated slot and constants, as the ledger's charge statements have.
const fragment = (n: number) => sql`${n}::int + ${2}`;
const build = (v: { name: string; n: number; note: string | null }) => sql`select ${v.name}::text as name, (${fragment(v.n)})::int as n, ${v.note}::text as note, ${v.name}::text = ${'fixed'} as same`;
const resultRow = z.object({ name: col.text, n: col.integer, note: col.text.nullable(), same: z.boolean() });

describe('[SQL] a compiled statement is the template it was built from, bound with new values', () => {
  it('has the same text and parameters as building the template with those values', () => {
    const compiled = compileSql(slots, build);
    const values = { name: 'ada', n: 40, note: null };
    expect(compiled.query(values)).toEqual(new PgDialect().sqlToQuery(build(values)));
  });

  it('runs through db.execute on PostgreSQL, inside a transaction, and on PGlite, with each call its own values', async () => {
    const compiled = compileSql(slots, build);
    const pg = env.deps.dbHandle.db;
    expect(await queryOne(pg, resultRow, compiled({ name: 'ada', n: 40, note: null }))).toEqual({ name: 'ada', n: 42, note: null, same: false });
    expect(await pg.transaction((tx) => queryOne(tx, resultRow, compiled({ name: 'fixed', n: 1, note: 'x' })))).toEqual({ name: 'fixed', n: 3, note: 'x', same: true });
    expect(await queryOne(pglite.db, resultRow, compiled({ name: 'bo', n: -5, note: 'y' }))).toEqual({ name: 'bo', n: -3, note: 'y', same: false });
  });
});

describe('[SQL] a statement that cannot be compiled is refused at start-up, not run with a stand-in value', () => {
  it('a parameter derived from a slot (-credits) is refused: it would be frozen at the stand-in', () => {
    expect(() => compileSql({ credits: 'int' }, (v) => sql`select ${-v.credits}::int`)).toThrow(/derived from a slot/);
    // The same value negated in SQL is a slot.
    expect(compileSql({ credits: 'int' }, (v) => sql`select -${v.credits}::int`).query({ credits: 3 }).params).toEqual([3]);
  });

  it('a text that depends on the values is refused: each shape is a statement of its own', () => {
    expect(() => compileSql({ column: 'text' }, (v) => sql`select ${sql.raw(v.column)}`)).toThrow(/text depends on its values/);
    // A shape chosen by a null is caught too, though the stand-ins of a nullable slot are strings.
    expect(() => compileSql({ note: 'text?' }, (v) => sql`select ${v.note ?? sql`'none'`}`)).toThrow(/text depends on its values/);
    expect(() => compileSql({ latency: 'int?' }, (v) => sql`select ${v.latency ?? sql`0`}`)).toThrow(/text depends on its values/);
    // A nullable integer bound as it is runs either way.
    expect(compileSql({ latency: 'int?' }, (v) => sql`select ${v.latency}::int`).query({ latency: null }).params).toEqual([null]);
  });

  it('a slot the statement never binds is refused', () => {
    expect(() => compileSql({ userId: 'text', unused: 'text' }, (v) => sql`select ${v.userId}`)).toThrow(/unused is not a parameter/);
  });

  it('a compiled statement spliced into another template throws instead of vanishing from it', () => {
    const compiled = compileSql({ n: 'int' }, (v) => sql`select ${v.n}`);
    expect(() => new PgDialect().sqlToQuery(sql`with x as (${compiled({ n: 1 })}) select * from x`)).toThrow(/cannot be part of another statement/);
  });
});
