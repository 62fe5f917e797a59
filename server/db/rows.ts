import type { SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from './client';

/**
 * Decoders for raw SQL columns, the same under both drivers. postgres.js returns int8 (and so
 * `count(*)`, `sum(int)`) as a string, PGlite as a number; numeric (money) is a string under both;
 * drizzle leaves timestamptz as PostgreSQL's text under both. Each column is decoded here once,
 * so callers get the declared type instead of `Number(row.x)` at every use.
 */
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/** An integer column of any width (int4, int8, a count or a sum) as a JS number; past 2^53 is an error, never rounded. */
const integer = z.union([z.number(), z.string(), z.bigint()]).transform((value, ctx) => {
  const n = typeof value === 'string' ? (INTEGER_TEXT.test(value) ? Number(value) : NaN) : Number(value);
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: 'custom', message: `not a safe integer: ${String(value)}` });
    return z.NEVER;
  }
  return n;
});

/** A numeric (money, rates) column kept as PostgreSQL's decimal text: never through a JS float. */
const decimal = z.string().regex(DECIMAL_TEXT);

/** A timestamptz as the driver gives it (text under drizzle, a Date if a driver parses it). */
const time = z.union([z.string(), z.date()]);

export const col = {
  integer,
  integerOrNull: integer.nullable(),
  decimal,
  decimalOrNull: decimal.nullable(),
  text: z.string(),
  textOrNull: z.string().nullable(),
  bool: z.boolean(),
  time,
  timeOrNull: time.nullable(),
  /** An id (bigserial or text) as a string, the way the API carries ids. */
  id: z.union([z.string(), z.number(), z.bigint()]).transform(String),
  json: z.unknown(),
};

/** The shape of one raw row: an object of column decoders. */
export type RowSchema = z.ZodType<Record<string, unknown>>;

async function rawRows(db: DbOrTx, query: SQL): Promise<Record<string, unknown>[]> {
  const result: unknown = await db.execute(query);
  return Array.isArray(result) ? (result as Record<string, unknown>[]) : (result as { rows: Record<string, unknown>[] }).rows;
}

/**
 * Runs raw SQL and returns its rows parsed by `schema` (postgres.js returns an array, PGlite `{ rows }`).
 * A row that does not match is an error here, at the query, rather than a wrong number later.
 */
export async function queryRows<S extends RowSchema>(db: DbOrTx, schema: S, query: SQL): Promise<z.output<S>[]> {
  const rows = await rawRows(db, query);
  return rows.map((row) => schema.parse(row));
}

/** The first row of `queryRows`, parsed by `schema`, or undefined when there is none. */
export async function queryOne<S extends RowSchema>(db: DbOrTx, schema: S, query: SQL): Promise<z.output<S> | undefined> {
  const [row] = await rawRows(db, query);
  return row === undefined ? undefined : schema.parse(row);
}

/** `count(*)::int as n` read as a number (0 when no row). */
export const countRow = z.object({ n: col.integer });
