import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Row, Sql } from 'postgres';

/** A client or a transaction: all a statement needs is `unsafe`. */
type Runner = Pick<Sql, 'unsafe'>;

/**
 * One of the app's own statements, compiled by drizzle once and run with postgres.js prepared, as
 * a floor: the SQL text is the app's byte for byte (a floor that restated it by hand went stale
 * when the app's charge changed), and a call costs only binding its values, no query building.
 * `build` is called once with sentinel strings for the per-call values; each call substitutes them.
 * `prepare` false sends it unnamed (the unprepared diagnostic).
 */
export function appStatement<K extends string>(build: (values: Record<K, string>) => SQL, names: readonly K[]) {
  const sentinels = Object.fromEntries(names.map((n, i) => [n, `bench-sentinel-${i}-${n}`])) as Record<K, string>;
  const { sql: text, params } = new PgDialect().sqlToQuery(build(sentinels));
  const slots = names.map((n) => params.flatMap((p, at) => (p === sentinels[n] ? [at] : [])));
  names.forEach((n, i) => {
    if (slots[i]!.length === 0) throw new Error(`appStatement: ${n} is not a parameter of the statement`);
  });
  return (db: Runner, values: Record<K, string>, prepare = true): Promise<Row[]> => {
    const bound = params.slice();
    names.forEach((n, i) => {
      for (const at of slots[i]!) bound[at] = values[n];
    });
    return db.unsafe(text, bound as never[], { prepare });
  };
}
