import { sql, type SQL } from 'drizzle-orm';

/** A LIKE pattern matching values that start with `text` (its own % _ \ taken literally). */
export const prefixPattern = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A timestamptz column as an ISO-8601 UTC string, formatted by PostgreSQL (exports stream it as is). */
export const isoUtc = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The conditions joined by AND; none is `true`. */
export const allOf = (conditions: SQL[]) => (conditions.length ? sql.join(conditions, sql` and `) : sql`true`);
